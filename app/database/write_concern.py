"""When a write is acknowledged: durable by default, cheap only where a lost write costs nothing.

A write that creates, changes or revokes an account, a credential or a session is
answered to the client, so it must survive the database crashing a moment later. The
client therefore asks every write to be journaled (`j: true`: the database syncs its
log to disk before answering; on SecantusDB and on a standalone MongoDB nothing else
makes a write survive a crash) on a majority of the replica set (`w: "majority"`: on a
replica set, a write only the old primary had is rolled back after a failover). Any
collection added later gets this without asking.

A write whose loss is harmless says so where it is made, with `cheap()`: counts of
attempts (a crash forgets a few, as a window's end does), the request journal (an
audit record, written behind the response), a session's `lastUsedAt`.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlsplit

from pymongo import WriteConcern
from pymongo.asynchronous.collection import AsyncCollection

T = TypeVar("T", bound=dict[str, Any])

DURABLE: Final = {"w": "majority", "journal": True}
"""The client's write concern, option by option, unless MONGODB_URL names that option."""

CHEAP: Final = WriteConcern(w=1)
"""Acknowledged by the primary once applied in memory: a crash may lose the last ones."""


def durable_options(url: str) -> dict[str, Any]:
    """The options of DURABLE that `url` does not set itself (MongoDB's `w` and `journal`
    URL options, named in any case): the URL is where an operator changes them."""
    named = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
    return {option: value for option, value in DURABLE.items() if option.lower() not in named}


def cheap(collection: AsyncCollection[T]) -> AsyncCollection[T]:
    """`collection` with writes acknowledged before they are durable: for writes whose
    loss in a crash is harmless, never for accounts, credentials or sessions."""
    return collection.with_options(write_concern=CHEAP)
