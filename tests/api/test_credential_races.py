"""Sessions never outlive the credentials they were made with, whatever the
interleaving, over HTTP: a login that raced a password change or an
account deletion leaves no valid session; of concurrent password changes exactly one
wins and keeps its session; `me` with a session whose user is gone is null.

The gated tests hold one request at its password hash (between its read of the
credentials and what it does with them) while the other runs to the end; the trial
tests fire both requests at many offsets."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from .helpers import AUTHENTICATE, CHANGE_OWN_PASSWORD, ME, SESSIONS, Api, StartApi
from .races import Gate, gate_hasher

OLD, NEW = "correct horse", "a new password"

DELETE_ACCOUNT = "mutation { deleteAccount { __typename ... on UserError { code } } }"


async def login(api: Api, how: str, username: str, password: str) -> tuple[str, str | None]:
    """(outcome, session token): "ok" or the error code, by GraphQL authenticate or REST /login."""
    if how == "graphql":
        result = (await api.gql(AUTHENTICATE, {"username": username, "password": password}))["data"]["authenticate"]
        return ("ok", result["session"]) if result["__typename"] == "AuthSuccess" else (result["code"], None)
    body = (await api.rest("/login", {"username": username, "password": password})).json()
    return ("ok", body["session"]) if "session" in body else (body["code"], None)


async def change_password(api: Api, token: str, old: str = OLD, new: str = NEW) -> str:
    result = (await api.gql(CHANGE_OWN_PASSWORD, {"old": old, "new": new}, token))["data"]["changePassword"]
    return "ok" if result["__typename"] == "ChangePasswordSuccess" else str(result["code"])


async def delete_account(api: Api, token: str) -> str:
    result = (await api.gql(DELETE_ACCOUNT, token=token))["data"]["deleteAccount"]
    return "ok" if result["__typename"] == "DeleteAccountSuccess" else str(result["code"])


async def valid(api: Api, token: str | None) -> bool:
    return token is not None and await api.me(token) is not None


async def sessions_of(api: Api, user: str) -> int:
    return await api.count(SESSIONS, {"user": user})


# -- forced interleavings ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["graphql", "rest /login"])
async def test_a_login_checked_before_a_password_change_and_finished_after_it_gets_no_session(
    api: Api, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    user, token = await api.register("alice", OLD)
    gate = gate_hasher(monkeypatch, "verify", Gate(hold=1))
    logging_in = asyncio.create_task(login(api, how, "alice", OLD))
    await gate.holding(1)  # the login has read the credentials; its password check waits

    assert await change_password(api, token) == "ok"
    gate.open()
    outcome, session = await logging_in

    assert (outcome, session) == ("INVALID_CREDENTIALS", None)
    assert await sessions_of(api, user) == 1 and await valid(api, token)


async def test_a_login_made_while_a_password_change_is_between_its_check_and_its_write_is_revoked(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, token = await api.register("alice", OLD)
    gate = gate_hasher(monkeypatch, "hash", Gate(hold=1))
    changing = asyncio.create_task(change_password(api, token))
    await gate.holding(1)  # the change has checked the old password; hashing the new one waits

    outcome, session = await login(api, "graphql", "alice", OLD)
    assert outcome == "ok" and await valid(api, session)  # the password is still the old one
    gate.open()

    assert await changing == "ok"
    assert not await valid(api, session)
    assert await valid(api, token) and await sessions_of(api, user) == 1


@pytest.mark.parametrize("how", ["graphql", "rest /login"])
async def test_a_login_checked_before_the_account_is_deleted_gets_no_session(
    api: Api, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    user, token = await api.register("alice", OLD)
    gate = gate_hasher(monkeypatch, "verify", Gate(hold=1))
    logging_in = asyncio.create_task(login(api, how, "alice", OLD))
    await gate.holding(1)

    assert await delete_account(api, token) == "ok"
    gate.open()
    outcome, session = await logging_in

    assert (outcome, session) == ("INVALID_CREDENTIALS", None)
    assert await sessions_of(api, user) == 0


async def test_of_two_concurrent_password_changes_exactly_one_wins_and_keeps_its_session(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, first = await api.register("alice", OLD)
    second = await api.authenticate("alice", OLD)
    gate = gate_hasher(monkeypatch, "hash", Gate(hold=2))
    changes = [
        asyncio.create_task(change_password(api, first, new="first new password")),
        asyncio.create_task(change_password(api, second, new="second new password")),
    ]
    await gate.holding(2)  # both have checked the old password against the same credentials
    gate.open()

    outcomes = await asyncio.gather(*changes)

    assert sorted(outcomes) == ["INVALID_CREDENTIALS", "ok"]
    winner, loser = (first, second) if outcomes[0] == "ok" else (second, first)
    won, lost = ("first", "second") if outcomes[0] == "ok" else ("second", "first")
    assert await valid(api, winner) and not await valid(api, loser)
    assert await sessions_of(api, user) == 1
    assert (await login(api, "graphql", "alice", f"{won} new password"))[0] == "ok"
    assert (await login(api, "graphql", "alice", f"{lost} new password"))[0] == "INVALID_CREDENTIALS"


async def test_me_with_a_session_whose_user_is_gone_is_null(api: Api) -> None:
    user, token = await api.register("alice", OLD)
    await api.mongo[api.db_name]["UserAuthentication.users"].delete_many({})  # as mid-deletion: sessions remain
    assert await sessions_of(api, user) == 1

    body = await api.gql(ME, token=token)
    response = await api.http.post("/api/me", json={}, headers={"Authorization": f"Bearer {token}"})

    assert body == {"data": {"me": None}}
    assert response.status_code == 200 and response.json().get("user") is None, response.text


# -- real races at many offsets ----------------------------------------------------------------

TRIALS = 41


async def after(seconds: float, call: Any) -> Any:
    await asyncio.sleep(seconds)
    return await call


async def offsets(api: Api, request: Callable[[str], Awaitable[Any]]) -> list[float]:
    """`TRIALS` offsets spread over how long `request` (given a fresh user's token) takes
    here, and a little beyond: a login starting at one of them overlaps the request's
    read, check and write at each stage. (Calibration, not an assertion on time.)"""
    _, token = await api.register("calibration", OLD)
    started = time.perf_counter()
    await request(token)
    took = time.perf_counter() - started
    return [took * 1.25 * i / (TRIALS - 1) for i in range(TRIALS)]


@pytest.fixture
async def many(start_api: StartApi) -> Any:
    """An app with the default argon2 cost, so a password check takes as long as in
    production and the offsets land inside the other request's read-check-write."""
    async with start_api(throttle_address_registrations=10_000, argon2_memory_kib=19456, argon2_time_cost=2) as api:
        yield api


async def test_logins_racing_a_password_change_at_every_offset_leave_no_stale_session(many: Api) -> None:
    outcomes = []
    for trial, offset in enumerate(await offsets(many, lambda token: change_password(many, token))):
        name = f"change{trial}"
        user, token = await many.register(name, OLD)
        changed, (outcome, session) = await asyncio.gather(
            change_password(many, token), after(offset, login(many, "graphql", name, OLD))
        )
        assert changed == "ok"
        assert not await valid(many, session), f"offset {offset:.3f} s: a session made with the old password is valid"
        assert await sessions_of(many, user) == 1 and await valid(many, token)
        outcomes.append(outcome)
    print(f"login racing changePassword at {TRIALS} offsets: {Counter(outcomes)}; no stale session")


async def test_logins_racing_an_account_deletion_at_every_offset_leave_no_session(many: Api) -> None:
    outcomes = []
    for trial, offset in enumerate(await offsets(many, lambda _: login(many, "graphql", "calibration", OLD))):
        name = f"delete{trial}"
        user, token = await many.register(name, OLD)
        (outcome, session), deleted = await asyncio.gather(
            login(many, "graphql", name, OLD), after(offset, delete_account(many, token))
        )
        assert deleted == "ok"
        assert await sessions_of(many, user) == 0, f"offset {offset:.3f} s: a session of a deleted user is live"
        assert not await valid(many, session)
        outcomes.append(outcome)
    print(f"login racing deleteAccount at {TRIALS} offsets: {Counter(outcomes)}; no live session")


async def test_concurrent_password_changes_have_exactly_one_winner_every_trial(many: Api) -> None:
    for trial in range(10):
        name = f"twice{trial}"
        user, first = await many.register(name, OLD)
        second = await many.authenticate(name, OLD)

        outcomes = await asyncio.gather(
            change_password(many, first, new="first new password"),
            change_password(many, second, new="second new password"),
        )

        assert sorted(outcomes) == ["INVALID_CREDENTIALS", "ok"], f"trial {trial}: {outcomes}"
        winner = first if outcomes[0] == "ok" else second
        assert await valid(many, winner) and await sessions_of(many, user) == 1
