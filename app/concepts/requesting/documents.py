"""Requesting's persistent state: a journal of the requests served, kept for a while."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel


class RequestRecord(Document):
    """One API call as it was answered, secrets redacted. Dropped by a TTL index."""

    path: str
    inputs: dict[str, Any]
    response: dict[str, Any] | None
    status: str
    ms: float
    flow: str
    time: datetime
    expires: datetime

    class Settings:
        name = "Requesting.requests"
        indexes = [IndexModel([("expires", ASCENDING)], expireAfterSeconds=0)]
