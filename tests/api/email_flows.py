"""What the email tests share: an app that mails through a real SMTP server (aiosmtpd on a
free port), the operations as a frontend sends them, and the links read from the mails."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from app.concepts.one_time_tokens import OneTimeTokens
from tests.concepts.helpers import StillClock
from tests.mail.smtp import Inbox, Received, smtp_server

from .helpers import Api, StartApi

VERIFY_URL = "https://app.example.com/verify?token={token}"
RESET_URL = "https://app.example.com/reset?token={token}"
FROM = "Example <no-reply@example.com>"
OUTBOX = "Mailing.outbox"
TOKENS = "OneTimeTokens.tokens"
ADDRESSES = "EmailAddresses.addresses"
PASSWORD = "correct horse"

EMAIL = "{ email { address verified } }"
SET_EMAIL = """
mutation SetEmail($address: String!, $password: String!) {
  setEmail(address: $address, password: $password) {
    __typename
    ... on SetEmailSuccess { email { address verified } }
    ... on UserError { code message }
  }
}
"""
VERIFY_EMAIL = """
mutation Verify($token: String!) {
  verifyEmail(token: $token) {
    __typename
    ... on VerifyEmailSuccess { email { address verified } }
    ... on UserError { code message }
  }
}
"""
REQUEST_RESET = "mutation Forgot($address: String!) { requestPasswordReset(address: $address) { ok } }"
RESET_PASSWORD = """
mutation Reset($token: String!, $newPassword: String!) {
  resetPassword(token: $token, newPassword: $newPassword) {
    __typename
    ... on AuthSuccess { user { id username } session expiresAt }
    ... on SecondFactorRequired { ticket expiresAt }
    ... on UserError { code message }
  }
}
"""


def mail_settings(smtp_port: int, **overrides: Any) -> dict[str, Any]:
    return {
        "smtp_url": f"smtp://127.0.0.1:{smtp_port}",
        "mail_from": FROM,
        "verify_email_url": VERIFY_URL,
        "reset_password_url": RESET_URL,
        **overrides,
    }


@asynccontextmanager
async def mailing_api(start_api: StartApi, inbox: Inbox, **overrides: Any) -> AsyncIterator[Api]:
    """An app whose mail goes to `inbox` (a real SMTP server); its tokens' clock stands
    still at the real time until a test moves it (see `token_clock`)."""
    with smtp_server(inbox) as port:
        async with start_api(**mail_settings(port, **overrides)) as api:
            concept = api.engine.concepts["OneTimeTokens"]
            assert isinstance(concept, OneTimeTokens)
            concept.clock = StillClock(datetime.now(UTC).replace(microsecond=0))
            yield api


def token_clock(api: Api) -> StillClock:
    clock = api.engine.concepts["OneTimeTokens"].clock  # type: ignore[attr-defined]
    assert isinstance(clock, StillClock)
    return clock


def link_token(received: Received, url: str) -> str:
    """The token of the link in a mail's text part (the link built from `url`)."""
    prefix = re.escape(url.split("{token}")[0])
    found = re.search(prefix + r"([A-Za-z0-9_%\-]+)", received.part("plain"))
    assert found, received.part("plain")
    return unquote(found.group(1))


async def set_email(api: Api, token: str, address: str, password: str = PASSWORD) -> dict[str, Any]:
    body = await api.gql(SET_EMAIL, {"address": address, "password": password}, token)
    assert "errors" not in body, body
    return body["data"]["setEmail"]  # type: ignore[no-any-return]


async def verify_email(api: Api, token: str) -> dict[str, Any]:
    body = await api.gql(VERIFY_EMAIL, {"token": token})
    assert "errors" not in body, body
    return body["data"]["verifyEmail"]  # type: ignore[no-any-return]


async def request_reset(api: Api, address: str) -> Any:
    return await api.gql(REQUEST_RESET, {"address": address})


async def reset_password(api: Api, token: str, new: str) -> dict[str, Any]:
    body = await api.gql(RESET_PASSWORD, {"token": token, "newPassword": new})
    assert "errors" not in body, body
    return body["data"]["resetPassword"]  # type: ignore[no-any-return]


async def email_of(api: Api, session: str | None) -> Any:
    body = await api.gql(EMAIL, token=session)
    return body


async def verified_user(api: Api, inbox: Inbox, username: str, address: str) -> tuple[str, str]:
    """A registered user with a verified address; (user id, session). The mail count in
    `inbox` grows by one."""
    user, session = await api.register(username)
    before = len(inbox.received)
    assert (await set_email(api, session, address))["__typename"] == "SetEmailSuccess"
    received = (await inbox.wait_for(before + 1))[before]
    assert (await verify_email(api, link_token(received, VERIFY_URL)))["__typename"] == "VerifyEmailSuccess"
    return user, session


async def outbox_count(api: Api, **query: Any) -> int:
    return await api.count(OUTBOX, query)


async def unsent_mails_dropped(api: Api) -> None:
    """Waits until the sender has deleted every mail queued unsent (to no one)."""
    async with asyncio.timeout(30):  # a guard against a hang, not a timing rule
        while True:  # the database changes, and no event tells it
            if not await outbox_count(api, to=None):
                return
            await asyncio.sleep(0.02)
