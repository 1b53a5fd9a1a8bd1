"""The TypeScript version's REST protocol, `POST /api/<path>`: every row of the table of docs/rest.md, its
errors and their statuses, and bodies rejected before any action runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests import assembled

from .helpers import REQUESTS, SESSIONS, USERS, Api, assert_expiry

UNKNOWN_ID = "0123456789abcdef01234567"


def error_of(response: Any, status: int, code: str) -> str:
    """The response is `{error, code}` with this status and code; its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "code"}, body
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


def ok(response: Any, **expected: Any) -> dict[str, Any]:
    """A 200 whose body holds at least `expected`."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert expected.items() <= body.items(), body
    return body


async def logs_in(api: Api, username: str, password: str) -> bool:
    return (await api.rest("/UserAuthentication/authenticate", {"username": username, "password": password})).is_success


# -- the table of docs/rest.md ------------------------------------------------------------------

REST_PAGE = Path(__file__).resolve().parents[2] / "docs" / "rest.md"


def test_the_rest_page_has_a_row_for_every_route_with_its_body() -> None:
    """Each row of the page's table names a route and exactly the keys its body takes
    (`?` marks an optional one; the session, which may come as a bearer token instead,
    is marked by its name alone); every route has a row."""
    rows = dict(re.findall(r"^\| `(/[^`]+)` \| ([^|]*) \|", REST_PAGE.read_text(encoding="utf-8"), re.M))
    routes = {
        route.path: {f"{name.name}{'?' if name.optional and name.name != 'session' else ''}" for name in route.inputs}
        for route in assembled.routes()
    }

    assert set(rows) == set(routes)
    assert {path: {key.strip() for key in body.split(",") if key.strip()} for path, body in rows.items()} == routes


# -- register ---------------------------------------------------------------------------------


async def test_rest_register_answers_user_and_session(api: Api) -> None:
    response = await api.rest("/UserAuthentication/register", {"username": "alice", "password": "correct horse"})

    body = ok(response)
    assert isinstance(body["user"], str) and body["user"]
    assert isinstance(body["session"], str) and body["session"]
    assert "password" not in body
    if "expiresAt" in body:
        assert_expiry(body["expiresAt"])
    assert await api.me(body["session"]) == {"id": body["user"], "username": "alice"}


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("ALICE", "correct horse", "USERNAME_TAKEN"),
        ("a", "correct horse", "INVALID_USERNAME"),
        ("bob", "short", "WEAK_PASSWORD"),
    ],
)
async def test_rest_register_domain_errors_are_400(api: Api, username: str, password: str, code: str) -> None:
    await api.register("alice")

    response = await api.rest("/UserAuthentication/register", {"username": username, "password": password})

    error_of(response, 400, code)
    assert await api.count(USERS) == 1


# -- authenticate and login ---------------------------------------------------------------------


async def test_rest_authenticate_answers_user_and_session(api: Api) -> None:
    user, _ = await api.register("alice")

    response = await api.rest("/UserAuthentication/authenticate", {"username": "Alice", "password": "correct horse"})

    body = ok(response, user=user)
    assert await api.me(body["session"]) == {"id": user, "username": "alice"}


async def test_rest_authenticate_unknown_user_and_wrong_password_are_the_same_400(api: Api) -> None:
    await api.register("alice")

    unknown = await api.rest("/UserAuthentication/authenticate", {"username": "bob", "password": "correct horse"})
    wrong = await api.rest("/UserAuthentication/authenticate", {"username": "alice", "password": "wrong horse"})

    assert error_of(unknown, 400, "INVALID_CREDENTIALS") == error_of(wrong, 400, "INVALID_CREDENTIALS")
    assert unknown.json() == wrong.json()


async def test_rest_login_answers_a_session(api: Api) -> None:
    user, _ = await api.register("alice")

    response = await api.rest("/login", {"username": "alice", "password": "correct horse"})

    body = ok(response)
    assert isinstance(body["session"], str)
    assert "password" not in body
    assert await api.me(body["session"]) == {"id": user, "username": "alice"}


async def test_rest_login_with_a_wrong_password_is_400(api: Api) -> None:
    await api.register("alice")

    error_of(await api.rest("/login", {"username": "alice", "password": "wrong horse"}), 400, "INVALID_CREDENTIALS")
    assert await api.count(SESSIONS) == 1


# -- logout ------------------------------------------------------------------------------------------


async def test_rest_logout_revokes_that_session(api: Api) -> None:
    _, token = await api.register("alice")
    other = await api.authenticate("alice")

    response = await api.rest("/logout", {"session": token})

    ok(response, status="logged_out")
    assert await api.me(token) is None
    assert await api.me(other) is not None


async def test_rest_logout_accepts_the_bearer_header(api: Api) -> None:
    _, token = await api.register("alice")

    response = await api.http.post("/api/logout", json={}, headers={"Authorization": f"Bearer {token}"})

    ok(response, status="logged_out")
    assert await api.me(token) is None


@pytest.mark.parametrize("body", [{}, {"session": "garbage"}])
async def test_rest_logout_without_a_valid_session_is_401(api: Api, body: dict[str, Any]) -> None:
    error_of(await api.rest("/logout", body), 401, "UNAUTHENTICATED")


async def test_rest_logout_twice_is_401(api: Api) -> None:
    _, token = await api.register("alice")
    await api.rest("/logout", {"session": token})

    error_of(await api.rest("/logout", {"session": token}), 401, "UNAUTHENTICATED")


# -- changePassword --------------------------------------------------------------------------------

CHANGE = "/UserAuthentication/changePassword"


@pytest.mark.parametrize("give_user", [True, False])
async def test_rest_change_password_answers_password_changed(api: Api, give_user: bool) -> None:
    user, token = await api.register("alice", "old password")
    other = await api.authenticate("alice", "old password")
    body = {"session": token, "oldPassword": "old password", "newPassword": "new password"}
    if give_user:
        body["user"] = user

    response = await api.rest(CHANGE, body)

    ok(response, status="password_changed")
    assert await logs_in(api, "alice", "new password")
    assert not await logs_in(api, "alice", "old password")
    assert await api.me(token) is not None
    assert await api.me(other) is None


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [("wrong password", "new password", "INVALID_CREDENTIALS"), ("old password", "short", "WEAK_PASSWORD")],
)
async def test_rest_change_password_domain_errors_are_400(api: Api, old: str, new: str, code: str) -> None:
    _, token = await api.register("alice", "old password")

    response = await api.rest(CHANGE, {"session": token, "oldPassword": old, "newPassword": new})

    error_of(response, 400, code)
    assert await logs_in(api, "alice", "old password")


@pytest.mark.parametrize("session", [None, "garbage"])
async def test_rest_change_password_without_a_valid_session_is_401(api: Api, session: str | None) -> None:
    user, _ = await api.register("alice", "old password")
    body = {"user": user, "oldPassword": "old password", "newPassword": "new password"}
    if session is not None:
        body["session"] = session

    error_of(await api.rest(CHANGE, body), 401, "UNAUTHENTICATED")
    assert await logs_in(api, "alice", "old password")


async def test_rest_change_password_of_another_user_is_403(api: Api) -> None:
    _, alice = await api.register("alice")
    bob, _ = await api.register("bob", "bob password")

    response = await api.rest(
        CHANGE, {"session": alice, "user": bob, "oldPassword": "bob password", "newPassword": "new password"}
    )

    error_of(response, 403, "FORBIDDEN")
    assert await logs_in(api, "bob", "bob password")


# -- deleteAccount ------------------------------------------------------------------------------------

DELETE = "/UserAuthentication/deleteAccount"


@pytest.mark.parametrize("give_user", [True, False])
async def test_rest_delete_account_answers_account_deleted(api: Api, give_user: bool) -> None:
    user, token = await api.register("alice")
    other = await api.authenticate("alice")
    _, bob = await api.register("bob")
    body = {"session": token, "user": user} if give_user else {"session": token}

    response = await api.rest(DELETE, body)

    ok(response, status="account_deleted")
    assert ok(await api.rest("/UserAuthentication/_checkUserExists", {"session": bob, "user": user})) == {
        "exists": False
    }
    assert await api.me(token) is None
    assert await api.me(other) is None
    assert await api.count(USERS) == 1


@pytest.mark.parametrize("session", [None, "garbage"])
async def test_rest_delete_account_without_a_valid_session_is_401(api: Api, session: str | None) -> None:
    user, _ = await api.register("alice")
    body = {"user": user} if session is None else {"user": user, "session": session}

    error_of(await api.rest(DELETE, body), 401, "UNAUTHENTICATED")
    assert await api.count(USERS) == 1


async def test_rest_delete_account_of_another_user_is_403(api: Api) -> None:
    _, alice = await api.register("alice")
    bob, _ = await api.register("bob")

    error_of(await api.rest(DELETE, {"session": alice, "user": bob}), 403, "FORBIDDEN")
    assert await api.count(USERS) == 2


# -- queries -------------------------------------------------------------------------------------------

EXISTS = "/UserAuthentication/_checkUserExists"
ALL = "/UserAuthentication/_getAllUsers"
NAME = "/UserAuthentication/_getUsernameById"


async def test_rest_check_user_exists_answers_exists(api: Api) -> None:
    user, token = await api.register("alice")

    assert ok(await api.rest(EXISTS, {"session": token, "user": user})) == {"exists": True}
    assert ok(await api.rest(EXISTS, {"session": token, "user": UNKNOWN_ID})) == {"exists": False}
    assert ok(await api.rest(EXISTS, {"session": token, "user": "malformed"})) == {"exists": False}


async def test_rest_get_all_users_answers_results(api: Api) -> None:
    alice, token = await api.register("alice")
    bob, _ = await api.register("bob")
    expected = sorted([{"user": alice, "username": "alice"}, {"user": bob, "username": "bob"}], key=lambda r: r["user"])

    assert ok(await api.rest(ALL, {"session": token})) == {"results": expected}
    assert ok(await api.rest(ALL, {"session": token, "first": 1})) == {"results": expected[:1]}
    assert ok(await api.rest(ALL, {"session": token, "first": 1, "after": expected[0]["user"]})) == {
        "results": expected[1:]
    }


async def test_rest_get_all_users_answers_at_most_100_by_default(api: Api) -> None:
    _, token = await api.register("alice")
    await api.mongo[api.db_name][USERS].insert_many(
        [{"username": f"user{i:03}", "key": f"user{i:03}", "password_hash": "x"} for i in range(120)]
    )

    results = ok(await api.rest(ALL, {"session": token}))["results"]

    assert len(results) == 100
    assert [row["user"] for row in results] == sorted(row["user"] for row in results)


@pytest.mark.parametrize("first", [0, 1001])
async def test_rest_get_all_users_with_first_out_of_range_is_400(api: Api, first: int) -> None:
    _, token = await api.register("alice")

    error_of(await api.rest(ALL, {"session": token, "first": first}), 400, "BAD_USER_INPUT")


async def test_rest_get_username_by_id_answers_username(api: Api) -> None:
    user, token = await api.register("Alice")

    assert ok(await api.rest(NAME, {"session": token, "user": user})) == {"username": "Alice"}
    assert ok(await api.rest(NAME, {"session": token, "user": UNKNOWN_ID})) == {"username": None}
    assert ok(await api.rest(NAME, {"session": token, "user": "malformed"})) == {"username": None}


@pytest.mark.parametrize(("path", "extra"), [(EXISTS, {"user": UNKNOWN_ID}), (ALL, {}), (NAME, {"user": UNKNOWN_ID})])
@pytest.mark.parametrize("session", [None, "garbage"])
async def test_rest_queries_without_a_valid_session_are_401(
    api: Api, path: str, extra: dict[str, Any], session: str | None
) -> None:
    body = extra if session is None else {**extra, "session": session}

    error_of(await api.rest(path, body), 401, "UNAUTHENTICATED")


# -- unknown paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/UserAuthentication/_getUser", "/Sessioning/create", "/"])
async def test_rest_unknown_path_is_404(api: Api, path: str) -> None:
    response = await api.rest(path, {"username": "alice", "password": "correct horse"})

    error_of(response, 404, "NOT_FOUND")
    assert await api.count(USERS) == 0


# -- invalid bodies: 400, and nothing happens ----------------------------------------------------------

INVALID_REGISTER_BODIES: dict[str, bytes] = {
    "not JSON": b"username=alice&password=correct+horse",
    "truncated JSON": b'{"username": "alice", "password": "correct',
    "an array": b'[{"username": "alice", "password": "correct horse"}]',
    "a string": b'"alice"',
    "null": b"null",
    "an operator object": b'{"username": {"$gt": ""}, "password": "correct horse"}',
    "a number": b'{"username": 12345, "password": "correct horse"}',
    "a boolean": b'{"username": "alice", "password": true}',
    "a list": b'{"username": ["alice"], "password": "correct horse"}',
    "an unknown key": b'{"username": "alice", "password": "correct horse", "admin": true}',
    "a missing field": b'{"username": "alice"}',
}


@pytest.mark.parametrize("content", INVALID_REGISTER_BODIES.values(), ids=INVALID_REGISTER_BODIES.keys())
async def test_rest_invalid_register_body_is_400_and_creates_nothing(api: Api, content: bytes) -> None:
    response = await api.rest("/UserAuthentication/register", content=content)

    error_of(response, 400, "BAD_USER_INPUT")
    await api.flush()
    assert await api.count(USERS) == 0
    assert await api.count(SESSIONS) == 0
    assert await api.count(REQUESTS) == 0  # no request was even made


@pytest.mark.parametrize(
    "body",
    [
        {"username": {"$gt": ""}, "password": {"$gt": ""}},
        {"username": "alice", "password": {"$ne": "x"}},
        {"username": {"$regex": ".*"}, "password": "correct horse"},
    ],
)
@pytest.mark.parametrize("path", ["/UserAuthentication/authenticate", "/login"])
async def test_rest_operator_objects_cannot_log_in(api: Api, path: str, body: dict[str, Any]) -> None:
    await api.register("alice")

    error_of(await api.rest(path, body), 400, "BAD_USER_INPUT")
    assert await api.count(SESSIONS) == 1  # the registration's only


async def test_rest_wrong_typed_new_password_is_400_and_changes_nothing(api: Api) -> None:
    _, token = await api.register("alice", "old password")
    other = await api.authenticate("alice", "old password")

    response = await api.rest(CHANGE, {"session": token, "oldPassword": "old password", "newPassword": 12345678})

    error_of(response, 400, "BAD_USER_INPUT")
    assert await logs_in(api, "alice", "old password")
    assert await api.me(other) is not None


async def test_rest_operator_object_as_user_is_400_and_deletes_nothing(api: Api) -> None:
    _, token = await api.register("alice")

    error_of(await api.rest(DELETE, {"session": token, "user": {"$ne": ""}}), 400, "BAD_USER_INPUT")
    assert await api.count(USERS) == 1
    assert await api.me(token) is not None


async def test_rest_operator_object_as_session_is_400(api: Api) -> None:
    await api.register("alice")

    error_of(await api.rest(ALL, {"session": {"$ne": ""}}), 400, "BAD_USER_INPUT")


async def test_rest_first_as_a_string_is_400(api: Api) -> None:
    _, token = await api.register("alice")

    error_of(await api.rest(ALL, {"session": token, "first": "10"}), 400, "BAD_USER_INPUT")
