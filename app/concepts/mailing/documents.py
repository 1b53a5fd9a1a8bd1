"""Mailing's state: the outbox, every mail from the request that queued it until a while
after it was sent or given up."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document
from pymongo import ASCENDING, IndexModel


class Mail(Document):
    """One mail. `due` is set only while it is unfinished: when it may next be tried
    (queued) or when its sender's lease ends (sending), so the mails to send are one
    range of its index and a lease that runs out makes the mail due again. A link's
    token is kept sealed (app.sealing), and only until the mail is sent or given up;
    the TTL index drops the mail a while after that. A mail queued unsent has no
    recipient (`to` is None): its sender deletes it when it claims it."""

    to: str | None
    template: str
    values: dict[str, str]
    sealed: bytes | None = None
    state: Literal["queued", "sending", "sent", "failed"] = "queued"
    due: datetime | None = None
    claim: str | None = None
    attempts: int = 0
    created: datetime
    last_error: str | None = None
    finished: datetime | None = None
    expires: datetime | None = None

    class Settings:
        name = "Mailing.outbox"
        indexes = [
            IndexModel([("due", ASCENDING)]),
            IndexModel([("expires", ASCENDING)], expireAfterSeconds=0),
        ]
