"""How a mail leaves: over SMTP (aiosmtplib), or into the server's log when no SMTP server
is configured outside production (so a developer can open the link).

A transport opens a session for a round of sending; the SMTP one connects on its first
mail and keeps the connection for the round. Failures come out as `DeliveryError`s
that say whether trying again can help."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

_log = logging.getLogger("app.mail")

TIMEOUT = 30.0
"""Seconds any one step of talking to the SMTP server may take."""


class DeliveryError(Exception):
    """A mail was not delivered. `permanent`: the server refused this mail for good (a 5xx
    answer to its recipient or its content), so trying again cannot help. `unreachable`:
    the server could not be reached or refused the session, so the other mails of the
    round would fail too. The message names a reply code and the server's words, never
    a password."""

    def __init__(self, message: str, *, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


class Session(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class Transport(Protocol):
    name: str

    def session(self) -> AbstractAsyncContextManager[Session]: ...


@dataclass(frozen=True)
class SmtpServer:
    """Where SMTP_URL says to send: `smtp://[user:password@]host[:port]` (STARTTLS when the
    server offers it; port 587 unless given) or `smtps://...` (TLS from the first byte;
    port 465). The user and password are percent-decoded."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must be smtp://[user:password@]host[:port] or smtps://...")
        implicit = parts.scheme == "smtps"
        port = parts.port or (465 if implicit else 587)
        username = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        return cls(parts.hostname, port, implicit, username, password)

    def __str__(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"  # never the password

    def __repr__(self) -> str:
        return f"SmtpServer({self})"


class SmtpTransport:
    """Sends over SMTP. Credentials only ever go over TLS: a server that takes them in
    clear (no STARTTLS offered, not smtps://) is refused, and the mails wait."""

    name = "smtp"

    def __init__(self, server: SmtpServer, sender: str, tls_context: ssl.SSLContext | None = None) -> None:
        self.server = server
        self.sender = sender
        self.tls_context = tls_context

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SmtpSession]:
        """A round's connection: closed with QUIT at the end, dropped at once if the round
        is cancelled or fails (a reply may be pending: QUIT would wait for nothing)."""
        session = SmtpSession(self)
        try:
            yield session
        except BaseException:
            session.drop()
            raise
        await session.close()


class SmtpSession:
    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.client: aiosmtplib.SMTP | None = None

    async def send(self, message: EmailMessage) -> None:
        if self.client is None or not self.client.is_connected:
            self.client = await self._connect()
        try:
            await self.client.send_message(message, sender=self.transport.sender)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            reply = refused.recipients[0]
            self.drop()
            raise DeliveryError(_reply(reply), permanent=reply.code >= 500) from None
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as refused:
            self.drop()
            raise DeliveryError(_reply(refused), permanent=refused.code >= 500) from None
        except aiosmtplib.SMTPSenderRefused as refused:
            self.drop()  # MAIL_FROM is ours to fix, not the mail's: it waits
            raise DeliveryError(f"the sender was refused: {_reply(refused)}", unreachable=True) from None
        except (aiosmtplib.SMTPException, OSError) as failure:
            self.drop()
            raise DeliveryError(_failure(failure), unreachable=True) from None

    async def _connect(self) -> aiosmtplib.SMTP:
        server = self.transport.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.implicit_tls,
            start_tls=None,  # STARTTLS when the server offers it
            tls_context=self.transport.tls_context,
            timeout=TIMEOUT,
        )
        try:
            await client.connect()
            if server.username is not None:
                if client.get_transport_info("sslcontext") is None:
                    raise DeliveryError(
                        f"{server} offers no TLS: the credentials in SMTP_URL are never sent in clear",
                        unreachable=True,
                    )
                await client.login(server.username, server.password or "")
        except DeliveryError:
            client.close()
            raise
        except aiosmtplib.SMTPAuthenticationError as refused:
            client.close()
            raise DeliveryError(f"{server} refused the credentials: {_reply(refused)}", unreachable=True) from None
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as failure:
            client.close()
            raise DeliveryError(f"{server}: {_failure(failure)}", unreachable=True) from None
        return client

    async def close(self) -> None:
        """Says QUIT and closes."""
        client, self.client = self.client, None
        if client is not None and client.is_connected:
            with suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        if client is not None:
            client.close()

    def drop(self) -> None:
        """Closes the connection at once."""
        client, self.client = self.client, None
        if client is not None:
            client.close()


def _reply(refused: aiosmtplib.SMTPResponseException) -> str:
    return f"{refused.code} {' '.join(refused.message.split())[:200]}"


def _failure(failure: BaseException) -> str:
    if isinstance(failure, aiosmtplib.SMTPResponseException):
        return _reply(failure)
    return f"{type(failure).__name__}: {' '.join(str(failure).split())[:200]}"


class LogTransport:
    """Writes each mail's recipient, subject and text to the log, where a developer opens
    its link: for development without an SMTP server, never in production."""

    name = "log"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[LogSession]:
        yield LogSession()


class LogSession:
    async def send(self, message: EmailMessage) -> None:
        text = message.get_body(("plain",))
        body = text.get_content() if isinstance(text, EmailMessage) else ""
        _log.info(
            "Mail to %s (SMTP_URL is not set, so it is written here instead of sent)\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            body,
        )
