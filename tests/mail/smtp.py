"""A real SMTP server for the tests: aiosmtpd on a free port, in a thread of its own,
keeping what it receives, and answering as a test tells it (refuse a recipient or the
content with a 4xx or 5xx reply, require TLS or credentials)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    login: str | None

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert isinstance(body, EmailMessage), self.message
        return str(body.get_content())


class Inbox:
    """The server's handler: keeps each mail it accepts; `rcpt_reply` / `data_reply`,
    when set, are what it answers instead of accepting (e.g. "451 4.3.0 Try later")."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.logins: list[tuple[str, str]] = []
        self._arrived = threading.Condition()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        tls = server.transport is not None and server.transport.get_extra_info("sslcontext") is not None
        with self._arrived:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, tls, login))
            self._arrived.notify_all()
        return "250 OK"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            login = (data.login.decode(), data.password.decode())
            self.logins.append(login)
            if login == (USER, PASSWORD):
                return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535

    async def wait_for(self, count: int) -> list[Received]:
        """The mails, once `count` of them arrived (60 s: a guard against a hang, not a timing rule)."""

        def arrived() -> bool:
            with self._arrived:
                return self._arrived.wait_for(lambda: len(self.received) >= count, timeout=60)

        assert await asyncio.to_thread(arrived), f"{len(self.received)} of {count} mails arrived"
        return self.received


USER, PASSWORD = "mailer", "pa:ss@word"
"""The credentials the servers that require them take (percent-encoded in an SMTP_URL)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Certificates:
    """A certificate authority made for the test run, and a server certificate for 127.0.0.1."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert("127.0.0.1", "localhost")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@contextmanager
def smtp_server(
    inbox: Inbox,
    port: int | None = None,
    *,
    starttls: Certificates | None = None,
    implicit_tls: Certificates | None = None,
    auth: bool = False,
) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 (at `port`, or a free one) while the block runs; yields its port.
    `starttls`: it offers STARTTLS; `implicit_tls`: TLS from the first byte; `auth`: it
    requires the credentials USER and PASSWORD (over TLS only)."""
    port = port or free_port()
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs["tls_context"] = starttls.server_context()
    if implicit_tls is not None:
        kwargs["ssl_context"] = implicit_tls.server_context()
    if auth:
        kwargs.update(authenticator=inbox.authenticate, auth_required=True, auth_require_tls=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
