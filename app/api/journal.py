"""Write-behind storage of answered requests: which ones are kept, batched, off the request's path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from pymongo.asynchronous.collection import AsyncCollection

from app.concepts.requesting import RequestRecord
from app.database import cheap

logger = logging.getLogger(__name__)

JournalMode = Literal["all", "default", "off"]


@dataclass(frozen=True, slots=True)
class JournalPolicy:
    """Which answered requests the journal keeps.

    The journal is for auditing and debugging: what changed and what went wrong.
    `default` keeps every request that failed or changed state and only a sample of
    the successful reads, which are most of the traffic and that no one reads back
    (`me` alone would be most of the records). `all` keeps everything, `off` nothing.
    """

    mode: JournalMode = "all"
    sample_queries: float = 1.0
    """The share of successful reads kept under `default`, from 0 to 1."""

    def keeps(self, *, failed: bool, read: bool) -> bool:
        if self.mode == "off":
            return False
        if self.mode == "all" or failed or not read:
            return True
        return random.random() < self.sample_queries


class FailureSampler:
    """Which failures of each client address the journal keeps: all of them up to a rate,
    then one in ONE_IN, so a client failing on purpose cannot fill the collection.

    A bucket per address holds BURST failures and refills at BURST an hour; a failure
    takes one, and one that finds the bucket empty is kept only if it is the ONE_IN-th
    since. So n failures from one address over h hours keep at most BURST * (1 + h) + n /
    ONE_IN records: a flood of 3000 within the hour, at most 230. The table remembers
    the ADDRESSES addresses seen last (an address forgotten comes back with a full bucket,
    as after an hour's quiet), so its memory is bounded too.
    """

    BURST: Final = 100
    ONE_IN: Final = 100
    ADDRESSES: Final = 10_000
    HOUR: Final = 3600.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: OrderedDict[str | None, _Bucket] = OrderedDict()

    def keeps(self, client: str | None) -> bool:
        now = self.clock()
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(float(self.BURST), now)
        bucket.tokens = min(float(self.BURST), bucket.tokens + (now - bucket.at) * self.BURST / self.HOUR)
        bucket.at = now
        if bucket.tokens == self.BURST:
            bucket.over = 0  # an hour's quiet: a later flood is a new one
        self._buckets[client] = bucket
        if len(self._buckets) > self.ADDRESSES:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        if bucket.over == 0:
            logger.warning(
                "journal: over %d failures from %s within the hour; keeping one in %d of its failures",
                self.BURST,
                client or "an unknown address",
                self.ONE_IN,
            )
        bucket.over += 1
        return bucket.over % self.ONE_IN == 0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    over: int = 0
    """Failures that found the bucket empty since it was last full (every ONE_IN-th is kept)."""


class RequestJournal:
    """Buffers request records and inserts them in batches.

    A request is answered before its record is written (so the records are written
    cheaply, not durable before acknowledged: a crash may lose the last ones, as it
    loses the buffer), and the records of a quarter
    second share one insert (on the embedded database a record costs ~0.8 ms of its
    CPU alone, ~0.08 ms in a batch of 50). The buffer is bounded: if the database falls behind, the oldest unsaved
    records are dropped (and counted in the log), never the requests themselves.
    """

    def __init__(
        self, policy: JournalPolicy = JournalPolicy(), *, batch: int = 500, delay: float = 0.25, limit: int = 20_000
    ) -> None:
        self.policy = policy
        self.failures = FailureSampler()
        self._batch = batch
        self._delay = delay
        self._limit = limit
        self._buffer: list[RequestRecord] = []
        self._flusher: asyncio.Task[None] | None = None
        self.dropped = 0

    def keeps(self, *, failed: bool, read: bool, client: str | None) -> bool:
        """Whether to keep a request: by the policy, and under `default` a failure only
        as the client's address is allowed (FailureSampler)."""
        if not self.policy.keeps(failed=failed, read=read):
            return False
        return not failed or self.policy.mode == "all" or self.failures.keeps(client)

    def add(self, record: RequestRecord) -> None:
        if len(self._buffer) >= self._limit:
            del self._buffer[0]
            self.dropped += 1
        self._buffer.append(record)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._delay)
        await self.flush()

    async def flush(self) -> None:
        while self._buffer:
            batch, self._buffer = self._buffer[: self._batch], self._buffer[self._batch :]
            try:
                await _records().insert_many([_document(record) for record in batch], ordered=False)
            except Exception:
                await self._one_by_one(batch)
        if self.dropped:
            logger.warning("%d request records were not stored", self.dropped)
            self.dropped = 0

    async def _one_by_one(self, batch: list[RequestRecord]) -> None:
        """After a failed batch: store what can be stored, so one bad record costs only itself."""
        for record in batch:
            try:
                await _records().insert_one(_document(record))
            except Exception as exc:
                self.dropped += 1
                logger.warning("could not store a request record for %s: %s", record.path, type(exc).__name__)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()


def _records() -> AsyncCollection[Any]:
    return cheap(RequestRecord.get_pymongo_collection())


def _document(record: RequestRecord) -> dict[str, Any]:
    """The record as stored: built and validated by us, so Beanie's per-document encoder is skipped."""
    document: dict[str, Any] = record.model_dump(exclude={"id", "revision_id"})
    return document
