"""concept Throttling

purpose: bound how often something can be tried (guessing a password, creating
accounts), by refusing attempts on a key once too many were counted within a window.
state: a set of Counts, each of the attempts on one kind (e.g. "login") and key (a
username, a user, an address) within one window.

Windows are fixed: a kind's time is cut into windows of its length, aligned to the
clock (15 minutes: :00 to :15, :15 to :30, ...), and every key's count starts again
in each. An attempt is counted before it is made, atomically in the database: however
many arrive at once, no more than the limit get through. An attempt may also be
counted against a `source` (the client address a login comes from), with a limit of
its own.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypedDict

from pymongo import UpdateMany
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, PyMongoError

from app.database import cheap
from app.protocol.codes import declare

from ..outputs import RATE_LIMITED, Error, error
from .documents import Count

UNKNOWN_KIND = declare(
    "UNKNOWN_KIND",
    status=500,
    request_level=True,
    description="Never, unless a sync asks Throttling about a kind of attempt it has no limit for (a bug of the "
    "server's, not the client's).",
)
_DUPLICATE_KEY = 11000

_RATE_LIMITED = error(RATE_LIMITED, "Too many attempts; try again later.")

SWEEP_EVERY = timedelta(minutes=1)
"""How often each process deletes counts of windows that have ended (at once again
while it finds a full batch)."""
SWEPT_AT_ONCE = 100
"""Counts deleted by one sweep: a bounded cost for the attempt that runs it."""
GRACE = timedelta(minutes=1)
"""The least time a window's counts outlive it (they are kept a whole window longer
when windows are longer): an attempt that read the clock just before its window
ended still counts in that window, and another server's clock may run ahead."""

_log = logging.getLogger(__name__)


def _counts_collection() -> AsyncCollection[Any]:
    """The counts, written cheaply (not durable before acknowledged): a crash that loses
    the last few counts gives a guesser a few more tries, as a window's end does."""
    return cheap(Count.get_pymongo_collection())


@dataclass(frozen=True)
class Limit:
    """`attempts` per key (and `per_source` per source, if any) within each `window`
    (whole seconds)."""

    attempts: int
    window: timedelta
    per_source: int | None = None

    def __post_init__(self) -> None:
        if self.window < timedelta(seconds=1) or self.window % timedelta(seconds=1):
            raise ValueError(f"a throttling window is a whole number of seconds, not {self.window}")


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


def _stamp(moment: datetime) -> str:
    """A time as the `_id`s begin with it: ISO 8601 in UTC, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window_end(at: datetime, window: timedelta) -> str:
    seconds = int(window.total_seconds())
    return _stamp(datetime.fromtimestamp((int(at.timestamp()) // seconds + 1) * seconds, UTC))


def _ids(kind: str, key: str | None, source: str | None, limit: Limit, at: datetime) -> tuple[str | None, str | None]:
    """The `_id`s of the counts an attempt at `at` goes to: the key's and the source's
    (None where nothing is counted)."""
    end = _window_end(at, limit.window)
    key_id = f"{end} {kind}:{_bounded(key)}" if key is not None else None
    source_id = f"{end} {kind} from {_bounded(source)}" if source is not None and limit.per_source else None
    return key_id, source_id


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Throttling:
    """Counts attempts per (kind, key) and (kind, source); keys are compared without regard to case."""

    def __init__(self, limits: dict[str, Limit], clock: Callable[[], datetime] = _utc_now) -> None:
        self.limits = limits
        self.clock = clock
        self._next_sweep: datetime | None = None
        self._kept = max([GRACE, *(limit.window for limit in limits.values())])

    async def attempt(
        self, kind: str, key: str | None, source: str | None = None
    ) -> AttemptOut | Annotated[Error, RATE_LIMITED, UNKNOWN_KIND]:
        """requires: fewer than the kind's limit of attempts on the key (and on the source,
        when given) within the current window.
        effects: counts one more attempt on both, before the attempt is made.
        A missing key or source (e.g. no known client address) is not counted."""
        limit = self.limits.get(kind)
        if limit is None or not _optional_text(key) or not _optional_text(source):
            return error(UNKNOWN_KIND, f"Nothing is throttled by {kind!r}.")
        now = self.clock()
        key_id, source_id = _ids(kind, key, source, limit, now)
        # The source's first: an attempt its source refuses writes nothing for its key, so
        # a spray of new usernames from an address at its limit leaves no counts behind.
        counted: list[tuple[str, int]] = []
        if source_id is not None and limit.per_source:
            counted.append((source_id, limit.per_source))
        if key_id is not None:
            counted.append((key_id, limit.attempts))
        if not counted:
            return {"kind": kind, "key": key, "at": now}
        allowed = await _count_all(_counts_collection(), counted)
        await self._sweep(now)
        return {"kind": kind, "key": key, "at": now} if allowed else _RATE_LIMITED

    async def succeed(
        self, kind: str, key: str | None, at: datetime, source: str | None = None
    ) -> DoneOut | Annotated[Error, UNKNOWN_KIND]:
        """effects: the attempt made `at` succeeded: forgets the key's attempts in its
        window and takes back the source's one (a source is limited in failures, not in
        successes). One write for both."""
        limit = self.limits.get(kind)
        if limit is None or not _optional_text(key) or not _optional_text(source):
            return error(UNKNOWN_KIND, f"Nothing is throttled by {kind!r}.")
        key_id, source_id = _ids(kind, key, source, limit, at)
        counted = [ident for ident in (key_id, source_id) if ident is not None]
        if counted:
            cleared = [key_id] if key_id is not None else []
            remaining = {"$cond": [{"$in": ["$_id", cleared]}, 0, {"$max": [0, {"$subtract": ["$attempts", 1]}]}]}
            await _counts_collection().update_many({"_id": {"$in": counted}}, [{"$set": {"attempts": remaining}}])
        return {"kind": kind, "key": key}

    async def _sweep(self, now: datetime) -> None:
        """Now and then, after counting, delete a batch of the counts of windows that ended
        long enough ago: one range of the `_id` index, whatever the kinds' windows (found,
        then deleted by `_id`: SecantusDB serves a range from an index only in a hinted
        read). A full batch makes the next attempt sweep again, so sweeping keeps up with
        counting. A failure is logged and leaves the sweep due: the attempt is counted."""
        if self._next_sweep is not None and now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        collection = _counts_collection()
        ended = {"_id": {"$lt": _stamp(now - self._kept)}}
        try:
            found = collection.find(ended, {"_id": 1}, hint=[("_id", 1)], limit=SWEPT_AT_ONCE)
            ids = [document["_id"] async for document in found]
            if ids:
                await collection.delete_many({"_id": {"$in": ids}})
        except PyMongoError as failure:
            _log.warning(
                "Throttling: deleting ended counts failed (%s); the next attempt tries again", type(failure).__name__
            )
            self._next_sweep = None
            return
        if len(ids) == SWEPT_AT_ONCE:
            self._next_sweep = None


def _optional_text(value: object) -> bool:
    return value is None or isinstance(value, str)


def _counts(ident: str, limit: int) -> UpdateMany:
    """One more attempt on the count, if it is under `limit` (the first one creates it).
    At the limit the upsert meets the existing document: a duplicate key.

    Many by name only (the filter is one `_id`): a multi-document write is not a
    retryable one, so the driver never replays a count after a network error (the
    request fails instead), and SecantusDB keeps no per-write retry record, whose
    upkeep it pays on every later write."""
    return UpdateMany({"_id": ident, "attempts": {"$lt": limit}}, {"$inc": {"attempts": 1}}, upsert=True)


async def _count_all(collection: AsyncCollection[Any], counted: list[tuple[str, int]]) -> bool:
    """Count one attempt on each, in one command; False, with none counted, if one is at its limit."""
    try:
        await collection.bulk_write([_counts(ident, limit) for ident, limit in counted])
    except BulkWriteError as failure:
        first = _duplicate_at(failure)  # the writes before it counted; the ones after it did not run
        for index in range(first, len(counted)):
            if not await _count_again(collection, *counted[index]):
                for done, _ in counted[:index]:
                    await _uncount(collection, done)
                return False
    return True


async def _count_again(collection: AsyncCollection[Any], ident: str, limit: int) -> bool:
    """The count met a document it did not match: one at its limit, or one a concurrent
    first attempt created a moment ago (of two upserts of a new count, the second
    insert is a duplicate) or cleared since. Once more, now that it exists: False if it
    is at the limit."""
    try:
        await collection.bulk_write([_counts(ident, limit)])
    except BulkWriteError as failure:
        _duplicate_at(failure)
        return False
    return True


def _duplicate_at(failure: BulkWriteError) -> int:
    """The index of the write that met an existing document (re-raising anything else)."""
    errors: list[dict[str, Any]] = failure.details.get("writeErrors", [])
    if len(errors) != 1 or errors[0].get("code") != _DUPLICATE_KEY:
        raise failure
    return int(errors[0]["index"])


async def _uncount(collection: AsyncCollection[Any], ident: str) -> None:
    """Take back an attempt that was counted but not made: a count it alone made goes
    (so refused attempts leave nothing behind), any other one goes down by one."""
    gone = await collection.delete_one({"_id": ident, "attempts": 1})
    if not gone.deleted_count:
        await collection.update_one({"_id": ident, "attempts": {"$gt": 0}}, {"$inc": {"attempts": -1}})
