"""Two-factor sign-in under concurrency, over HTTP, with the interleavings forced: a
ticket signs in at most once, a recovery code at most once, and however many codes
arrive at once no more than the per-user limit are checked.

A gate holds every code check (TwoFactor's read of the user's factor, after the ticket
was looked up and the attempt counted) until all the other requests are answered, so
the tests do not hope for the bad interleaving: they make it. They count checks by the
gate's calls, not by timing."""

from __future__ import annotations

import asyncio
from typing import Any

import pyotp
import pytest

from app.concepts.two_factor import Factor
from app.settings import Settings

from .helpers import CHANGE_OWN_PASSWORD, SESSIONS, Api, StartApi
from .races import Gate, first_done, gate_hasher
from .second_factor import BEGIN, CONFIRM, DISABLE, enroll, outcome, result, sign_in, still_clock, ticket, verify

USERNAME_LIMIT = Settings.model_fields["throttle_username_failures"].default


def gate_factor(monkeypatch: pytest.MonkeyPatch, method: str, gate: Gate) -> Gate:
    """Route every `method` call on the users' factors through `gate`: `find_one` is what
    a TOTP code's check starts with, `update_one` what uses a code up (a recovery code is
    used up by that one conditional update, with no read before it)."""
    collection = Factor.get_pymongo_collection()

    class Gated:
        def __getattr__(self, name: str) -> Any:
            attribute = getattr(collection, name)
            if name != method:
                return attribute

            async def gated(*args: Any, **kwargs: Any) -> Any:
                await gate.through()
                return await attribute(*args, **kwargs)

            return gated

    monkeypatch.setattr(Factor, "get_pymongo_collection", classmethod(lambda _: Gated()))
    return gate


async def held_burst(gate: Gate, calls: list[Any], checked: int) -> list[Any]:
    """Start every call at once; wait until `checked` of them are held at the gate and all
    the others have been answered; then open the gate. The calls' results."""
    tasks = [asyncio.create_task(call) for call in calls]
    await gate.holding(checked)
    await first_done(tasks, len(tasks) - checked)
    assert gate.calls == checked, f"{gate.calls} codes reached the check while {checked} were held"
    gate.open()
    return list(await asyncio.gather(*tasks))


async def test_concurrent_wrong_codes_check_no_more_than_the_limit(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    ada = await enroll(api)
    held = await ticket(api)
    wrong = "000000" if ada.code() != "000000" else "111111"
    gate = gate_factor(monkeypatch, "find_one", Gate())

    answers = await held_burst(gate, [verify(api, held, wrong) for _ in range(30)], USERNAME_LIMIT)

    codes = sorted(outcome(answer) for answer in answers)
    assert codes == ["INVALID_CODE"] * USERNAME_LIMIT + ["RATE_LIMITED"] * (30 - USERNAME_LIMIT)
    assert gate.calls == USERNAME_LIMIT
    assert outcome(await verify(api, held, ada.code())) == "RATE_LIMITED"  # the right one too, now


async def test_concurrent_uses_of_one_ticket_give_one_session(
    start_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_api(throttle_username_failures=10) as api:
        ada = await enroll(api)
        held = await ticket(api)
        sessions = await api.count(SESSIONS)
        gate = gate_factor(monkeypatch, "update_one", Gate())
        # Eight different recovery codes, each good: only the ticket can stop seven of them.
        calls = [verify(api, held, code) for code in ada.recovery_codes[:8]]

        tasks = [asyncio.create_task(call) for call in calls]
        await gate.holding(8)  # every one has looked the ticket up and is about to use its code up
        gate.open()
        answers = await asyncio.gather(*tasks)

        assert sorted(outcome(answer) for answer in answers) == ["INVALID_TOKEN"] * 7 + ["ok"]
        assert await api.count(SESSIONS) == sessions + 1


async def test_concurrent_uses_of_one_recovery_code_give_one_session(
    start_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_api(throttle_username_failures=10) as api:
        ada = await enroll(api)
        tickets = [await ticket(api) for _ in range(8)]
        sessions = await api.count(SESSIONS)
        updates = gate_factor(monkeypatch, "update_one", Gate())
        tasks = [asyncio.create_task(verify(api, held, ada.recovery_codes[0])) for held in tickets]
        await updates.holding(8)  # every one is about to use the code up
        updates.open()
        answers = await asyncio.gather(*tasks)

        assert sorted(outcome(answer) for answer in answers) == ["INVALID_CODE"] * 7 + ["ok"]
        assert await api.count(SESSIONS) == sessions + 1


async def test_concurrent_uses_of_one_totp_code_give_one_session(
    start_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_api(throttle_username_failures=10) as api:
        ada = await enroll(api)
        tickets = [await ticket(api) for _ in range(8)]
        sessions = await api.count(SESSIONS)
        gate = gate_factor(monkeypatch, "update_one", Gate())

        tasks = [asyncio.create_task(verify(api, held, ada.code())) for held in tickets]
        await gate.holding(8)  # every one has read the secret and matched the code; none has moved the last step
        gate.open()
        answers = await asyncio.gather(*tasks)

        assert sorted(outcome(answer) for answer in answers) == ["INVALID_CODE"] * 7 + ["ok"]
        assert await api.count(SESSIONS) == sessions + 1


def gate_answers(monkeypatch: pytest.MonkeyPatch, method: str, gate: Gate) -> Gate:
    """The users' factors are read and written as usual, but the answer of each `method`
    call waits at `gate` (the first `gate.hold` of them) before the caller gets it."""
    collection = Factor.get_pymongo_collection()

    class Gated:
        def __getattr__(self, name: str) -> Any:
            attribute = getattr(collection, name)
            if name != method:
                return attribute

            async def gated(*args: Any, **kwargs: Any) -> Any:
                found = await attribute(*args, **kwargs)
                await gate.through()
                return found

            return gated

    monkeypatch.setattr(Factor, "get_pymongo_collection", classmethod(lambda _: Gated()))
    return gate


async def test_a_password_sign_in_racing_the_confirmation_of_an_app_keeps_no_session(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = still_clock(api)
    _, token = await api.register("ada")
    setup = result(await api.gql(BEGIN, {"password": "correct horse"}, token), "beginTotpSetup")
    gate = gate_answers(monkeypatch, "find_one", Gate(hold=1))
    # A thief with the password signs in: the guard reads that no app is in force, and is
    # held there while the user confirms one (which revokes the user's other sessions).
    racing = asyncio.create_task(sign_in(api))
    await gate.holding(1)
    code = pyotp.TOTP(setup["secret"]).at(clock())
    confirmed = result(await api.gql(CONFIRM, {"code": code}, token), "confirmTotpSetup")
    assert confirmed["__typename"] == "TotpEnabled", confirmed
    gate.open()
    answer = await racing

    assert answer["__typename"] != "AuthSuccess" or await api.me(answer["session"]) is None, answer
    assert await api.count(SESSIONS) == 1  # the confirming session's own
    assert await api.me(token) is not None


async def test_a_second_factor_sign_in_racing_the_removal_of_the_app_keeps_no_session(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = await enroll(api)
    held = await ticket(api)
    gate = gate_answers(monkeypatch, "update_one", Gate(hold=1))
    # A recovery code is used up before the app is removed; the sign-in is held there
    # while the user turns the app off (which revokes the user's other sessions).
    racing = asyncio.create_task(verify(api, held, ada.recovery_codes[0]))
    await gate.holding(1)
    disabled = result(await api.gql(DISABLE, {"password": "correct horse"}, ada.session), "disableTotp")
    assert disabled["__typename"] == "TotpDisabled", disabled
    gate.open()
    answer = await racing

    assert answer["__typename"] != "AuthSuccess" or await api.me(answer["session"]) is None, answer
    assert await api.count(SESSIONS) == 1  # the disabling session's own


async def test_a_ticket_of_a_password_checked_while_it_changed_gives_no_session(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = await enroll(api)
    gate = gate_hasher(monkeypatch, "verify", Gate(hold=1))
    # A thief signs in with the old password: it is read, and its check held while the
    # user changes the password (completely); then the old one is found right.
    racing = asyncio.create_task(sign_in(api))
    await gate.holding(1)
    changed = await api.gql(CHANGE_OWN_PASSWORD, {"old": "correct horse", "new": "a new password"}, ada.session)
    assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess", changed
    gate.open()
    held = await racing
    assert held["__typename"] == "SecondFactorRequired", held

    answer = await verify(api, held["ticket"], ada.code())

    assert outcome(answer) == "INVALID_CREDENTIALS"
    assert await api.count(SESSIONS) == 1  # the changer's own
