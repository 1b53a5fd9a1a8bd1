"""Throttling's state: failure counts per key, each expiring with its window."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, IndexModel


class Failures(Document):
    """Failures counted for one key (`kind:key`) since `since`; dropped once `expires` passes."""

    id: str  # type: ignore[assignment]
    failures: int
    since: datetime
    expires: datetime

    class Settings:
        name = "Throttling.failures"
        indexes = [IndexModel([("expires", ASCENDING)], expireAfterSeconds=0)]
