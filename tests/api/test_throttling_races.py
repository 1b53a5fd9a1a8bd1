"""Throttling holds under concurrency, over HTTP: an attempt is counted
before its password is checked, so however many arrive at once no more than the limit
are checked per username, per client address and (changePassword) per user; and
registrations per address are limited.

The gated tests hold every checked password at the hasher until all the others are
answered, which is the interleaving that broke check-then-count. The trial tests
fire real bursts; both count checks by the hasher's calls, not by timing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.settings import Settings

from .helpers import AUTHENTICATE, CHANGE_OWN_PASSWORD, REGISTER, Api, StartApi
from .races import Gate, counting_hasher, first_done, gate_hasher

USERNAME_LIMIT = Settings.model_fields["throttle_username_failures"].default
ADDRESS_LIMIT = Settings.model_fields["throttle_address_failures"].default
REGISTRATION_LIMIT = Settings.model_fields["throttle_address_registrations"].default


async def login(api: Api, how: str, username: str, password: str) -> str:
    """One login by `how` (GraphQL authenticate, REST authenticate or REST /login): "ok" or the error code."""
    if how == "graphql":
        result = (await api.gql(AUTHENTICATE, {"username": username, "password": password}))["data"]["authenticate"]
        return "ok" if result["__typename"] == "AuthSuccess" else str(result["code"])
    path = "/login" if how == "rest /login" else "/UserAuthentication/authenticate"
    response = await api.rest(path, {"username": username, "password": password})
    body = response.json()
    assert response.status_code == {"ok": 200, "RATE_LIMITED": 429}.get(body.get("code", "ok"), 400), body
    return "ok" if "session" in body else str(body["code"])


async def change_password(api: Api, token: str, old: str, new: str = "a new password") -> str:
    result = (await api.gql(CHANGE_OWN_PASSWORD, {"old": old, "new": new}, token))["data"]["changePassword"]
    return "ok" if result["__typename"] == "ChangePasswordSuccess" else str(result["code"])


async def held_burst(gate: Gate, calls: list[Any], checked: int) -> list[str]:
    """Start every call at once; wait until `checked` of them are held at the gate and all
    the others have been answered; then open the gate. The calls' results."""
    tasks = [asyncio.create_task(call) for call in calls]
    await gate.holding(checked)
    await first_done(tasks, len(tasks) - checked)
    assert gate.calls == checked, f"{gate.calls} passwords reached the check while {checked} were held"
    gate.open()
    return list(await asyncio.gather(*tasks))


@pytest.mark.parametrize("how", ["graphql", "rest authenticate", "rest /login"])
async def test_concurrent_wrong_passwords_for_one_username_check_no_more_than_its_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    await api.register("alice", "correct horse")
    gate = gate_hasher(monkeypatch, "verify", Gate())

    codes = await held_burst(gate, [login(api, how, "alice", f"guess {i}") for i in range(30)], USERNAME_LIMIT)

    assert sorted(codes) == ["INVALID_CREDENTIALS"] * USERNAME_LIMIT + ["RATE_LIMITED"] * (30 - USERNAME_LIMIT)
    assert gate.calls == USERNAME_LIMIT
    assert await login(api, how, "alice", "correct horse") == "RATE_LIMITED"


async def test_concurrent_wrong_passwords_from_one_address_check_no_more_than_its_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.register("alice", "correct horse")
    gate = gate_hasher(monkeypatch, "verify", Gate())
    guesses = [login(api, "graphql", f"user{i:03}", "a guess") for i in range(ADDRESS_LIMIT + 10)]

    codes = await held_burst(gate, guesses, ADDRESS_LIMIT)

    assert codes.count("INVALID_CREDENTIALS") == ADDRESS_LIMIT and codes.count("RATE_LIMITED") == 10
    assert await login(api, "graphql", "alice", "correct horse") == "RATE_LIMITED"


async def test_bursts_of_wrong_passwords_check_exactly_the_limit_every_trial(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = counting_hasher(monkeypatch)
    for trial in range(10):
        await api.register(f"user{trial}", "correct horse")
        before = checked.calls

        codes = await asyncio.gather(*(login(api, "graphql", f"user{trial}", f"guess {i}") for i in range(30)))

        assert checked.calls - before == USERNAME_LIMIT, f"trial {trial}: {checked.calls - before} checked"
        assert codes.count("RATE_LIMITED") == 30 - USERNAME_LIMIT


async def test_a_burst_of_guesses_ending_with_the_password_checks_only_the_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.register("alice", "correct horse")
    checked = counting_hasher(monkeypatch)
    guesses = [f"guess {i}" for i in range(59)] + ["correct horse"]

    codes = await asyncio.gather(*(login(api, "graphql", "alice", guess) for guess in guesses))

    assert checked.calls == USERNAME_LIMIT
    assert codes.count("RATE_LIMITED") == 60 - USERNAME_LIMIT


# -- changePassword ---------------------------------------------------------------------------


async def test_concurrent_wrong_old_passwords_check_no_more_than_the_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await api.register("alice", "correct horse")
    gate = gate_hasher(monkeypatch, "verify", Gate())

    codes = await held_burst(gate, [change_password(api, token, f"guess {i}") for i in range(30)], USERNAME_LIMIT)

    assert sorted(codes) == ["INVALID_CREDENTIALS"] * USERNAME_LIMIT + ["RATE_LIMITED"] * (30 - USERNAME_LIMIT)


async def test_change_password_is_rate_limited_even_for_the_right_old_password(api: Api) -> None:
    _, token = await api.register("alice", "correct horse")
    codes = [await change_password(api, token, f"guess {i}") for i in range(30)]
    assert codes == ["INVALID_CREDENTIALS"] * USERNAME_LIMIT + ["RATE_LIMITED"] * (30 - USERNAME_LIMIT)

    assert await change_password(api, token, "correct horse") == "RATE_LIMITED"

    assert await login(api, "graphql", "alice", "correct horse") == "ok"  # the password did not change


async def test_a_password_change_clears_the_users_count(api: Api) -> None:
    _, token = await api.register("alice", "correct horse")
    for i in range(USERNAME_LIMIT - 1):
        assert await change_password(api, token, f"guess {i}") == "INVALID_CREDENTIALS"
    assert await change_password(api, token, "correct horse", "second password") == "ok"

    codes = [await change_password(api, token, f"guess {i}") for i in range(USERNAME_LIMIT - 1)]

    assert set(codes) == {"INVALID_CREDENTIALS"}
    assert await change_password(api, token, "second password", "third password") == "ok"


async def test_change_password_is_counted_per_user_not_per_session(api: Api) -> None:
    _, first = await api.register("alice", "correct horse")
    second = await api.authenticate("alice", "correct horse")
    for i in range(USERNAME_LIMIT):
        await change_password(api, first, f"guess {i}")

    assert await change_password(api, second, "correct horse") == "RATE_LIMITED"


# -- register ----------------------------------------------------------------------------------


def aliased_registers(count: int) -> str:
    fields = "\n".join(
        f'r{i}: register(username: "user{i:02}", password: "correct horse") '
        "{ __typename ... on UserError { code } }"
        for i in range(count)
    )
    return f"mutation {{ {fields} }}"


async def test_one_document_of_aliased_registers_makes_no_more_accounts_than_the_limit(start_api: StartApi) -> None:
    async with start_api(throttle_address_registrations=5) as api:
        body = await api.gql(aliased_registers(15))

        results = [body["data"][f"r{i}"] for i in range(15)]
        assert [r["__typename"] for r in results].count("AuthSuccess") == 5
        assert [r.get("code") for r in results].count("RATE_LIMITED") == 10
        assert await api.count("UserAuthentication.users") == 5


async def test_concurrent_registrations_from_one_address_make_no_more_accounts_than_the_limit(
    start_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_api(throttle_address_registrations=5) as api:
        gate = gate_hasher(monkeypatch, "hash", Gate())
        calls = [api.gql(REGISTER, {"username": f"user{i:02}", "password": "correct horse"}) for i in range(15)]

        bodies = await held_burst(gate, calls, 5)

        assert [b["data"]["register"]["__typename"] for b in bodies].count("AuthSuccess") == 5
        assert [b["data"]["register"].get("code") for b in bodies].count("RATE_LIMITED") == 10
        assert await api.count("UserAuthentication.users") == 5


async def test_registrations_beyond_the_default_limit_are_rate_limited(api: Api) -> None:
    for i in range(REGISTRATION_LIMIT):
        await api.register(f"user{i:02}")

    body = await api.gql(REGISTER, {"username": "one_more", "password": "correct horse"})
    response = await api.rest("/UserAuthentication/register", {"username": "and_more", "password": "correct horse"})

    assert body["data"]["register"]["code"] == "RATE_LIMITED"
    assert response.status_code == 429 and response.json()["code"] == "RATE_LIMITED"
    assert await api.count("UserAuthentication.users") == REGISTRATION_LIMIT
