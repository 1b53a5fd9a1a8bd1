"""GraphQL register, authenticate, me and logout, end to end over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.concepts.sessioning import Sessioning
from tests.concepts.helpers import StillClock

from .helpers import AUTHENTICATE, REGISTER, SESSIONS, USERS, Api, assert_expiry, assert_gql_error

LOGOUT = "mutation { logout { ok } }"


# -- register ---------------------------------------------------------------------------


async def test_register_returns_the_user_a_session_and_its_future_expiry(api: Api) -> None:
    body = await api.gql(REGISTER, {"username": "Alice", "password": "correct horse"})

    assert "errors" not in body, body
    result = body["data"]["register"]
    assert result["__typename"] == "AuthSuccess"
    assert result["user"]["username"] == "Alice"
    assert result["user"]["id"]
    assert isinstance(result["session"], str) and result["session"]
    assert_expiry(result["expiresAt"])
    assert await api.me(result["session"]) == result["user"]
    assert await api.count(USERS) == 1


@pytest.mark.parametrize("second", ["alice", "Alice", "ALICE"])
async def test_register_rejects_a_username_taken_in_any_case(api: Api, second: str) -> None:
    await api.register("alice")

    body = await api.gql(REGISTER, {"username": second, "password": "another password"})

    assert "errors" not in body, body
    result = body["data"]["register"]
    assert result["__typename"] == "UserError"
    assert result["code"] == "USERNAME_TAKEN"
    assert result["message"]
    assert await api.count(USERS) == 1


@pytest.mark.parametrize("username", ["ab", "x" * 33, "has space", "ünïcode", "semi;colon", "alice\n", ""])
async def test_register_rejects_an_invalid_username(api: Api, username: str) -> None:
    body = await api.gql(REGISTER, {"username": username, "password": "correct horse"})

    assert "errors" not in body, body
    assert body["data"]["register"]["__typename"] == "UserError"
    assert body["data"]["register"]["code"] == "INVALID_USERNAME"
    assert await api.count(USERS) == 0


@pytest.mark.parametrize("password", ["", "seven77", "x" * 257])
async def test_register_rejects_a_weak_password(api: Api, password: str) -> None:
    body = await api.gql(REGISTER, {"username": "alice", "password": password})

    assert "errors" not in body, body
    assert body["data"]["register"]["__typename"] == "UserError"
    assert body["data"]["register"]["code"] == "WEAK_PASSWORD"
    assert await api.count(USERS) == 0


async def test_register_accepts_the_longest_username_and_password(api: Api) -> None:
    # Password length counts code points: 256 of them in 768 UTF-8 bytes.
    body = await api.gql(REGISTER, {"username": "a" * 32, "password": "€" * 256})

    assert body["data"]["register"]["__typename"] == "AuthSuccess", body


# -- authenticate ------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["Alice", "alice", "ALICE"])
async def test_authenticate_accepts_the_username_in_any_case(api: Api, spelling: str) -> None:
    user, _ = await api.register("Alice", "correct horse")

    body = await api.gql(AUTHENTICATE, {"username": spelling, "password": "correct horse"})

    assert "errors" not in body, body
    result = body["data"]["authenticate"]
    assert result["__typename"] == "AuthSuccess"
    assert result["user"] == {"id": user, "username": "Alice"}
    assert_expiry(result["expiresAt"])
    assert await api.me(result["session"]) == {"id": user, "username": "Alice"}


async def test_authenticate_creates_a_new_session_each_time(api: Api) -> None:
    _, registered = await api.register("alice")

    first = await api.authenticate("alice")
    second = await api.authenticate("alice")

    assert len({registered, first, second}) == 3
    assert await api.count(SESSIONS) == 3
    for token in (registered, first, second):
        assert await api.me(token) is not None


async def test_authenticate_gives_the_same_error_for_an_unknown_user_and_a_wrong_password(api: Api) -> None:
    await api.register("alice", "correct horse")

    unknown = await api.gql(AUTHENTICATE, {"username": "bob", "password": "correct horse"})
    wrong = await api.gql(AUTHENTICATE, {"username": "alice", "password": "wrong horse"})
    invalid = await api.gql(AUTHENTICATE, {"username": "no such user!", "password": "x"})

    assert "errors" not in unknown and "errors" not in wrong and "errors" not in invalid
    assert unknown["data"]["authenticate"]["__typename"] == "UserError"
    assert unknown["data"]["authenticate"]["code"] == "INVALID_CREDENTIALS"
    assert unknown["data"]["authenticate"]["message"]
    assert wrong["data"] == unknown["data"]
    assert invalid["data"] == unknown["data"]
    assert await api.count(SESSIONS) == 1  # only the registration's


# -- me --------------------------------------------------------------------------------------


async def test_me_is_the_sessions_user(api: Api) -> None:
    user, token = await api.register("alice")

    assert await api.me(token) == {"id": user, "username": "alice"}


async def test_me_without_a_session_is_null(api: Api) -> None:
    await api.register("alice")

    assert await api.me(None) is None


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
async def test_me_with_a_garbage_token_is_null_without_error(api: Api, token: str) -> None:
    await api.register("alice")

    assert await api.me(token) is None


async def test_me_with_a_token_signed_by_another_key_is_null(api: Api) -> None:
    _, token = await api.register("alice")
    claims = jwt.decode(token, options={"verify_signature": False})

    forged = jwt.encode(claims, "another key of at least thirty-two bytes", algorithm="HS256")

    assert await api.me(forged) is None
    assert await api.me(token) is not None


async def test_me_with_a_tampered_token_is_null(api: Api) -> None:
    _, token = await api.register("alice")
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert await api.me(f"{header}.{payload}.{flipped}") is None


# -- logout ----------------------------------------------------------------------------------


async def test_logout_revokes_only_that_session(api: Api) -> None:
    user, first = await api.register("alice")
    second = await api.authenticate("alice")

    body = await api.gql(LOGOUT, token=first)

    assert body == {"data": {"logout": {"ok": True}}}
    assert await api.me(first) is None
    assert await api.me(second) == {"id": user, "username": "alice"}


async def test_a_second_logout_of_the_same_session_is_unauthenticated(api: Api) -> None:
    _, token = await api.register("alice")
    await api.gql(LOGOUT, token=token)

    body = await api.gql(LOGOUT, token=token)

    assert_gql_error(body, "UNAUTHENTICATED")


async def test_logout_without_a_session_is_unauthenticated(api: Api) -> None:
    _, token = await api.register("alice")

    assert_gql_error(await api.gql(LOGOUT), "UNAUTHENTICATED")
    assert_gql_error(await api.gql(LOGOUT, token="garbage"), "UNAUTHENTICATED")
    assert await api.me(token) is not None


# -- sessions that ended ---------------------------------------------------------------------


async def test_an_expired_session_is_no_session(api: Api) -> None:
    user, token = await api.register("alice")
    past = datetime.now(UTC) - timedelta(seconds=1)
    await api.mongo[api.db_name][SESSIONS].update_many({"user": user}, {"$set": {"expires": past}})

    assert await api.me(token) is None
    assert_gql_error(await api.gql(LOGOUT, token=token), "UNAUTHENTICATED")


async def test_a_token_past_its_exp_claim_is_no_session(api: Api) -> None:
    user, token = await api.register("alice")
    await api.mongo[api.db_name][SESSIONS].update_many({"user": user}, {"$set": {"expires": datetime.max}})
    sessioning = api.engine.concepts["Sessioning"]
    assert isinstance(sessioning, Sessioning)
    exp = datetime.fromtimestamp(jwt.decode(token, options={"verify_signature": False})["exp"], UTC)

    sessioning.clock = StillClock(exp)  # the clock tokens and sessions expire by

    assert await api.me(token) is None


# -- races -------------------------------------------------------------------------------------------


async def test_concurrent_registrations_of_one_name_in_two_cases_make_one_user(api: Api) -> None:
    variables = [{"username": name, "password": "correct horse"} for name in ["alice", "ALICE", "Alice", "aLiCe"]]

    bodies = await asyncio.gather(*(api.gql(REGISTER, v) for v in variables))

    results = [body["data"]["register"] for body in bodies]
    assert sorted(result["__typename"] for result in results) == ["AuthSuccess", "UserError", "UserError", "UserError"]
    assert {result["code"] for result in results if result["__typename"] == "UserError"} == {"USERNAME_TAKEN"}
    assert await api.count(USERS) == 1


async def test_a_password_registered_composed_logs_in_typed_decomposed(api: Api) -> None:
    """NIST SP 800-63B: "é" as one code point or as "e" plus a combining accent is one password."""
    user, _ = await api.register("amelie", "caf\u00e9 cr\u00e8me")

    response = await api.rest("/login", {"username": "amelie", "password": "cafe\u0301 cre\u0300me"})

    assert response.status_code == 200, response.text
    assert (await api.me(response.json()["session"])) == {"id": user, "username": "amelie"}
