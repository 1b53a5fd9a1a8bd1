"""A queued mail as it leaves: a MIME message with a plain-text and an HTML part."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from app.sealing import Sealer

from .templates import MailTemplate


class Composer:
    """Builds each mail from its template, opening its sealed token to make its link."""

    def __init__(self, templates: Mapping[str, MailTemplate], sealer: Sealer, sender: str) -> None:
        self.templates = templates
        self.sealer = sealer
        self.sender = sender
        self.envelope_sender = parseaddr(sender)[1]
        self.domain = self.envelope_sender.rpartition("@")[2] or "localhost"

    def compose(self, mail: Mapping[str, Any]) -> EmailMessage | None:
        """The message; None if its token cannot be opened (JWT_SECRET changed since it was queued)."""
        template = self.templates[mail["template"]]
        token = None
        if mail.get("sealed") is not None:
            token = self.sealer.open(mail["sealed"], str(mail["_id"]))
            if token is None:
                return None
        rendered = template.render(mail["to"], mail.get("values") or {}, token)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail["to"]
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(usegmt=True)
        # The same id on every attempt: a receiver can tell a mail sent again after a crash.
        message["Message-ID"] = f"<{mail['_id']}@{self.domain}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message
