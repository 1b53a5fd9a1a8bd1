"""Email addresses, verification and password recovery through the API, with mail
delivered by the app's sender to a real SMTP server (aiosmtpd on a free port): every
rule of the feature, over GraphQL and REST."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from app.protocol.gates import BY_PASSWORD
from tests.mail.smtp import Inbox

from .email_flows import (
    ADDRESSES,
    OUTBOX,
    PASSWORD,
    RESET_URL,
    SET_EMAIL,
    TOKENS,
    VERIFY_URL,
    email_of,
    link_token,
    mailing_api,
    outbox_count,
    request_reset,
    reset_password,
    set_email,
    token_clock,
    unsent_mails_dropped,
    verified_user,
    verify_email,
)
from .helpers import AUTHENTICATE, Api, StartApi, assert_gql_error
from .second_factor import enroll, outcome, sign_in, verify

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def api(start_api: StartApi, inbox: Inbox) -> AsyncIterator[Api]:
    async with mailing_api(start_api, inbox) as running:
        yield running


# -- the address -------------------------------------------------------------------------------


async def test_email_is_null_until_set_and_needs_a_session(api: Api) -> None:
    _, session = await api.register("ada")

    assert await email_of(api, session) == {"data": {"email": None}}
    assert_gql_error(await email_of(api, None), "UNAUTHENTICATED", "email")
    response = await api.rest("/EmailAddresses/_getAddress", {"session": session})
    assert response.status_code == 200 and response.json() == {"address": None}, response.text


async def test_set_email_stores_it_unverified_and_mails_a_verification_link(api: Api, inbox: Inbox) -> None:
    _, session = await api.register("ada")

    out = await set_email(api, session, "Ada.Lovelace@Example.COM")

    assert out == {"__typename": "SetEmailSuccess", "email": {"address": "Ada.Lovelace@example.com", "verified": False}}
    assert (await email_of(api, session))["data"]["email"] == {"address": "Ada.Lovelace@example.com", "verified": False}
    [received] = await inbox.wait_for(1)
    assert received.recipients == ["Ada.Lovelace@example.com"]
    assert received.message["Subject"] == "Confirm your email address"
    text = received.part("plain")
    assert "Hello ada," in text and "for 24 hours." in text
    token = link_token(received, VERIFY_URL)
    assert len(token) >= 43  # 256 random bits

    verified = await verify_email(api, token)

    shown = {"address": "Ada.Lovelace@example.com", "verified": True}
    assert verified == {"__typename": "VerifyEmailSuccess", "email": shown}
    assert (await email_of(api, session))["data"]["email"]["verified"] is True


async def test_set_email_needs_a_session_and_the_right_password(api: Api) -> None:
    _, session = await api.register("ada")

    assert_gql_error(await api.gql(SET_EMAIL_ANONYMOUS), "UNAUTHENTICATED")
    wrong = await set_email(api, session, "ada@example.com", password="not the password")

    assert wrong["code"] == "INVALID_CREDENTIALS"
    assert await api.count(ADDRESSES) == 0 and await outbox_count(api) == 0


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign",
        "ada@localhost",
        "ada@example",
        "a" * 64 + "@" + "b" * 61 + "." + "c" * 61 + "." + "d" * 62 + ".com",  # 255 characters
        " ada@example.com",
        "ada@@x.com",
    ],
)
async def test_an_address_that_is_not_local_at_domain_tld_or_too_long_is_invalid_email(api: Api, address: str) -> None:
    _, session = await api.register("ada")

    out = await set_email(api, session, address)

    assert out["code"] == "INVALID_EMAIL", out
    assert await outbox_count(api) == 0


async def test_addresses_are_unique_regardless_of_case(api: Api) -> None:
    _, ada = await api.register("ada")
    _, bob = await api.register("bob")
    assert (await set_email(api, ada, "shared@example.com"))["__typename"] == "SetEmailSuccess"

    taken = await set_email(api, bob, "SHARED@Example.com")

    assert taken["code"] == "EMAIL_TAKEN"


async def test_setting_an_address_again_mails_a_new_link_and_voids_the_earlier_ones(api: Api, inbox: Inbox) -> None:
    _, session = await api.register("ada")
    await set_email(api, session, "ada@example.com")
    await set_email(api, session, "ada@example.com")
    first, second = [link_token(mail, VERIFY_URL) for mail in await inbox.wait_for(2)]

    assert (await verify_email(api, first))["code"] == "INVALID_TOKEN"
    assert (await verify_email(api, second))["__typename"] == "VerifyEmailSuccess"


async def test_replacing_a_verified_address_makes_it_unverified_and_its_old_link_void(api: Api, inbox: Inbox) -> None:
    _, session = await verified_user(api, inbox, "ada", "ada@example.com")
    await set_email(api, session, "ada@example.org")

    assert (await email_of(api, session))["data"]["email"] == {"address": "ada@example.org", "verified": False}


async def test_a_link_for_an_address_that_is_no_longer_the_users_is_invalid_token(api: Api, inbox: Inbox) -> None:
    user, session = await api.register("ada")
    await set_email(api, session, "ada@example.org")
    # A link for another address of this user, still live (as if mailed by a set that raced this one).
    tokens = api.engine.concepts["OneTimeTokens"]
    issued = await tokens.issue(purpose="verify-email", subject=user, data={"address": "ada@example.com"})  # type: ignore[attr-defined]

    out = await verify_email(api, issued["token"])

    assert out["code"] == "INVALID_TOKEN"
    assert (await email_of(api, session))["data"]["email"]["verified"] is False


@pytest.mark.parametrize("how", ["unknown", "used", "expired"])
async def test_a_verification_link_unknown_used_or_expired_is_invalid_token(api: Api, inbox: Inbox, how: str) -> None:
    _, session = await api.register("ada")
    await set_email(api, session, "ada@example.com")
    token = link_token((await inbox.wait_for(1))[0], VERIFY_URL)
    if how == "unknown":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif how == "used":
        assert (await verify_email(api, token))["__typename"] == "VerifyEmailSuccess"
    else:
        token_clock(api).advance(timedelta(hours=24, seconds=1))

    out = await verify_email(api, token)

    assert out["code"] == "INVALID_TOKEN", out


async def test_a_verification_link_works_until_it_expires(api: Api, inbox: Inbox) -> None:
    _, session = await api.register("ada")
    await set_email(api, session, "ada@example.com")
    token = link_token((await inbox.wait_for(1))[0], VERIFY_URL)
    token_clock(api).advance(timedelta(hours=24, seconds=-1))

    assert (await verify_email(api, token))["__typename"] == "VerifyEmailSuccess"


async def test_rest_serves_the_routes_at_api_paths(api: Api, inbox: Inbox) -> None:
    _, session = await api.register("ada")

    set_response = await api.rest(
        "/EmailAddresses/set", {"session": session, "address": "ada@example.com", "password": PASSWORD}
    )
    token = link_token((await inbox.wait_for(1))[0], VERIFY_URL)
    verify_response = await api.rest("/EmailAddresses/verify", {"token": token})
    again = await api.rest("/EmailAddresses/verify", {"token": token})
    got = await api.rest("/EmailAddresses/_getAddress", {"session": session})
    forgot = await api.rest("/UserAuthentication/requestPasswordReset", {"address": "ada@example.com"})
    reset_token = link_token((await inbox.wait_for(2))[1], RESET_URL)
    reset = await api.rest("/UserAuthentication/resetPassword", {"token": reset_token, "newPassword": NEW_PASSWORD})

    assert set_response.json() == {"address": "ada@example.com", "verified": False}, set_response.text
    assert verify_response.json() == {"address": "ada@example.com", "verified": True}
    assert again.status_code == 400 and again.json()["code"] == "INVALID_TOKEN"
    assert got.json() == {"address": "ada@example.com", "verified": True}
    assert forgot.status_code == 200 and forgot.json() == {"ok": True}
    assert reset.status_code == 200 and set(reset.json()) == {"user", "username", "session", "expiresAt"}


# -- asking for a reset link -------------------------------------------------------------------


async def test_a_reset_link_goes_only_to_a_verified_address_and_the_answer_is_always_the_same(
    api: Api, inbox: Inbox
) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")
    _, bob = await api.register("bob")
    await set_email(api, bob, "bob@example.com")  # not verified
    await inbox.wait_for(2)
    mails_before = await outbox_count(api)

    answers = [
        await request_reset(api, address)
        for address in ("ADA@example.com", "bob@example.com", "nobody@example.com", "not an address")
    ]

    assert answers == [{"data": {"requestPasswordReset": {"ok": True}}}] * 4
    [reset_mail] = [mail for mail in await inbox.wait_for(3) if mail.message["Subject"] == "Reset your password"]
    assert reset_mail.recipients == ["ada@example.com"]
    assert "Hello ada," in reset_mail.part("plain") and "for 1 hour." in reset_mail.part("plain")
    # Every counted request issued a token and queued a mail: ada's, or for the others a mail
    # queued unsent (the same steps on each path), which the sender deletes unread; only
    # ada's token is anyone's. ("not an address" is no recipient: nothing is queued for it.)
    await unsent_mails_dropped(api)
    assert await outbox_count(api) == mails_before + 1
    resets = await api.mongo[api.db_name][TOKENS].find({"purpose": "reset-password"}).to_list()
    assert len(resets) == 4 and [token["subject"] is not None for token in resets].count(True) == 1


async def test_reset_requests_are_limited_per_address_and_beyond_it_answered_alike_without_mail(
    api: Api, inbox: Inbox
) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")

    answers = [await request_reset(api, "ada@example.com") for _ in range(5)]

    assert answers == [{"data": {"requestPasswordReset": {"ok": True}}}] * 5
    assert await outbox_count(api, template="reset-password") == 3  # THROTTLE_EMAIL_RESETS


# -- resetting the password --------------------------------------------------------------------


async def reset_link(api: Api, inbox: Inbox, address: str) -> str:
    before = len(inbox.received)
    await request_reset(api, address)
    return link_token((await inbox.wait_for(before + 1))[before], RESET_URL)


async def test_a_reset_replaces_the_password_revokes_every_session_and_signs_in(api: Api, inbox: Inbox) -> None:
    user, first = await verified_user(api, inbox, "ada", "ada@example.com")
    second = await api.authenticate("ada")
    token = await reset_link(api, inbox, "ada@example.com")

    out = await reset_password(api, token, NEW_PASSWORD)

    assert out["__typename"] == "AuthSuccess" and out["user"] == {"id": user, "username": "ada"}
    assert await api.me(out["session"]) == {"id": user, "username": "ada"}
    assert await api.me(first) is None and await api.me(second) is None
    old = (await api.gql(AUTHENTICATE, {"username": "ada", "password": PASSWORD}))["data"]["authenticate"]
    assert old["code"] == "INVALID_CREDENTIALS"
    assert await api.authenticate("ada", NEW_PASSWORD)
    assert (await reset_password(api, token, "yet another password"))["code"] == "INVALID_TOKEN"


async def test_a_reset_voids_every_other_reset_link_of_the_user(api: Api, inbox: Inbox) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")
    first = await reset_link(api, inbox, "ada@example.com")
    second = await reset_link(api, inbox, "ada@example.com")

    assert (await reset_password(api, second, NEW_PASSWORD))["__typename"] == "AuthSuccess"

    assert (await reset_password(api, first, "yet another password"))["code"] == "INVALID_TOKEN"


async def test_a_weak_password_is_refused_and_leaves_the_link_usable(api: Api, inbox: Inbox) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")
    token = await reset_link(api, inbox, "ada@example.com")

    weak = await reset_password(api, token, "short")

    assert weak["code"] == "WEAK_PASSWORD"
    assert await api.authenticate("ada", PASSWORD)  # nothing changed
    assert (await reset_password(api, token, NEW_PASSWORD))["__typename"] == "AuthSuccess"


@pytest.mark.parametrize("how", ["unknown", "expired", "a verification link"])
async def test_a_reset_link_unknown_expired_or_of_another_purpose_is_invalid_token(
    api: Api, inbox: Inbox, how: str
) -> None:
    await verified_user(api, inbox, "ada", "ada@example.com")
    token = await reset_link(api, inbox, "ada@example.com")
    if how == "unknown":
        token = "x" * 43
    elif how == "expired":
        token_clock(api).advance(timedelta(hours=1, seconds=1))
    else:
        _, session = await api.register("bob")
        await set_email(api, session, "bob@example.com")
        token = link_token((await inbox.wait_for(3))[2], VERIFY_URL)

    out = await reset_password(api, token, NEW_PASSWORD)
    weak = await reset_password(api, token, "short")  # a bad link is said first

    assert out["code"] == "INVALID_TOKEN" and weak["code"] == "INVALID_TOKEN"
    assert await api.authenticate("ada", PASSWORD)


async def test_a_reset_of_a_user_with_an_authenticator_app_is_held_for_the_second_factor(
    api: Api, inbox: Inbox
) -> None:
    """The session gate hears of a reset as of a password sign-in, so two-factor's guard
    holds it: the password is replaced and every session revoked all the same, but the
    new session waits for a code (a mailbox alone never gets past a second factor)."""
    ada = await enroll(api)
    await set_email(api, ada.session, "ada@example.com")
    assert (await verify_email(api, link_token((await inbox.wait_for(1))[0], VERIFY_URL)))["email"]["verified"]
    token = await reset_link(api, inbox, "ada@example.com")

    held = await reset_password(api, token, NEW_PASSWORD)
    [asked] = [r.input for r in api.engine.recent[-1].records if r.action.qualname == "Gating.ask"]

    assert held["__typename"] == "SecondFactorRequired" and asked["method"] == BY_PASSWORD
    assert await api.me(ada.session) is None and await api.count("Sessioning.sessions") == 0
    assert outcome(await sign_in(api, "ada", PASSWORD)) == "INVALID_CREDENTIALS"
    signed_in = await verify(api, held["ticket"], ada.code())
    assert signed_in["__typename"] == "AuthSuccess" and signed_in["user"]["id"] == ada.user


# -- deleting the account ----------------------------------------------------------------------


async def test_deleting_the_account_removes_its_address_and_tokens_so_the_address_is_free(
    api: Api, inbox: Inbox
) -> None:
    user, session = await verified_user(api, inbox, "ada", "ada@example.com")
    await request_reset(api, "ada@example.com")  # an outstanding reset link
    # and a verification link (setting the address again would void the reset link)
    tokens = api.engine.concepts["OneTimeTokens"]
    await tokens.issue(purpose="verify-email", subject=user, data={"address": "ada@example.com"})  # type: ignore[attr-defined]
    assert await api.count(TOKENS, {"subject": user}) == 2

    deleted = await api.gql("mutation { deleteAccount { __typename } }", token=session)

    assert deleted == {"data": {"deleteAccount": {"__typename": "DeleteAccountSuccess"}}}
    assert await api.count(ADDRESSES) == 0 and await api.count(TOKENS, {"subject": user}) == 0
    _, bob = await api.register("bob")
    assert (await set_email(api, bob, "ADA@example.com"))["__typename"] == "SetEmailSuccess"


# -- mail off ----------------------------------------------------------------------------------

PRODUCTION = {
    "production": True,
    "webauthn_rp_id": "app.example.com",
    "webauthn_rp_name": "Example",
    "webauthn_origins": ["https://app.example.com"],
}


async def test_with_mail_off_the_mail_routes_say_so_for_every_address_alike(
    start_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app")
    async with start_api(**PRODUCTION, throttle_address_registrations=100) as api:
        _, session = await api.register("ada")
        set_body = await api.gql(SET_EMAIL, {"address": "ada@example.com", "password": PASSWORD}, session)
        forgot = [await request_reset(api, address) for address in ("ada@example.com", "nobody@example.com")]
        rest = await api.rest("/UserAuthentication/requestPasswordReset", {"address": "ada@example.com"})
        counted = await api.count("Throttling.counts")
        stored = await api.count(ADDRESSES) + await api.count(TOKENS) + await api.count(OUTBOX)

    assert_gql_error(set_body, "MAIL_UNAVAILABLE")
    for body in forgot:
        assert_gql_error(body, "MAIL_UNAVAILABLE")
    assert forgot[0]["errors"] == forgot[1]["errors"]
    assert rest.status_code == 503 and rest.json()["code"] == "MAIL_UNAVAILABLE"
    assert stored == 0 and counted == 1  # the registration's count only: nothing was tried


SET_EMAIL_ANONYMOUS = 'mutation { setEmail(address: "ada@example.com", password: "x") { __typename } }'
