"""A cache of one collection's documents by `_id`, in one process, that answers only
while a change feed vouches that every change committed up to a moment ago has been
applied to it (app.database.changes): a document changed or deleted is discarded.

Reads fill it: a reader takes a `mark` before it reads the database and offers what it
read with that mark; the offer is refused if anything was discarded from the cache in
between, so a document changed while it was being read is never kept (whichever comes
first, the change's event or the read's answer). The process that changes a document
discards it at once; every other process discards it when the feed brings the change.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Voucher(Protocol):
    def fresh(self) -> bool:
        """Every change committed up to the bound ago has been applied."""
        ...

    async def caught_up(self) -> bool:
        """Fresh again soon: waits for a feed that is only late, not for one that is stuck."""
        ...


class Cache(Generic[K, V]):
    """At most `size` documents of `collection`, least recently used first out."""

    def __init__(self, collection: str, size: int) -> None:
        self.collection = collection
        self.size = size
        self.feed: Voucher | None = None
        """The feed keeping it coherent, while one runs: without one it answers nothing."""
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._discards = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: K) -> V | None:
        """The document, if cached and the feed vouches for the cache now."""
        feed = self.feed
        if feed is None or not (feed.fresh() or await feed.caught_up()):
            return None
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    @property
    def mark(self) -> int:
        """Taken before reading the database, given back with what was read (`offer`)."""
        return self._discards

    def offer(self, key: K, value: V, mark: int) -> None:
        """Keep what a read found, unless something was discarded since its `mark`
        (it may have been this document, deleted while it was being read)."""
        if self.feed is None or mark != self._discards:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        self._discards += 1
        self._entries.pop(key, None)

    def discard_where(self, doomed: Callable[[V], bool]) -> None:
        self._discards += 1
        for key in [key for key, value in self._entries.items() if doomed(value)]:
            del self._entries[key]

    def clear(self) -> None:
        self._discards += 1
        self._entries.clear()
