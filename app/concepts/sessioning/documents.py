"""Sessioning's state: live sessions, each for one user until it expires."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from beanie import Document, Indexed
from pymongo import ASCENDING, IndexModel


class Session(Document):
    """A session. The token names it; deleting the document revokes the token.
    The TTL index lets the database drop it once expired."""

    id: str  # type: ignore[assignment]
    user: Annotated[str, Indexed()]
    created: datetime
    expires: datetime

    class Settings:
        name = "Sessioning.sessions"
        indexes = [IndexModel([("expires", ASCENDING)], expireAfterSeconds=0)]
