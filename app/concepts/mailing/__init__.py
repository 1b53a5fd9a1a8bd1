"""Mailing: the outbox concept, its templates and its sender."""

from __future__ import annotations

import ssl
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import quote

from beanie import Document
from pydantic import SecretStr

from app.keys import jwt_secrets
from app.sealing import Sealer
from app.settings import Settings, SettingsView

from .concept import INVALID_MAIL, MAIL_UNAVAILABLE, Delivery, Mailing
from .documents import Mail
from .messages import Composer
from .sender import MailObserver, Sender
from .templates import MailTemplate, load
from .transports import LogTransport, SmtpServer, SmtpTransport, Transport

DOCUMENTS: list[type[Document]] = [Mail]

VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"

_TRY_IN_GRAPHIQL = {
    VERIFY_EMAIL: 'mutation { verifyEmail(token: "{token}") { ... on VerifyEmailSuccess { email { address verified } } '
    "... on UserError { code message } } }",
    RESET_PASSWORD: 'mutation { resetPassword(token: "{token}", newPassword: "") { ... on AuthSuccess { session } '
    "... on UserError { code message } } }",
}


class MailingSettings(SettingsView):
    jwt_secret: SecretStr | None
    jwt_secret_previous: SecretStr | None
    data_dir: Path
    host: str
    port: int
    smtp_url: SecretStr | None
    production: bool
    mail_templates: Path | None
    verify_email_url: str | None
    reset_password_url: str | None
    verify_email_ttl: int
    reset_password_ttl: int


def graphiql_link(settings: MailingSettings, template: str) -> str:
    """The development default of a link: this server's GraphiQL with the mutation that
    takes the token typed in, ready to run."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    query = quote(_TRY_IN_GRAPHIQL[template], safe="").replace(quote("{token}", safe=""), "{token}")
    return f"http://{host}:{settings.port}/graphql?query={query}"


def lasting(seconds: int) -> str:
    """A lifetime in words, for the mails: `24 hours`, `1 hour`, `15 minutes`, `7 days`."""
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        count, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0:
        count, unit = seconds // 3600, "hour"
    elif seconds % 60 == 0:
        count, unit = seconds // 60, "minute"
    else:
        count, unit = seconds, "second"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def templates(settings: MailingSettings) -> dict[str, MailTemplate]:
    """Every mail the syncs may queue, with the values they give it (read once, checked at start-up)."""

    def mail(name: str, link: str | None, lifetime: int) -> MailTemplate:
        return load(
            name,
            settings.mail_templates,
            given=("username",),
            fixed={"valid_for": lasting(lifetime)},
            link=link or graphiql_link(settings, name),
        )

    return {
        VERIFY_EMAIL: mail(VERIFY_EMAIL, settings.verify_email_url, settings.verify_email_ttl),
        RESET_PASSWORD: mail(RESET_PASSWORD, settings.reset_password_url, settings.reset_password_ttl),
    }


def delivery(settings: MailingSettings) -> Delivery:
    if settings.smtp_url is not None:
        return "smtp"
    return "off" if settings.production else "log"


def create(settings: MailingSettings) -> Mailing:
    sealer = Sealer.for_purpose(jwt_secrets(settings), "mail tokens")
    return Mailing(templates(settings), sealer, delivery(settings))


def transport(settings: Settings, tls_context: ssl.SSLContext | None = None) -> Transport | None:
    """Where mail goes: the SMTP server, the log (development), or nowhere (mail is off)."""
    if settings.smtp_url is not None:
        envelope = parseaddr(settings.mail_from)[1]
        return SmtpTransport(SmtpServer.from_url(settings.smtp_url.get_secret_value()), envelope, tls_context)
    return None if settings.production else LogTransport()


def sender_for(
    settings: Settings,
    mailing: Mailing,
    tls_context: ssl.SSLContext | None = None,
    observer: MailObserver | None = None,
) -> Sender | None:
    """The sender of this process (None when mail is off); `start()` runs it."""
    found = transport(settings, tls_context)
    if found is None:
        return None
    composer = Composer(mailing.templates, mailing.sealer, settings.mail_from)
    return Sender(
        composer,
        found,
        give_up_after=timedelta(seconds=settings.mail_give_up_after),
        wake=mailing.queued,
        observer=observer,
    )


__all__ = [
    "DOCUMENTS",
    "INVALID_MAIL",
    "MAIL_UNAVAILABLE",
    "RESET_PASSWORD",
    "VERIFY_EMAIL",
    "Composer",
    "Mail",
    "MailObserver",
    "MailTemplate",
    "Mailing",
    "MailingSettings",
    "Sender",
    "SmtpServer",
    "SmtpTransport",
    "create",
    "sender_for",
    "templates",
    "transport",
]
