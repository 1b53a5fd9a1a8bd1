"""Sessions a user can see and control: `sessions`, `revokeSession`,
`logoutEverywhere` over GraphQL, and `/Sessioning/...` over REST."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from app.concepts.sessioning import Session
from app.protocol.bounds import MAX_CLIENT_TEXT
from tests.concepts.helpers import GatedCollection, ticking_clock

from .helpers import AUTHENTICATE, REGISTER, SESSIONS, Api, StartApi, assert_gql_error

SESSIONS_QUERY = "{ sessions { id createdAt expiresAt lastUsedAt client userAgent current } }"
REVOKE = """
mutation Revoke($id: ID!) {
  revokeSession(id: $id) {
    __typename
    ... on RevokeSessionSuccess { id }
    ... on UserError { code message }
  }
}
"""
LOGOUT_EVERYWHERE = "mutation($keep: Boolean!) { logoutEverywhere(keepCurrent: $keep) { revoked } }"
LOGOUT_EVERYWHERE_DEFAULT = "mutation { logoutEverywhere { revoked } }"
CLIENT = "127.0.0.1"  # the address httpx's ASGI transport reports


async def sessions(api: Api, token: str | None) -> list[dict[str, Any]]:
    body = await api.gql(SESSIONS_QUERY, token=token)
    assert "errors" not in body, body
    return body["data"]["sessions"]  # type: ignore[no-any-return]


async def revoke(api: Api, token: str, id: str) -> dict[str, Any]:
    body = await api.gql(REVOKE, {"id": id}, token=token)
    assert "errors" not in body, body
    return body["data"]["revokeSession"]  # type: ignore[no-any-return]


async def current_id(api: Api, token: str) -> str:
    [current] = [row for row in await sessions(api, token) if row["current"]]
    return current["id"]  # type: ignore[no-any-return]


async def gql_as(api: Api, query: str, variables: dict[str, Any], user_agent: str) -> Any:
    response = await api.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"User-Agent": user_agent}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def set_last_used(api: Api, token: str, when: datetime) -> None:
    sid = jwt.decode(token, options={"verify_signature": False})["sid"]
    await api.mongo[api.db_name][SESSIONS].update_one({"_id": sid}, {"$set": {"last_used": when}})
    await api.settled()


# -- sessions ----------------------------------------------------------------------------------


async def test_sessions_lists_every_way_in_with_its_client_and_user_agent_newest_first(api: Api) -> None:
    credentials = {"username": "alice", "password": "correct horse"}
    registered = await gql_as(api, REGISTER, credentials, "Phone/1.0")
    login = await api.http.post("/api/login", json=credentials, headers={"User-Agent": "Laptop/2.0"})
    assert login.status_code == 200, login.text
    authenticated = await gql_as(api, AUTHENTICATE, credentials, "Tablet/3.0")
    tokens = {
        "Phone/1.0": registered["data"]["register"]["session"],
        "Laptop/2.0": login.json()["session"],
        "Tablet/3.0": authenticated["data"]["authenticate"]["session"],
    }

    rows = await sessions(api, tokens["Laptop/2.0"])

    assert sorted(row["userAgent"] for row in rows) == sorted(tokens)
    assert [row["userAgent"] for row in rows if row["current"]] == ["Laptop/2.0"]
    assert {row["client"] for row in rows} == {CLIENT}
    created = [datetime.fromisoformat(row["createdAt"]) for row in rows]
    assert created == sorted(created, reverse=True)
    for row in rows:
        created_at, expires, used = (
            datetime.fromisoformat(row[key]) for key in ("createdAt", "expiresAt", "lastUsedAt")
        )
        assert created_at.utcoffset() == timedelta(0) and created_at < expires and used >= created_at
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == 3
    for id in ids:
        assert all(id not in token and token not in id for token in tokens.values())
    for agent, token in tokens.items():
        assert [row["userAgent"] for row in await sessions(api, token) if row["current"]] == [agent]


async def test_sessions_of_another_user_are_not_listed(api: Api) -> None:
    _, alice = await api.register("alice")
    _, bob = await api.register("bob")

    assert len(await sessions(api, alice)) == 1
    assert (await sessions(api, bob))[0]["id"] != (await sessions(api, alice))[0]["id"]


async def test_a_user_agent_is_kept_to_256_characters(api: Api) -> None:
    body = await gql_as(api, REGISTER, {"username": "alice", "password": "correct horse"}, "M" * 1000)

    [row] = await sessions(api, body["data"]["register"]["session"])

    assert row["userAgent"] == "M" * 256


# -- lastUsedAt ----------------------------------------------------------------------------------


async def test_last_used_at_moves_at_most_once_a_minute(api: Api) -> None:
    _, token = await api.register("alice")
    [row] = await sessions(api, token)
    assert row["lastUsedAt"] == row["createdAt"]

    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=50)
    await set_last_used(api, token, recent)
    await api.me(token)
    assert datetime.fromisoformat((await sessions(api, token))[0]["lastUsedAt"]) == recent

    stale = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=70)
    await set_last_used(api, token, stale)
    await api.me(token)
    used = datetime.fromisoformat((await sessions(api, token))[0]["lastUsedAt"])
    assert used >= stale + timedelta(seconds=60)

    await api.me(token)
    assert datetime.fromisoformat((await sessions(api, token))[0]["lastUsedAt"]) == used


def touches(api: Api) -> list[bool]:
    """What each `Sessioning.touch` in the engine's recent flows answered."""
    return [
        record.output["touched"]  # type: ignore[index]
        for flow in api.engine.recent
        for record in flow.records
        if record.action.qualname == "Sessioning.touch"
    ]


async def test_concurrent_requests_of_a_stale_session_write_its_last_use_once(
    start_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 8
    async with start_api() as api:
        _, token = await api.register("alice")
        await set_last_used(api, token, datetime.now(UTC) - timedelta(minutes=5))
        GatedCollection.install(monkeypatch, Session, "update_one", parties=n)
        api.engine.concepts["Sessioning"].clock = ticking_clock()  # no two touches share a time

        # Every request reads the stale time and fires a touch; the gate holds their writes
        # until all of them are under way.
        await asyncio.gather(*(api.me(token) for _ in range(n)))

        assert sorted(touches(api)) == [False] * (n - 1) + [True]


# -- revokeSession ---------------------------------------------------------------------------------


async def test_revoke_session_ends_another_session_of_the_user(api: Api) -> None:
    _, phone = await api.register("alice")
    laptop = await api.authenticate("alice")
    phone_id = await current_id(api, phone)

    assert await revoke(api, laptop, phone_id) == {"__typename": "RevokeSessionSuccess", "id": phone_id}

    assert await api.me(phone) is None
    assert (await api.me(laptop)) is not None
    assert [row["id"] for row in await sessions(api, laptop)] == [await current_id(api, laptop)]
    again = await revoke(api, laptop, phone_id)
    assert again["__typename"] == "UserError" and again["code"] == "SESSION_NOT_FOUND"


async def test_revoking_the_current_session_logs_out(api: Api) -> None:
    _, token = await api.register("alice")

    result = await revoke(api, token, await current_id(api, token))

    assert result["__typename"] == "RevokeSessionSuccess"
    assert await api.me(token) is None
    assert_gql_error(await api.gql(SESSIONS_QUERY, token=token), "UNAUTHENTICATED")


async def test_revoking_another_users_session_is_answered_like_an_unknown_id(api: Api) -> None:
    _, alice = await api.register("alice")
    _, bob = await api.register("bob")
    bobs_id = await current_id(api, bob)

    theirs = await revoke(api, alice, bobs_id)
    unknown = await revoke(api, alice, "NoSuchSessionId0")

    assert theirs == unknown
    assert theirs["__typename"] == "UserError" and theirs["code"] == "SESSION_NOT_FOUND"
    assert await api.me(bob) is not None
    assert await api.count(SESSIONS) == 2


@pytest.mark.parametrize(
    "id", ["", "x", "é" * 50, "x" * MAX_CLIENT_TEXT, '{"$ne": null}', "0", "-1"], ids=lambda id: repr(id)[:20]
)
async def test_revoking_a_malformed_id_is_session_not_found_and_ends_nothing(api: Api, id: str) -> None:
    _, token = await api.register("alice")

    result = await revoke(api, token, id)

    assert result["__typename"] == "UserError" and result["code"] == "SESSION_NOT_FOUND"
    assert await api.me(token) is not None
    assert await api.count(SESSIONS) == 1


async def test_a_token_is_not_a_session_id(api: Api) -> None:
    _, token = await api.register("alice")

    result = await revoke(api, token, token)

    assert result["code"] == "SESSION_NOT_FOUND"
    assert await api.me(token) is not None


async def test_of_two_concurrent_revokes_of_one_session_exactly_one_succeeds(
    start_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_api() as api:
        _, phone = await api.register("alice")
        laptop = await api.authenticate("alice")
        tablet = await api.authenticate("alice")
        target = await current_id(api, phone)
        GatedCollection.install(monkeypatch, Session, "delete_one", parties=2)

        # Both requests are authenticated and have found the session before either deletes it.
        results = await asyncio.gather(revoke(api, laptop, target), revoke(api, tablet, target))

        assert sorted(result["__typename"] for result in results) == ["RevokeSessionSuccess", "UserError"]
        assert [result["code"] for result in results if result["__typename"] == "UserError"] == ["SESSION_NOT_FOUND"]
        assert await api.me(phone) is None
        assert await api.count(SESSIONS) == 2


# -- logoutEverywhere ------------------------------------------------------------------------------


async def test_logout_everywhere_ends_every_session_of_the_user(api: Api) -> None:
    _, token = await api.register("alice")
    others = [await api.authenticate("alice") for _ in range(2)]
    _, bob = await api.register("bob")

    body = await api.gql(LOGOUT_EVERYWHERE_DEFAULT, token=token)

    assert body == {"data": {"logoutEverywhere": {"revoked": 3}}}
    for ended in [token, *others]:
        assert await api.me(ended) is None
    assert await api.me(bob) is not None


async def test_logout_everywhere_keeping_current_ends_only_the_others(api: Api) -> None:
    _, token = await api.register("alice")
    others = [await api.authenticate("alice") for _ in range(2)]

    body = await api.gql(LOGOUT_EVERYWHERE, {"keep": True}, token=token)

    assert body == {"data": {"logoutEverywhere": {"revoked": 2}}}
    assert await api.me(token) is not None
    for ended in others:
        assert await api.me(ended) is None
    assert [row["current"] for row in await sessions(api, token)] == [True]
    assert (await api.gql(LOGOUT_EVERYWHERE, {"keep": False}, token=token))["data"]["logoutEverywhere"] == {
        "revoked": 1
    }


# -- without a valid session ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables"),
    [(SESSIONS_QUERY, {}), (REVOKE, {"id": "whatever"}), (LOGOUT_EVERYWHERE, {"keep": True})],
    ids=["sessions", "revokeSession", "logoutEverywhere"],
)
@pytest.mark.parametrize("token", [None, "garbage", "revoked"])
async def test_every_session_field_needs_a_valid_session(
    api: Api, query: str, variables: dict[str, Any], token: str | None
) -> None:
    _, alice = await api.register("alice")
    if token == "revoked":
        token = await api.authenticate("alice")
        await api.gql("mutation { logout { ok } }", token=token)

    assert_gql_error(await api.gql(query, variables, token=token), "UNAUTHENTICATED")
    assert await api.count(SESSIONS) == 1
    assert await api.me(alice) is not None


# -- REST --------------------------------------------------------------------------------------------


def rest_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code and isinstance(body["error"], str), body
    return body


async def test_rest_lists_revokes_and_logs_out_everywhere(api: Api) -> None:
    _, phone = await api.register("alice")
    laptop = await api.authenticate("alice")
    tablet = await api.authenticate("alice")

    listed = await api.rest("/Sessioning/_getSessions", {"session": laptop})

    assert listed.status_code == 200, listed.text
    rows = listed.json()["results"]
    assert set(listed.json()) == {"results"} and len(rows) == 3
    for row in rows:
        assert set(row) == {"id", "createdAt", "expiresAt", "lastUsedAt", "client", "userAgent", "method", "current"}
        assert row["client"] == CLIENT and row["method"] == "password"
    [laptop_id] = [row["id"] for row in rows if row["current"]]
    phone_id = await current_id(api, phone)

    revoked = await api.rest("/Sessioning/revoke", {"session": laptop, "id": phone_id})
    assert revoked.status_code == 200 and revoked.json() == {"id": phone_id}, revoked.text
    assert await api.me(phone) is None
    rest_error(await api.rest("/Sessioning/revoke", {"session": laptop, "id": phone_id}), 400, "SESSION_NOT_FOUND")

    everywhere = await api.rest("/Sessioning/revokeAll", {"session": laptop, "keepCurrent": True})
    assert everywhere.status_code == 200 and everywhere.json() == {"revoked": 1}, everywhere.text
    assert await api.me(tablet) is None
    assert [
        row["id"] for row in (await api.rest("/Sessioning/_getSessions", {"session": laptop})).json()["results"]
    ] == [laptop_id]

    ended = await api.rest("/Sessioning/revokeAll", {"session": laptop})
    assert ended.status_code == 200 and ended.json() == {"revoked": 1}, ended.text
    assert await api.me(laptop) is None


async def test_rest_another_users_session_is_answered_like_an_unknown_id(api: Api) -> None:
    _, alice = await api.register("alice")
    _, bob = await api.register("bob")

    theirs = await api.rest("/Sessioning/revoke", {"session": alice, "id": await current_id(api, bob)})
    unknown = await api.rest("/Sessioning/revoke", {"session": alice, "id": "NoSuchSessionId0"})

    assert rest_error(theirs, 400, "SESSION_NOT_FOUND") == rest_error(unknown, 400, "SESSION_NOT_FOUND")
    assert await api.me(bob) is not None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/Sessioning/_getSessions", {}),
        ("/Sessioning/revoke", {"id": "whatever"}),
        ("/Sessioning/revokeAll", {"keepCurrent": True}),
        ("/Sessioning/revokeAll", {"session": "garbage"}),
    ],
)
async def test_rest_without_a_valid_session_is_401(api: Api, path: str, body: dict[str, Any]) -> None:
    await api.register("alice")

    rest_error(await api.rest(path, body), 401, "UNAUTHENTICATED")
    assert await api.count(SESSIONS) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/Sessioning/revoke", {}),
        ("/Sessioning/revoke", {"id": 5}),
        ("/Sessioning/revoke", {"id": {"$ne": None}}),
        ("/Sessioning/revokeAll", {"keepCurrent": "yes"}),
        ("/Sessioning/revokeAll", {"keepCurrent": 1}),
        ("/Sessioning/_getSessions", {"userAgent": "forged"}),
    ],
)
async def test_rest_invalid_bodies_are_400_and_end_nothing(api: Api, path: str, body: dict[str, Any]) -> None:
    _, token = await api.register("alice")

    rest_error(await api.rest(path, {"session": token, **body}), 400, "BAD_USER_INPUT")
    assert await api.me(token) is not None
