"""concept Throttling

purpose: slow down guessing, by refusing attempts on a key after too many failures
within a window of time.
state: a set of Failures, each with a kind (e.g. "username"), a key, a count and the
time the window started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..outputs import Error, error
from .documents import Failures

UNKNOWN_KIND = "UNKNOWN_KIND"


@dataclass(frozen=True)
class Limit:
    failures: int
    window: timedelta


class FailedOut(TypedDict):
    kind: str
    key: str
    count: int


class ClearedOut(TypedDict):
    kind: str
    key: str


class BlockedRow(TypedDict):
    until: datetime


def _id(kind: str, key: str) -> str:
    return f"{kind}:{key.casefold()}"


class Throttling:
    """Counts failures per (kind, key); keys are compared without regard to case."""

    def __init__(self, limits: dict[str, Limit]) -> None:
        self.limits = limits

    async def fail(self, kind: str, key: str) -> FailedOut | Error:
        """effects: counts one more failure for the key, in the current window
        (a new window starts when the last one has passed)."""
        limit = self.limits.get(kind)
        if limit is None or not isinstance(key, str):
            return error(UNKNOWN_KIND, f"Nothing is throttled by {kind!r}.")
        now = datetime.now(UTC)
        collection = Failures.get_pymongo_collection()
        ident = _id(kind, key)
        document = await collection.find_one_and_update(
            {"_id": ident, "expires": {"$gt": now}},
            {"$inc": {"failures": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if document is None:
            document = {"failures": 1}
            try:
                await collection.replace_one(
                    {"_id": ident, "expires": {"$lte": now}},
                    {"failures": 1, "since": now, "expires": now + limit.window},
                    upsert=True,
                )
            except DuplicateKeyError:  # another failure just opened the window: count in it
                document = await collection.find_one_and_update(
                    {"_id": ident}, {"$inc": {"failures": 1}}, return_document=ReturnDocument.AFTER
                )
        return {"kind": kind, "key": key, "count": int(document["failures"]) if document else 1}

    async def clear(self, kind: str, key: str) -> ClearedOut | Error:
        """effects: forgets the key's failures."""
        if kind not in self.limits or not isinstance(key, str):
            return error(UNKNOWN_KIND, f"Nothing is throttled by {kind!r}.")
        await Failures.find_one(Failures.id == _id(kind, key)).delete()
        return {"kind": kind, "key": key}

    async def _blocked(self, kind: str, key: str) -> list[BlockedRow]:
        """[{until}] while the key has reached its limit within the window; [] otherwise."""
        limit = self.limits.get(kind)
        if limit is None or not isinstance(key, str):
            return []
        found = await Failures.find_one(Failures.id == _id(kind, key))
        if found is None or found.failures < limit.failures or found.expires <= datetime.now(UTC):
            return []
        return [{"until": found.expires}]
