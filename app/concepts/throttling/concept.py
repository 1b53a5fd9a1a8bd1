"""concept Throttling

purpose: bound how often something can be tried (guessing a password, creating
accounts), by refusing attempts on a key once too many were counted within a window.
state: a set of Attempts, each with a kind (e.g. "login"), a key (a username, a
user, an address), a count and the time its window ends.

An attempt is counted before it is made, atomically in the database: however many
arrive at once, no more than the limit get through. An attempt may also be counted
against a `source` (the client address a login comes from), with a limit of its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from pymongo import UpdateMany
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from app.engine.codes import declare

from ..outputs import RATE_LIMITED, Error, error
from .documents import Attempts

UNKNOWN_KIND = declare("UNKNOWN_KIND", status=500, request_level=True)
"""A sync named a kind with no limit: a mistake of ours, not the client's."""
_DUPLICATE_KEY = 11000

_RATE_LIMITED = error(RATE_LIMITED, "Too many attempts; try again later.")


@dataclass(frozen=True)
class Limit:
    """`attempts` per key (and `per_source` per source, if any) within `window`."""

    attempts: int
    window: timedelta
    per_source: int | None = None


class AttemptOut(TypedDict):
    kind: str
    key: str | None
    at: datetime


class DoneOut(TypedDict):
    kind: str
    key: str | None


MAX_KEY = 256
"""Longer keys (and sources) are stored as their SHA-256, so a client's long string is never kept whole."""


def _bounded(text: str) -> str:
    folded = text.casefold()
    if len(folded) > MAX_KEY:
        return "sha256:" + hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()
    return folded


def _key_id(kind: str, key: str) -> str:
    return f"{kind}:{_bounded(key)}"


def _source_id(kind: str, source: str) -> str:
    return f"{kind} from {_bounded(source)}"


def _counts(ident: str, limit: int, now: datetime, window: timedelta) -> UpdateMany:
    """One more attempt in the key's live window, if under `limit`; a new window if there
    is none. A live window at its limit (or one that has passed) is a duplicate key.

    Many by name only (the filter is one `_id`): a multi-document write is not a
    retryable one, so the driver never replays a count after a network error (the
    request fails instead), and SecantusDB keeps no per-write retry record, whose
    upkeep it pays on every later write."""
    return UpdateMany(
        {"_id": ident, "expires": {"$gt": now}, "attempts": {"$lt": limit}},
        {"$inc": {"attempts": 1}, "$setOnInsert": {"since": now, "expires": now + window}},
        upsert=True,
    )


def _duplicate_at(failure: BulkWriteError) -> int:
    """The index of the write that met an existing document (re-raising anything else)."""
    errors: list[dict[str, Any]] = failure.details.get("writeErrors", [])
    if len(errors) != 1 or errors[0].get("code") != _DUPLICATE_KEY:
        raise failure
    return int(errors[0]["index"])


class Throttling:
    """Counts attempts per (kind, key) and (kind, source); keys are compared without regard to case."""

    def __init__(self, limits: dict[str, Limit]) -> None:
        self.limits = limits

    async def attempt(self, kind: str, key: str | None, source: str | None = None) -> AttemptOut | Error:
        """requires: fewer than the kind's limit of attempts on the key (and on the source,
        when given) within the window.
        effects: counts one more attempt on both, before the attempt is made.
        A missing key or source (e.g. no known client address) is not counted."""
        limit = self.limits.get(kind)
        if limit is None or not _optional_text(key) or not _optional_text(source):
            return error(UNKNOWN_KIND, f"Nothing is throttled by {kind!r}.")
        now = datetime.now(UTC)
        counted = [(_key_id(kind, key), limit.attempts)] if key is not None else []
        if source is not None and limit.per_source is not None:
            counted.append((_source_id(kind, source), limit.per_source))
        collection = Attempts.get_pymongo_collection()
        try:
            if counted:
                await collection.bulk_write([_counts(ident, most, now, limit.window) for ident, most in counted])
        except BulkWriteError as failure:
            first = _duplicate_at(failure)  # the writes before it counted; the ones after it did not run
            for index in range(first, len(counted)):
                ident, most = counted[index]
                if not await _count_existing(collection, ident, most, now, limit.window):
                    for done, _ in counted[:index]:
                        await _uncount(collection, done)
                    return _RATE_LIMITED
        return {"kind": kind, "key": key, "at": now}

    async def succeed(self, kind: str, key: str | None, source: str | None = None) -> DoneOut | Error:
        """effects: the attempt succeeded: forgets the key's attempts and takes back the
        source's one (a source is limited in failures, not in successes).
        One write for both: the key's count drops to none within its window."""
        limit = self.limits.get(kind)
        if limit is None or not _optional_text(key) or not _optional_text(source):
            return error(UNKNOWN_KIND, f"Nothing is throttled by {kind!r}.")
        cleared = [_key_id(kind, key)] if key is not None else []
        refunded = [_source_id(kind, source)] if source is not None and limit.per_source is not None else []
        if cleared or refunded:
            remaining = {"$cond": [{"$in": ["$_id", cleared]}, 0, {"$max": [0, {"$subtract": ["$attempts", 1]}]}]}
            await Attempts.get_pymongo_collection().update_many(
                {"_id": {"$in": cleared + refunded}}, [{"$set": {"attempts": remaining}}]
            )
        return {"kind": kind, "key": key}


def _optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


async def _count_existing(
    collection: AsyncCollection[Any], ident: str, limit: int, now: datetime, window: timedelta
) -> bool:
    """Count an attempt on a key whose document the first write met: in a new window if
    its window has passed, else in its live window if it is (still, or again) under the
    limit: another attempt may have just cleared or renewed it. False: at the limit."""
    renewed = await collection.update_one(
        {"_id": ident, "expires": {"$lte": now}}, {"$set": {"attempts": 1, "since": now, "expires": now + window}}
    )
    if renewed.modified_count:
        return True
    try:
        await collection.bulk_write([_counts(ident, limit, now, window)])
    except BulkWriteError as failure:
        _duplicate_at(failure)
        return False
    return True


async def _uncount(collection: AsyncCollection[Any], ident: str) -> None:
    """Take back an attempt that was counted but not made."""
    await collection.update_one({"_id": ident, "attempts": {"$gt": 0}}, {"$inc": {"attempts": -1}})
