"""Email and password recovery under concurrency, over the API: a reset link is used
once however many use it at once; a login with the old password racing a reset keeps no
session (forced interleavings, tests/api/races.py); the limits on setEmail's password
and on reset requests hold however many requests arrive at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from app.settings import Settings
from tests.mail.smtp import Inbox

from .email_flows import (
    PASSWORD,
    RESET_URL,
    TOKENS,
    link_token,
    mailing_api,
    outbox_count,
    request_reset,
    set_email,
    unsent_mails_dropped,
    verified_user,
)
from .email_flows import reset_password as reset
from .helpers import AUTHENTICATE, Api, StartApi
from .races import Gate, counting_hasher, gate_hasher

NEW_PASSWORD = "a brand new password"
PASSWORD_LIMIT = Settings.model_fields["throttle_username_failures"].default
EMAIL_LIMIT = Settings.model_fields["throttle_email_resets"].default
CLIENT_LIMIT = Settings.model_fields["throttle_address_resets"].default


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def api(start_api: StartApi, inbox: Inbox) -> AsyncIterator[Api]:
    async with mailing_api(start_api, inbox) as running:
        yield running


async def reset_link(api: Api, inbox: Inbox, address: str) -> str:
    before = len(inbox.received)
    await request_reset(api, address)
    return link_token((await inbox.wait_for(before + 1))[before], RESET_URL)


async def login(api: Api, password: str) -> tuple[str, str | None]:
    result = (await api.gql(AUTHENTICATE, {"username": "ada", "password": password}))["data"]["authenticate"]
    return ("ok", result["session"]) if result["__typename"] == "AuthSuccess" else (result["code"], None)


async def valid(api: Api, session: str | None) -> bool:
    return session is not None and await api.me(session) is not None


async def test_eight_concurrent_resets_with_one_link_have_one_success(api: Api, inbox: Inbox) -> None:
    user, _ = await verified_user(api, inbox, "ada", "ada@example.com")
    token = await reset_link(api, inbox, "ada@example.com")

    outcomes = await asyncio.gather(*(reset(api, token, f"new password number {n}") for n in range(8)))

    assert Counter(out.get("code", out["__typename"]) for out in outcomes) == {"AuthSuccess": 1, "INVALID_TOKEN": 7}
    [won] = [n for n, out in enumerate(outcomes) if out["__typename"] == "AuthSuccess"]
    assert await api.authenticate("ada", f"new password number {won}")
    assert await api.count("Sessioning.sessions", {"user": user}) == 2  # the winner's and that login's


async def test_a_login_checked_before_a_reset_and_finished_after_it_gets_no_session(
    api: Api, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = await verified_user(api, inbox, "ada", "ada@example.com")
    token = await reset_link(api, inbox, "ada@example.com")
    gate = gate_hasher(monkeypatch, "verify", Gate(hold=1))
    logging_in = asyncio.create_task(login(api, PASSWORD))
    await gate.holding(1)  # the login has read the credentials; its password check waits

    out = await reset(api, token, NEW_PASSWORD)
    gate.open()
    outcome, session = await logging_in

    assert out["__typename"] == "AuthSuccess"
    assert (outcome, session) == ("INVALID_CREDENTIALS", None)
    assert await api.count("Sessioning.sessions", {"user": user}) == 1 and await valid(api, out["session"])


async def test_a_login_made_while_a_reset_is_under_way_is_revoked_by_it(
    api: Api, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = await verified_user(api, inbox, "ada", "ada@example.com")
    token = await reset_link(api, inbox, "ada@example.com")
    gate = gate_hasher(monkeypatch, "hash", Gate(hold=1))
    resetting = asyncio.create_task(reset(api, token, NEW_PASSWORD))
    await gate.holding(1)  # the reset has used the link; hashing the new password waits

    outcome, session = await login(api, PASSWORD)
    assert outcome == "ok" and await valid(api, session)  # the password is still the old one
    gate.open()
    out = await resetting

    assert out["__typename"] == "AuthSuccess"
    assert not await valid(api, session)
    assert await api.count("Sessioning.sessions", {"user": user}) == 1 and await valid(api, out["session"])


async def test_thirty_concurrent_set_emails_with_wrong_passwords_check_at_most_the_limit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, session = await api.register("ada")
    checks = counting_hasher(monkeypatch, "verify")

    outcomes = await asyncio.gather(
        *(set_email(api, session, f"ada{n}@example.com", password=f"wrong password {n}") for n in range(30))
    )

    assert Counter(out["code"] for out in outcomes) == {
        "INVALID_CREDENTIALS": PASSWORD_LIMIT,
        "RATE_LIMITED": 30 - PASSWORD_LIMIT,
    }
    assert checks.calls == PASSWORD_LIMIT
    # The same limit as changePassword's old password: it is spent too.
    right = await set_email(api, session, "ada@example.com")
    assert right["code"] == "RATE_LIMITED"


async def test_concurrent_reset_requests_for_one_address_mail_at_most_its_limit(api: Api, inbox: Inbox) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")

    answers = await asyncio.gather(*(request_reset(api, "ada@example.com") for _ in range(12)))

    assert answers == [{"data": {"requestPasswordReset": {"ok": True}}}] * 12
    assert await outbox_count(api, template="reset-password") == EMAIL_LIMIT
    assert await api.count(TOKENS, {"purpose": "reset-password"}) == EMAIL_LIMIT  # one each, and its mail


async def test_concurrent_reset_requests_from_one_client_are_limited_alike(api: Api, inbox: Inbox) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")
    addresses = [f"someone{n}@example.com" for n in range(CLIENT_LIMIT + 10)]

    answers = await asyncio.gather(*(request_reset(api, address) for address in addresses))
    beyond = await request_reset(api, "ada@example.com")

    assert answers == [{"data": {"requestPasswordReset": {"ok": True}}}] * len(addresses)
    assert beyond == {"data": {"requestPasswordReset": {"ok": True}}}
    served = await api.count(TOKENS, {"purpose": "reset-password"})  # one a request served
    assert served == CLIENT_LIMIT
    await unsent_mails_dropped(api)  # the mails queued unsent in place of the others' (none is sent)
    assert await outbox_count(api, template="reset-password") == 0  # ada's came beyond the client's limit
