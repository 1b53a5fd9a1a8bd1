"""GraphQL checkUserExists, usernameById and allUsers, end to end over HTTP."""

from __future__ import annotations

import pytest

from .helpers import Api, assert_gql_error

CHECK = "query Check($user: ID!) { checkUserExists(user: $user) }"
USERNAME = "query Name($user: ID!) { usernameById(user: $user) }"
ALL = "query All($first: Int!, $after: ID) { allUsers(first: $first, after: $after) { id username } }"
ALL_DEFAULT = "{ allUsers { id username } }"

UNKNOWN_ID = "0123456789abcdef01234567"  # a well-formed ObjectId naming nobody
MALFORMED = ["not-an-id", "", "0123", '{"$gt": ""}', "zzzzzzzzzzzzzzzzzzzzzzzz"]


# -- checkUserExists ----------------------------------------------------------------------


async def test_check_user_exists_is_true_for_a_user(api: Api) -> None:
    alice, token = await api.register("alice")
    bob, _ = await api.register("bob")

    assert await api.gql(CHECK, {"user": bob}, token=token) == {"data": {"checkUserExists": True}}
    assert await api.gql(CHECK, {"user": alice}, token=token) == {"data": {"checkUserExists": True}}


@pytest.mark.parametrize("user", [UNKNOWN_ID, *MALFORMED])
async def test_check_user_exists_is_false_for_an_unknown_or_malformed_id(api: Api, user: str) -> None:
    _, token = await api.register("alice")

    assert await api.gql(CHECK, {"user": user}, token=token) == {"data": {"checkUserExists": False}}


@pytest.mark.parametrize("token", [None, "garbage"])
async def test_check_user_exists_without_a_session_is_unauthenticated(api: Api, token: str | None) -> None:
    user, _ = await api.register("alice")

    assert_gql_error(await api.gql(CHECK, {"user": user}, token=token), "UNAUTHENTICATED")


# -- usernameById ---------------------------------------------------------------------------


async def test_username_by_id_is_the_users_name(api: Api) -> None:
    _, token = await api.register("alice")
    bob, _ = await api.register("Bob")

    assert await api.gql(USERNAME, {"user": bob}, token=token) == {"data": {"usernameById": "Bob"}}


@pytest.mark.parametrize("user", [UNKNOWN_ID, *MALFORMED])
async def test_username_by_id_is_null_for_an_unknown_or_malformed_id(api: Api, user: str) -> None:
    _, token = await api.register("alice")

    assert await api.gql(USERNAME, {"user": user}, token=token) == {"data": {"usernameById": None}}


@pytest.mark.parametrize("token", [None, "garbage"])
async def test_username_by_id_without_a_session_is_unauthenticated(api: Api, token: str | None) -> None:
    user, _ = await api.register("alice")

    assert_gql_error(await api.gql(USERNAME, {"user": user}, token=token), "UNAUTHENTICATED", "usernameById")


# -- allUsers -----------------------------------------------------------------------------------


async def register_many(api: Api, names: list[str]) -> tuple[list[dict[str, str]], str]:
    """The users as allUsers lists them (by id), and a session of the first."""
    users, token = [], ""
    for name in names:
        user, session = await api.register(name)
        users.append({"id": user, "username": name})
        token = token or session
    return sorted(users, key=lambda user: user["id"]), token


async def test_all_users_lists_every_user_ordered_by_id(api: Api) -> None:
    users, token = await register_many(api, ["carol", "alice", "bob"])

    body = await api.gql(ALL_DEFAULT, token=token)

    assert body == {"data": {"allUsers": users}}


async def test_all_users_pages_with_first_and_after(api: Api) -> None:
    users, token = await register_many(api, ["user1", "user2", "user3", "user4", "user5"])

    page1 = await api.gql(ALL, {"first": 2}, token=token)
    page2 = await api.gql(ALL, {"first": 2, "after": users[1]["id"]}, token=token)
    page3 = await api.gql(ALL, {"first": 2, "after": users[3]["id"]}, token=token)
    past = await api.gql(ALL, {"first": 2, "after": users[4]["id"]}, token=token)

    assert page1 == {"data": {"allUsers": users[0:2]}}
    assert page2 == {"data": {"allUsers": users[2:4]}}
    assert page3 == {"data": {"allUsers": users[4:5]}}
    assert past == {"data": {"allUsers": []}}


async def test_all_users_accepts_first_1000(api: Api) -> None:
    users, token = await register_many(api, ["alice"])

    assert await api.gql(ALL, {"first": 1000}, token=token) == {"data": {"allUsers": users}}


@pytest.mark.parametrize("first", [0, -1, 1001, 5000])
async def test_all_users_with_first_out_of_range_is_bad_user_input(api: Api, first: int) -> None:
    _, token = await api.register("alice")

    assert_gql_error(await api.gql(ALL, {"first": first}, token=token), "BAD_USER_INPUT")


@pytest.mark.parametrize("token", [None, "garbage"])
async def test_all_users_without_a_session_is_unauthenticated(api: Api, token: str | None) -> None:
    await api.register("alice")

    assert_gql_error(await api.gql(ALL_DEFAULT, token=token), "UNAUTHENTICATED")


async def test_all_users_without_a_session_and_bad_first_is_unauthenticated(api: Api) -> None:
    await api.register("alice")

    assert_gql_error(await api.gql(ALL, {"first": 0}), "UNAUTHENTICATED")
