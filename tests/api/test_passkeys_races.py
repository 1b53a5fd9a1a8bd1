"""Passkeys under concurrency, through the API, each race forced rather than hoped for:
answers are counted before they are checked (no more than the limit are checked, however
many arrive at once), a ticket is used once (one session, one passkey), and a sign-in
racing the deletion of its account keeps no session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.concepts.one_time_tokens import OneTimeToken
from app.concepts.passkeys import Credential
from app.concepts.sessioning import Session
from app.settings import Settings
from tests.concepts.authenticator import SoftwareAuthenticator
from tests.concepts.helpers import GatedCollection, Held

from .helpers import SESSIONS, Api
from .passkey_ceremonies import add_passkey, begin_login, begin_registration, finish_login, finish_registration
from .races import PATIENCE, Gate, first_done, gate_hasher

USERNAME_LIMIT = Settings.model_fields["throttle_username_failures"].default


def code(result: dict[str, Any]) -> str:
    return "ok" if result["__typename"] in ("AuthSuccess", "PasskeyAdded", "PasskeyChallenge") else str(result["code"])


async def test_concurrent_wrong_answers_for_one_username_check_no_more_than_its_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    started = [await begin_login(api, "ada") for _ in range(30)]
    answers = [(s["ticket"], phone.get(s["optionsJson"], bad_signature=True)) for s in started]
    held = Held()  # every answer that gets as far as looking up its passkey waits there
    GatedCollection.install(monkeypatch, Credential, "find_one", held)

    tasks = [asyncio.create_task(finish_login(api, ticket, answer)) for ticket, answer in answers]
    await first_done(tasks, 30 - USERNAME_LIMIT)  # all but the limit answered while those are held
    checked = GatedCollection.installed[-1].arrived
    held.released.set()
    codes = sorted(code(result) for result in await asyncio.gather(*tasks))

    assert checked == USERNAME_LIMIT
    assert codes == ["INVALID_CREDENTIALS"] * USERNAME_LIMIT + ["RATE_LIMITED"] * (30 - USERNAME_LIMIT)


async def test_concurrent_uses_of_one_ticket_make_one_session(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    ada, token = await api.register("ada")
    phone = SoftwareAuthenticator(counter=False)  # the same answer would pass every counter check
    await add_passkey(api, token, phone)
    started = await begin_login(api)
    answer = phone.get(started["optionsJson"])
    GatedCollection.install(monkeypatch, OneTimeToken, "find_one_and_delete", 8)  # all looked the ticket up first

    results = await asyncio.gather(*(finish_login(api, started["ticket"], answer) for _ in range(8)))

    assert sorted(code(result) for result in results) == ["INVALID_TOKEN"] * 7 + ["ok"]
    assert await api.count(SESSIONS, {"user": ada}) == 2  # the registration's and the winner's


async def test_concurrent_uses_of_one_registration_ticket_add_one_passkey(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await api.register("ada")
    started = await begin_registration(api, token)
    answers = [SoftwareAuthenticator().create(started["optionsJson"]) for _ in range(8)]
    GatedCollection.install(monkeypatch, OneTimeToken, "find_one_and_delete", 8)

    results = await asyncio.gather(*(finish_registration(api, token, started["ticket"], a) for a in answers))

    assert sorted(code(result) for result in results) == ["INVALID_TOKEN"] * 7 + ["ok"]
    assert await api.count("Passkeys.credentials") == 1


async def test_concurrent_wrong_passwords_for_a_passkey_check_no_more_than_the_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await api.register("ada")
    gate = gate_hasher(monkeypatch, "verify", Gate())

    tasks = [asyncio.create_task(begin_registration(api, token, f"guess {i}")) for i in range(30)]
    await gate.holding(USERNAME_LIMIT)
    await first_done(tasks, 30 - USERNAME_LIMIT)
    assert gate.calls == USERNAME_LIMIT
    gate.open()
    codes = sorted(code(result) for result in await asyncio.gather(*tasks))

    assert codes == ["INVALID_CREDENTIALS"] * USERNAME_LIMIT + ["RATE_LIMITED"] * (30 - USERNAME_LIMIT)
    assert await api.count("OneTimeTokens.tokens") == 0


async def test_a_sign_in_racing_the_deletion_of_its_account_keeps_no_session(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, token = await api.register("ada")
    phone = SoftwareAuthenticator()
    await add_passkey(api, token, phone)
    started = await begin_login(api, "ada")
    held = Held()  # the sign-in's session waits to be stored, its passkey verified
    GatedCollection.install(monkeypatch, Session, "insert_one", held)

    signing_in = asyncio.create_task(finish_login(api, started["ticket"], phone.get(started["optionsJson"])))
    await asyncio.wait_for(held.reached.wait(), PATIENCE)
    deleted = await api.gql("mutation { deleteAccount { __typename } }", token=token)
    held.released.set()
    refused = await signing_in

    assert deleted["data"]["deleteAccount"]["__typename"] == "DeleteAccountSuccess"
    assert code(refused) == "INVALID_CREDENTIALS"
    assert await api.count(SESSIONS, {"user": ada}) == 0
