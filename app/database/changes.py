"""The change feed: one change stream on the app's database that brings every change
(delete, update, replace) of the collections the caches hold (app.database.cache) to
this process, and vouches for the caches only while it keeps up.

It asks the database for changes in a loop, each ask waiting at most AWAIT_MS for one.
An ask that comes back with nothing proves that every change committed before it was
sent has been applied, so the caches may answer until BOUND after that moment and no
longer: a change committed anywhere (another worker, another instance) is applied here,
or the caches stop answering, within BOUND of its commit. A database that is down, hung
or slow stops the answers the same way, and reads go to the database, which fails in
its own time. Every (re)opened stream first empties the caches: what was deleted while
none was open is forgotten with everything else.

Change streams need a replica set: on a standalone MongoDB the feed does not start
(one warning at start-up) and the caches stay off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from .cache import Cache

logger = logging.getLogger(__name__)

BOUND: Final = 0.1
"""Seconds after its last empty ask the feed vouches for the caches."""
AWAIT_MS: Final = 30
"""How long one ask waits for a change: an idle feed asks about 1000 / (AWAIT_MS + a round trip) times a second."""
RETRY: Final = (0.1, 2.0)
"""Seconds between attempts to reopen a broken stream: the first, doubling up to the last."""
NO_CHANGE_STREAMS: Final = 40573
"""MongoDB's (and SecantusDB's) code for a `$changeStream` on a standalone server."""
_CHANGES: Final = ("delete", "update", "replace")
"""What discards one document from its cache."""
_EVERYTHING: Final = ("drop", "rename", "dropDatabase", "invalidate")
"""What empties every cache."""


class ChangeFeed:
    """Keeps `caches` coherent with the database, as described above."""

    def __init__(
        self,
        database: AsyncDatabase[dict[str, Any]],
        caches: Sequence[Cache[Any, Any]],
        *,
        bound: float = BOUND,
        await_ms: int = AWAIT_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.caches = {cache.collection: cache for cache in caches}
        self.bound = bound
        self.await_ms = await_ms
        self.clock = clock
        self._confirmed: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._waiting: list[tuple[float, asyncio.Future[None]]] = []

    def fresh(self) -> bool:
        confirmed = self._confirmed
        return confirmed is not None and self.clock() - confirmed <= self.bound

    async def caught_up(self) -> bool:
        """Whether the feed, late by less than the bound, confirms again within the bound:
        under load its answer may wait behind other work for a few milliseconds, less than
        a read of the database would. A feed later than that is not waited for (the
        database may be down, and reads must fail in time)."""
        confirmed = self._confirmed
        if confirmed is None or self.clock() - confirmed > 2 * self.bound:
            return False
        try:
            async with asyncio.timeout(self.bound):
                while not self.fresh():
                    await self._confirmation(after=confirmed)
                    confirmed = self._confirmed or confirmed
        except TimeoutError:
            return False
        return True

    async def settled(self) -> None:
        """Once every change committed before this call has been applied (tests that
        change the database behind the app's back wait for it before asking the app)."""
        await self._confirmation(after=self.clock())

    def _confirmation(self, after: float) -> asyncio.Future[None]:
        """Done at the first confirmation of an ask sent after `after`."""
        waiting = asyncio.get_running_loop().create_future()
        self._waiting.append((after, waiting))
        return waiting

    def _confirm(self, asked: float) -> None:
        self._confirmed = asked
        for entry in [entry for entry in self._waiting if entry[0] < asked]:
            self._waiting.remove(entry)
            if not entry[1].done():
                entry[1].set_result(None)

    @property
    def pipeline(self) -> list[dict[str, Any]]:
        changes = {"operationType": {"$in": list(_CHANGES)}, "ns.coll": {"$in": sorted(self.caches)}}
        return [
            {"$match": {"$or": [changes, {"operationType": {"$in": list(_EVERYTHING)}}]}},
            {"$project": {"operationType": 1, "ns": 1, "documentKey": 1}},
        ]

    async def start(self) -> bool:
        """Open the stream and keep it going in the background; False (the caches left
        off, a warning logged) when the database has no change streams."""
        try:
            stream: AsyncChangeStream[dict[str, Any]] | None = await self._open()
        except OperationFailure as error:
            if error.code != NO_CHANGE_STREAMS:
                raise
            logger.warning(
                "session cache off: the database has no change streams (a MongoDB server needs to be a replica "
                "set for them), so every request reads its session from the database"
            )
            return False
        except PyMongoError as error:
            logger.warning("session cache waiting for the database's change stream: %s", error)
            stream = None
        for cache in self.caches.values():
            cache.feed = self
        self._task = asyncio.create_task(self._run(stream), name="change feed")
        logger.info(
            "session cache on (%s): a revoked session is refused here within %d ms of its revocation anywhere",
            ", ".join(sorted(self.caches)),
            round(self.bound * 1000),
        )
        return True

    async def stop(self) -> None:
        self._stopping = True
        self._confirmed = None
        for cache in self.caches.values():
            cache.feed = None
            cache.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _open(self) -> AsyncChangeStream[dict[str, Any]]:
        stream = await self.database.watch(self.pipeline, max_await_time_ms=self.await_ms)
        for cache in self.caches.values():
            cache.clear()  # deletes before the stream opened are not in it
        return stream

    async def _run(self, stream: AsyncChangeStream[dict[str, Any]] | None) -> None:
        delay, failing = RETRY[0], False
        try:
            while not self._stopping:  # a cancel can be lost in a pymongo call: the flag ends the loop
                try:
                    if stream is None:
                        stream = await self._open()
                    asked = self.clock()
                    change = await stream.try_next()
                    if change is not None:
                        self._apply(change)
                    elif stream.alive:
                        self._confirm(asked)
                    if not stream.alive:
                        await stream.close()
                        stream = None
                        continue
                    if failing:
                        logger.info("session cache: the change stream is back")
                    delay, failing = RETRY[0], False
                except PyMongoError as error:
                    if not failing:
                        logger.warning("session cache: the change stream failed, reads go to the database: %s", error)
                    failing = True
                    if stream is not None:
                        with contextlib.suppress(PyMongoError):
                            await stream.close()
                        stream = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY[1])
        finally:
            if stream is not None:
                with contextlib.suppress(PyMongoError):
                    await stream.close()

    def _apply(self, change: dict[str, Any]) -> None:
        if change.get("operationType") in _CHANGES:
            cache = self.caches.get(change.get("ns", {}).get("coll"))
            if cache is not None:
                cache.discard(change["documentKey"]["_id"])
            return
        for cache in self.caches.values():
            cache.clear()
