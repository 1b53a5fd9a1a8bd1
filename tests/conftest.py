"""Shared fixtures: one embedded database for the whole session, a fresh database per test.

A concept test asks for `database` and gets a new, empty database with Beanie bound
to it for every document of the app; a test of a few documents of its own uses
`init_documents([...])` instead. An API test asks for `api` (the app running on this
test's database) or `start_api` (to start it with settings of its own). The helpers
the tests share are modules of this package (tests/api/helpers.py, tests/launched.py,
tests/assembled.py, tests/throwaway.py, ...), never test modules or conftests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from beanie import Document, init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.concepts import DOCUMENTS
from app.database import MEMORY, Client, EmbeddedDatabase
from app.server.application import create_app
from tests.api.helpers import Api, StartApi, served, settings_for
from tests.concepts.helpers import GatedCollection, StillClock
from tests.throwaway import Throwaway

Database = AsyncDatabase[dict[str, Any]]
InitDocuments = Callable[[Sequence[type[Document]]], Awaitable[Database]]


def all_documents() -> list[type[Document]]:
    """Every document of the app: `app.concepts.DOCUMENTS`."""
    return list(DOCUMENTS)


async def use_database(client: Client, db_name: str, documents: Sequence[type[Document]]) -> Database:
    """Bind `documents` to database `db_name` (creating their indexes) and return it."""
    database = client[db_name]
    await init_beanie(database=database, document_models=documents)
    return database


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """One ephemeral embedded database for the session (tests isolate by database name)."""
    with EmbeddedDatabase(MEMORY) as embedded:
        yield embedded.url


@pytest.fixture(scope="session")
async def mongo_client(database_url: str) -> AsyncIterator[Client]:
    client: Client = AsyncMongoClient(database_url, serverSelectionTimeoutMS=1500, connectTimeoutMS=1500, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture
async def db_name(mongo_client: Client) -> AsyncIterator[str]:
    """A fresh database name, dropped after the test."""
    name = f"test_{uuid.uuid4().hex}"
    yield name
    await mongo_client.drop_database(name)


@pytest.fixture
def init_documents(mongo_client: Client, db_name: str) -> InitDocuments:
    """`await init_documents([MyDocument])`: bind those documents to this test's fresh database."""

    async def init(documents: Sequence[type[Document]]) -> Database:
        return await use_database(mongo_client, db_name, documents)

    return init


@pytest.fixture
async def database(init_documents: InitDocuments) -> Database:
    """A fresh database with every document of the app bound to it."""
    return await init_documents(all_documents())


@pytest.fixture(autouse=True)
def gates_are_reached() -> Iterator[None]:
    """Every GatedCollection a test installs is reached by all its parties: a race test
    passes only if its race happened."""
    GatedCollection.installed.clear()
    yield
    unreached = [gate for gate in GatedCollection.installed if not gate.reached()]
    GatedCollection.installed.clear()
    assert not unreached, f"gates the test never reached: {unreached}"


@pytest.fixture
def throwaway(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Throwaway]:
    """Add throwaway modules to the app's packages for one test (see tests/throwaway.py)."""
    added = Throwaway(tmp_path, monkeypatch)
    yield added
    added.forget()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "launcher: starts `python -m app` as a subprocess (slow, needs a free port)")


@pytest.fixture
def start_api(database_url: str, db_name: str, mongo_client: Client) -> StartApi:
    """`async with start_api(**settings) as api`: an app created now (after any log setup)."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Api]:
        app = create_app(settings_for(database_url, db_name, **overrides))
        async with served(app) as (services, http):
            api = Api(app, services, http, mongo_client, db_name)
            # Throttling windows are aligned to the clock: on the real one a test would, now
            # and then, straddle a window's end and see its counts start again. So the
            # clock stands still at the start of a window (of any length dividing a day).
            api.throttling.clock = StillClock(datetime(2026, 1, 1, tzinfo=UTC))
            yield api

    return start


@pytest.fixture
async def api(start_api: StartApi) -> AsyncIterator[Api]:
    async with start_api() as running:
        yield running
