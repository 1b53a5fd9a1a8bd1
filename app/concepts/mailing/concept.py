"""concept Mailing

purpose: tell users things by email, reliably, without making them wait.
state: an outbox of Mails, each with a recipient, a template, the values to fill it
with, a token for its link (sealed), and how its delivery goes (queued, being sent,
sent, or given up).

Queueing a mail is one durable write in the request that asks for it (a transactional
outbox): the request is answered once the mail is recorded, never later, and a mail
recorded is never lost. The sender (sender.py), in every server process, delivers it.

A mail can also be queued unsent (`send: false`): a mail to no one, checked, sealed and
recorded exactly as any (so queueing it costs what queueing a mail costs), whose
recipient is not kept, and which the sender drops unread, without SMTP, as soon as it
claims it: never delivered, logged or counted as a mail. A flow that must take as long
whether or not it mails (a reset link asked for an address no one has) queues one in
place of the mail it must not send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal, TypedDict

from bson import ObjectId
from email_validator import EmailNotValidError, validate_email

from app.engine import Secret
from app.protocol.codes import declare
from app.sealing import Sealer

from ..outputs import INVALID_EMAIL, Error, error
from .documents import Mail
from .templates import MailTemplate

MAIL_UNAVAILABLE = declare(
    "MAIL_UNAVAILABLE",
    status=503,
    request_level=True,
    description="Mail is off on this server (production without SMTP_URL), so an operation that would send mail "
    "is refused rather than pretending.",
)
INVALID_MAIL = declare(
    "INVALID_MAIL",
    status=500,
    request_level=True,
    description="Never, unless a sync queues a mail its template does not take (a bug of the server's, not the "
    "client's).",
)

Delivery = Literal["smtp", "log", "off"]

_OFF = error(MAIL_UNAVAILABLE, "This server sends no mail.")
_BAD_RECIPIENT = error(INVALID_EMAIL, "That is not an email address mail can be sent to.")


class QueuedOut(TypedDict):
    mail: str


class DeliveryRow(TypedDict):
    delivering: bool
    by: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _recipient(to: object) -> str | None:
    """The address as SMTP takes it (ASCII, the domain in IDNA form), or None."""
    if not isinstance(to, str):
        return None
    try:
        return validate_email(to, check_deliverability=False, allow_smtputf8=False).ascii_email
    except EmailNotValidError:
        return None


class Mailing:
    """Queues mails for the sender; knows whether mail goes anywhere at all."""

    def __init__(
        self,
        templates: Mapping[str, MailTemplate],
        sealer: Sealer,
        delivery: Delivery,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.templates = templates
        self.sealer = sealer
        self.delivery = delivery
        self.clock = clock
        self.queued = asyncio.Event()
        """Set when a mail is queued: wakes this process's sender at once."""

    async def queue(
        self, to: str, template: str, token: Secret | None = None, send: bool = True, **values: str
    ) -> QueuedOut | Annotated[Error, MAIL_UNAVAILABLE, INVALID_MAIL, INVALID_EMAIL]:
        """requires: mail goes somewhere; a template this mail has, with exactly the values
        it takes, and a token if (and only if) it carries a link; a recipient mail can be
        sent to.
        effects: records the mail for the sender, its token sealed (it is never stored in
        clear, and is forgotten once the mail is sent); the sender is woken. With `send`
        false, the same checks and the same write, but the recipient is not kept: a mail
        to no one, which the sender drops unsent."""
        if self.delivery == "off":
            return _OFF
        kind = self.templates.get(template) if isinstance(template, str) else None
        if (
            kind is None
            or set(values) != kind.given
            or not all(isinstance(value, str) for value in values.values())
            or (kind.link is not None) != isinstance(token, str)
            or not isinstance(send, bool)
        ):
            return error(INVALID_MAIL, f"Mail {template!r} cannot be queued with these values.")
        recipient = _recipient(to)
        if recipient is None:
            return _BAD_RECIPIENT
        now = self.clock()
        ident = ObjectId()
        mail = Mail(
            id=ident,
            to=recipient if send else None,
            template=template,
            values=values,
            sealed=self.sealer.seal(token, str(ident)) if isinstance(token, str) else None,
            due=now,
            created=now,
        )
        await mail.insert()
        self.queued.set()
        return {"mail": str(ident)}

    async def _getDelivery(self) -> list[DeliveryRow]:
        """Whether mail goes anywhere, and how: `smtp`, `log` (development without
        SMTP_URL: each mail is written to the server's log), or `off` (production without
        SMTP_URL: nothing can be sent, so a route should say so rather than pretend)."""
        return [{"delivering": self.delivery != "off", "by": self.delivery}]
