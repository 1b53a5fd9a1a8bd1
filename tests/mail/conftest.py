"""The mail tests' parts: a real SMTP server (aiosmtpd) on a free port, the Mailing concept
on the test's database with a clock that stands still, and senders aimed at the server."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.concepts.mailing import Composer, Mailing, Sender, SmtpServer, SmtpTransport, templates
from app.sealing import Sealer
from tests.concepts.helpers import StillClock, make_settings

from .smtp import Certificates, Inbox, smtp_server

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
FROM = "Example <no-reply@example.com>"
VERIFY_URL = "https://app.example.com/verify?token={token}"
RESET_URL = "https://app.example.com/reset?token={token}"
GIVE_UP_AFTER = timedelta(hours=6)


def mail_settings(**overrides: Any) -> Any:
    return make_settings(verify_email_url=VERIFY_URL, reset_password_url=RESET_URL, mail_from=FROM, **overrides)


@pytest.fixture(scope="session")
def certificates() -> Certificates:
    return Certificates()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    """A plain SMTP server (no TLS, no credentials), like a local catcher."""
    with smtp_server(inbox) as port:
        yield port


@pytest.fixture
def clock() -> StillClock:
    return StillClock(START)


@pytest.fixture
def sealer() -> Sealer:
    return Sealer.for_purpose(["k" * 64], "mail tokens")


@pytest.fixture
async def mailing(database: Any, clock: StillClock, sealer: Sealer) -> Mailing:
    return Mailing(templates(mail_settings()), sealer, "smtp", clock)


class Senders:
    """Makes senders on the test's outbox, aimed at an SMTP URL, on the test's clock."""

    def __init__(self, mailing: Mailing, clock: StillClock) -> None:
        self.mailing, self.clock = mailing, clock

    def __call__(self, url: str, tls_context: ssl.SSLContext | None = None) -> Sender:
        composer = Composer(self.mailing.templates, self.mailing.sealer, FROM)
        transport = SmtpTransport(SmtpServer.from_url(url), "no-reply@example.com", tls_context)
        # jitter 0.5: every wait is exactly its nominal length
        return Sender(composer, transport, give_up_after=GIVE_UP_AFTER, clock=self.clock, jitter=lambda: 0.5)


@pytest.fixture
def senders(mailing: Mailing, clock: StillClock) -> Senders:
    return Senders(mailing, clock)
