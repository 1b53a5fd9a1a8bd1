"""GraphQL changePassword and deleteAccount, end to end over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import AUTHENTICATE, CHANGE_OWN_PASSWORD, SESSIONS, USERS, Api, assert_gql_error

CHANGE_PASSWORD = """
mutation Change($old: String!, $new: String!, $user: ID) {
  changePassword(oldPassword: $old, newPassword: $new, user: $user) {
    __typename
    ... on ChangePasswordSuccess { user { id username } }
    ... on UserError { code message }
  }
}
"""


DELETE_ACCOUNT = """
mutation Delete($user: ID) {
  deleteAccount(user: $user) {
    __typename
    ... on DeleteAccountSuccess { user }
    ... on UserError { code message }
  }
}
"""

DELETE_ACCOUNT_NO_USER = """
mutation { deleteAccount { __typename ... on DeleteAccountSuccess { user } ... on UserError { code message } } }
"""

CHECK = "query Check($user: ID!) { checkUserExists(user: $user) }"


async def change(api: Api, token: str | None, old: str, new: str, user: str | None = None) -> dict[str, Any]:
    return await api.gql(CHANGE_PASSWORD, {"old": old, "new": new, "user": user}, token=token)  # type: ignore[no-any-return]


async def authenticates(api: Api, username: str, password: str) -> bool:
    body = await api.gql(AUTHENTICATE, {"username": username, "password": password})
    return body["data"]["authenticate"]["__typename"] == "AuthSuccess"  # type: ignore[no-any-return]


# -- changePassword ----------------------------------------------------------------------


async def test_change_password_returns_the_user(api: Api) -> None:
    user, token = await api.register("alice", "old password")

    body = await api.gql(CHANGE_OWN_PASSWORD, {"old": "old password", "new": "new password"}, token=token)

    assert body == {
        "data": {"changePassword": {"__typename": "ChangePasswordSuccess", "user": {"id": user, "username": "alice"}}}
    }


async def test_change_password_replaces_the_password(api: Api) -> None:
    _, token = await api.register("alice", "old password")

    await change(api, token, "old password", "new password")

    assert not await authenticates(api, "alice", "old password")
    assert await authenticates(api, "alice", "new password")


async def test_change_password_accepts_the_sessions_own_user(api: Api) -> None:
    user, token = await api.register("alice", "old password")

    body = await change(api, token, "old password", "new password", user=user)

    assert body["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess", body
    assert await authenticates(api, "alice", "new password")


async def test_change_password_keeps_the_current_session_and_revokes_the_others(api: Api) -> None:
    _, current = await api.register("alice", "old password")
    other = await api.authenticate("alice", "old password")
    bob_user, bob = await api.register("bob")

    await change(api, current, "old password", "new password")

    assert await api.me(current) is not None
    assert await api.me(other) is None
    assert await api.me(bob) == {"id": bob_user, "username": "bob"}
    assert await api.count(SESSIONS) == 2


async def test_change_password_with_a_wrong_old_password_is_invalid_credentials(api: Api) -> None:
    _, token = await api.register("alice", "old password")
    other = await api.authenticate("alice", "old password")

    body = await change(api, token, "not my password", "new password")

    result = body["data"]["changePassword"]
    assert result["__typename"] == "UserError"
    assert result["code"] == "INVALID_CREDENTIALS"
    assert await authenticates(api, "alice", "old password")
    assert await api.me(other) is not None  # a failed change revokes nothing


@pytest.mark.parametrize("new", ["short", "x" * 257])
async def test_change_password_to_a_weak_one_is_weak_password(api: Api, new: str) -> None:
    _, token = await api.register("alice", "old password")

    body = await change(api, token, "old password", new)

    assert body["data"]["changePassword"]["__typename"] == "UserError"
    assert body["data"]["changePassword"]["code"] == "WEAK_PASSWORD"
    assert await authenticates(api, "alice", "old password")


async def test_change_password_of_another_user_is_forbidden_and_changes_nothing(api: Api) -> None:
    _, alice = await api.register("alice", "alice password")
    bob_user, _ = await api.register("bob", "bob password")
    bob_other = await api.authenticate("bob", "bob password")

    body = await change(api, alice, "bob password", "hijacked password", user=bob_user)

    assert_gql_error(body, "FORBIDDEN")
    assert await authenticates(api, "bob", "bob password")
    assert not await authenticates(api, "bob", "hijacked password")
    assert await authenticates(api, "alice", "alice password")
    assert await api.me(bob_other) is not None


@pytest.mark.parametrize("token", [None, "garbage"])
async def test_change_password_without_a_session_is_unauthenticated(api: Api, token: str | None) -> None:
    await api.register("alice", "old password")

    body = await change(api, token, "old password", "new password")

    assert_gql_error(body, "UNAUTHENTICATED")
    assert await authenticates(api, "alice", "old password")


async def test_change_password_after_logout_is_unauthenticated(api: Api) -> None:
    _, token = await api.register("alice", "old password")
    await api.gql("mutation { logout { ok } }", token=token)

    body = await change(api, token, "old password", "new password")

    assert_gql_error(body, "UNAUTHENTICATED")
    assert await authenticates(api, "alice", "old password")


# -- deleteAccount -------------------------------------------------------------------------


async def test_delete_account_returns_the_user_id(api: Api) -> None:
    user, token = await api.register("alice")

    body = await api.gql(DELETE_ACCOUNT_NO_USER, token=token)

    assert body == {"data": {"deleteAccount": {"__typename": "DeleteAccountSuccess", "user": user}}}


async def test_delete_account_removes_the_user(api: Api) -> None:
    user, token = await api.register("alice")
    _, bob = await api.register("bob")

    await api.gql(DELETE_ACCOUNT, {"user": user}, token=token)

    assert (await api.gql(CHECK, {"user": user}, token=bob))["data"] == {"checkUserExists": False}
    assert not await authenticates(api, "alice", "correct horse")
    assert await api.count(USERS) == 1


async def test_delete_account_revokes_all_the_users_sessions(api: Api) -> None:
    _, token = await api.register("alice")
    other = await api.authenticate("alice")
    bob_user, bob = await api.register("bob")

    await api.gql(DELETE_ACCOUNT_NO_USER, token=token)

    assert await api.me(token) is None
    assert await api.me(other) is None
    assert await api.me(bob) == {"id": bob_user, "username": "bob"}
    assert await api.count(SESSIONS) == 1


async def test_delete_account_frees_the_username(api: Api) -> None:
    user, token = await api.register("alice")
    await api.gql(DELETE_ACCOUNT_NO_USER, token=token)

    new_user, _ = await api.register("Alice")

    assert new_user != user


async def test_delete_account_of_another_user_is_forbidden_and_deletes_nothing(api: Api) -> None:
    _, alice = await api.register("alice")
    bob_user, bob = await api.register("bob")

    body = await api.gql(DELETE_ACCOUNT, {"user": bob_user}, token=alice)

    assert_gql_error(body, "FORBIDDEN")
    assert await api.count(USERS) == 2
    assert await api.me(bob) == {"id": bob_user, "username": "bob"}
    assert await api.me(alice) is not None


@pytest.mark.parametrize("token", [None, "garbage"])
async def test_delete_account_without_a_session_is_unauthenticated(api: Api, token: str | None) -> None:
    user, _ = await api.register("alice")

    body = await api.gql(DELETE_ACCOUNT, {"user": user}, token=token)

    assert_gql_error(body, "UNAUTHENTICATED")
    assert await api.count(USERS) == 1


async def test_delete_account_twice_with_the_same_session_is_unauthenticated(api: Api) -> None:
    _, token = await api.register("alice")
    await api.gql(DELETE_ACCOUNT_NO_USER, token=token)

    body = await api.gql(DELETE_ACCOUNT_NO_USER, token=token)

    assert_gql_error(body, "UNAUTHENTICATED")
