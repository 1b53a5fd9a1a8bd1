"""Connecting to MongoDB (or the embedded database) and binding the concepts' documents."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from beanie import Document, init_beanie
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError, ServerSelectionTimeoutError

from .write_concern import durable_options

Client = AsyncMongoClient[dict[str, Any]]

# Short timeouts: a request fails within ~1.5 s when the database is down, instead
# of hanging for pymongo's default 30 s.
_TIMEOUT_MS = 1000
OPERATION_TIMEOUT_MS = 1500
"""pymongo's client-side operation timeout: every operation (server selection,
connecting, sending, waiting for the answer, retrying) ends within it. A database that
accepts connections but never answers (hung, stopped, overloaded) costs a request
at most this long, not the 10 s of REQUESTING_TIMEOUT."""
# Bounds ping() whatever the client's own timeouts are.
_PING_TIMEOUT = 2.0


def unavailable(error: BaseException) -> bool:
    """Whether `error` means the database could not be reached or did not answer in time."""
    return isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout)


async def connect(url: str, db_name: str, documents: Sequence[type[Document]]) -> Client:
    """A client for `url` with Beanie initialised on database `db_name` for
    `documents` (collections bound, indexes created).

    Every write is durable before it is acknowledged (journaled, on a majority:
    app.database.write_concern) unless `url` sets `w` or `journal` itself. Datetimes
    come back timezone-aware (UTC). Raises pymongo's errors (e.g.
    ServerSelectionTimeoutError) if the database cannot be reached.
    """
    client: Client = AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=_TIMEOUT_MS,
        connectTimeoutMS=_TIMEOUT_MS,
        timeoutMS=OPERATION_TIMEOUT_MS,
        tz_aware=True,
        **durable_options(url),
    )
    try:
        await init_beanie(database=client[db_name], document_models=documents)
    except BaseException:
        await client.close()
        raise
    return client


async def ping(client: Client) -> bool:
    """Whether the database answers `ping` within 2 s; never raises (except on
    cancellation), for readiness probes."""
    try:
        async with asyncio.timeout(_PING_TIMEOUT):
            await client.admin.command("ping")
    except Exception:
        return False
    return True


START_TIMEOUT = 5.0
"""Seconds the launcher waits for MONGODB_URL's database to answer before giving up."""
_AUTHENTICATION_FAILED = 18
_TIMEOUTS_NOTE = re.compile(r" \(configured timeouts:[^)]*\)")


def hosts(url: str) -> str:
    """The hosts of a MongoDB URL, for messages: never its credentials or options."""
    return url.partition("://")[2].partition("/")[0].partition("?")[0].rpartition("@")[2]


def unreachable(url: str, timeout: float = START_TIMEOUT) -> str | None:
    """Why the database at `url` cannot serve the app, in one line that names its hosts
    but never its credentials; None once it answers `ping` (signed in, if the URL says
    how). Run before the server starts, so a wrong URL is one line, not a traceback."""
    milliseconds = int(timeout * 1000)
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            url, serverSelectionTimeoutMS=milliseconds, connectTimeoutMS=milliseconds
        )
        with client:
            client.admin.command("ping")
    except ServerSelectionTimeoutError as error:
        reasons = _TIMEOUTS_NOTE.sub("", str(error).partition(", Timeout:")[0])
        return f"no database answered at {hosts(url)} within {timeout:g} s ({reasons})"
    except OperationFailure as error:
        if error.code == _AUTHENTICATION_FAILED:
            return f"the database at {hosts(url)} refused the URL's credentials (authentication failed)"
        return f"the database at {hosts(url)} refused to answer ping ({error.details and error.details.get('errmsg')})"
    except PyMongoError as error:
        return f"{str(error).splitlines()[0][:300]}"
    return None
