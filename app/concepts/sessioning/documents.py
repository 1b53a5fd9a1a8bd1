"""Sessioning's state: live sessions, each for one user until it expires."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, DESCENDING, IndexModel


class Session(Document):
    """A session. The token names it by `id`; deleting the document revokes the token.
    `handle` is its public name, random and unrelated to the token: what the user sees
    and revokes it by, among their own sessions (found by the `user` index, so the
    handle needs no index of its own for every session write to keep up). The TTL index
    lets the database drop it once expired."""

    id: str  # type: ignore[assignment]
    handle: str | None = None  # None only for sessions created before handles existed
    user: str
    created: datetime
    expires: datetime
    last_used: datetime | None = None
    client: str | None = None
    user_agent: str | None = None
    method: str | None = None  # None only for sessions created before methods were recorded: a password

    class Settings:
        name = "Sessioning.sessions"
        indexes = [
            IndexModel([("expires", ASCENDING)], expireAfterSeconds=0),
            IndexModel([("user", ASCENDING), ("created", DESCENDING)]),
        ]
