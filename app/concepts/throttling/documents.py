"""Throttling's state: attempts counted per key, each expiring with its window."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, IndexModel


class Attempts(Document):
    """Attempts counted for one key (`kind:key`, or `kind from source`) since `since`;
    dropped once `expires` passes."""

    id: str  # type: ignore[assignment]
    attempts: int
    since: datetime
    expires: datetime

    class Settings:
        name = "Throttling.attempts"
        indexes = [IndexModel([("expires", ASCENDING)], expireAfterSeconds=0)]
