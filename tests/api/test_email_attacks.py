"""Email and password recovery attacked: an attacker with a victim's old mailbox, with
nothing but the victim's address, or with an account of their own. Through the app, with
mail delivered to a real SMTP server (aiosmtpd on a free port)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.mail.smtp import Inbox

from .email_flows import (
    PASSWORD,
    RESET_URL,
    VERIFY_URL,
    email_of,
    link_token,
    mailing_api,
    outbox_count,
    request_reset,
    reset_password,
    set_email,
    verified_user,
    verify_email,
)
from .helpers import CHANGE_OWN_PASSWORD, Api, StartApi

NEW_PASSWORD = "a brand new password"


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


# -- links mailed before the address or the password changed -----------------------------------


async def test_a_reset_link_mailed_to_the_old_address_is_void_once_the_address_changed(api: Api, inbox: Inbox) -> None:
    """Whoever reads the old mailbox (the reason to change the address) keeps no way in."""
    _, session = await verified_user(api, inbox, "ada", "ada@old.example.com")
    stolen = await reset_link(api, inbox, "ada@old.example.com")

    assert (await set_email(api, session, "ada@new.example.com"))["__typename"] == "SetEmailSuccess"

    assert (await reset_password(api, stolen, "the attacker's password"))["code"] == "INVALID_TOKEN"
    assert await api.authenticate("ada", PASSWORD)


async def test_a_reset_link_is_void_once_the_password_was_changed(api: Api, inbox: Inbox) -> None:
    """A user who changes their password (fearing someone knows it) leaves no earlier reset link working."""
    _, session = await verified_user(api, inbox, "ada", "ada@example.com")
    earlier = await reset_link(api, inbox, "ada@example.com")

    changed = await api.gql(CHANGE_OWN_PASSWORD, {"old": PASSWORD, "new": NEW_PASSWORD}, session)
    assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess", changed

    assert (await reset_password(api, earlier, "the attacker's password"))["code"] == "INVALID_TOKEN"
    assert await api.authenticate("ada", NEW_PASSWORD)


# -- flooding a victim's inbox -----------------------------------------------------------------


async def test_other_spellings_of_an_address_count_towards_its_reset_limit(api: Api, inbox: Inbox) -> None:
    """Full-width letters, an ideographic full stop, an IDNA form: the same address, the same count."""
    await verified_user(api, inbox, "ada", "ada@example.com")
    spellings = [
        "ada@example.com",
        "ADA@EXAMPLE.COM",
        "ada@\uff45xample.com",  # a full-width e
        "ada@example\u3002com",  # an ideographic full stop
        "ada@ex\uff41mple.com",  # a full-width a
        "ada@\uff45\uff58ample.com",
    ]

    answers = [await request_reset(api, spelling) for spelling in spellings]

    assert answers == [{"data": {"requestPasswordReset": {"ok": True}}}] * len(spellings)
    assert await outbox_count(api, template="reset-password") == 3  # THROTTLE_EMAIL_RESETS


async def test_setting_an_address_again_and_again_mails_it_at_most_the_limit(api: Api, inbox: Inbox) -> None:
    """An account of one's own and its password were enough to mail a victim without end."""
    _, eve = await api.register("eve")

    outs = [await set_email(api, eve, spelling) for spelling in ["victim@example.com", "VICTIM@example.com"] * 3]

    assert [out.get("code", out["__typename"]) for out in outs] == ["SetEmailSuccess"] * 3 + ["RATE_LIMITED"] * 3
    assert await outbox_count(api, template="verify-email") == 3  # THROTTLE_EMAIL_RESETS
    assert (await email_of(api, eve))["data"]["email"] == {"address": "VICTIM@example.com", "verified": False}


async def test_an_address_another_user_has_is_never_counted_so_nobody_spends_its_owners_mails(
    api: Api, inbox: Inbox
) -> None:
    _, ada = await verified_user(api, inbox, "ada", "ada@example.com")
    _, eve = await api.register("eve")

    taken = [await set_email(api, eve, "ada@example.com") for _ in range(5)]

    assert [out["code"] for out in taken] == ["EMAIL_TAKEN"] * 5
    assert (await set_email(api, ada, "ada@example.com"))["__typename"] == "SetEmailSuccess"  # mailed again
    assert await outbox_count(api, template="verify-email") == 2


# -- what held ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com\r\nBcc: eve@evil.example.com",
        "ada@example.com\nSubject: hi",
        "ada@example.com>, eve@evil.example.com",
        "Eve <eve@evil.example.com>",
        "ada@exam\u200bple.com",
        "\uff41da@example.com",
    ],
)
async def test_an_address_that_would_inject_a_header_or_a_recipient_is_invalid_email(api: Api, address: str) -> None:
    _, session = await api.register("ada")

    out = await set_email(api, session, address)
    asked = await request_reset(api, address)

    assert out["code"] == "INVALID_EMAIL", out
    assert asked == {"data": {"requestPasswordReset": {"ok": True}}}
    assert await outbox_count(api) == 0


@pytest.mark.parametrize("spelling", ["ADA@EXAMPLE.COM", "ada@\uff45xample.com", "ada@example\uff0ecom"])
async def test_another_spelling_of_a_taken_address_is_taken(api: Api, inbox: Inbox, spelling: str) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")
    _, eve = await api.register("eve")

    assert (await set_email(api, eve, spelling))["code"] == "EMAIL_TAKEN"


async def test_a_reset_link_is_no_verification_link_and_is_still_good_after_being_tried_as_one(
    api: Api, inbox: Inbox
) -> None:
    _, session = await verified_user(api, inbox, "ada", "ada@example.com")
    await set_email(api, session, "ada@example.org")  # unverified now
    verification = link_token((await inbox.wait_for(2))[1], VERIFY_URL)
    await set_email(api, session, "ada@example.com")  # the reset below goes to a verified address only
    link = link_token((await inbox.wait_for(3))[2], VERIFY_URL)
    assert (await verify_email(api, link))["__typename"] == "VerifyEmailSuccess"
    reset = await reset_link(api, inbox, "ada@example.com")

    assert (await verify_email(api, reset))["code"] == "INVALID_TOKEN"
    assert (await verify_email(api, verification))["code"] == "INVALID_TOKEN"  # voided by the later set
    assert (await reset_password(api, reset, NEW_PASSWORD))["__typename"] == "AuthSuccess"


async def test_a_reset_link_is_void_once_the_account_is_deleted_and_its_address_reused(api: Api, inbox: Inbox) -> None:
    _, session = await verified_user(api, inbox, "ada", "ada@example.com")
    link = await reset_link(api, inbox, "ada@example.com")
    deleted = await api.gql("mutation { deleteAccount { __typename } }", token=session)
    assert deleted["data"]["deleteAccount"]["__typename"] == "DeleteAccountSuccess"
    await verified_user(api, inbox, "ada2", "ada@example.com")

    assert (await reset_password(api, link, NEW_PASSWORD))["code"] == "INVALID_TOKEN"
    assert await api.authenticate("ada2", PASSWORD)
