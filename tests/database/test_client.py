"""connect() and ping() against the session's embedded database, and the per-test fixtures."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
from beanie import Document, Indexed
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, ServerSelectionTimeoutError

from app.database import Client, connect, ping

InitDocuments = Callable[[Sequence[type[Document]]], Awaitable[AsyncDatabase[dict[str, Any]]]]


class Note(Document):
    key: Annotated[str, Indexed(unique=True)]
    at: datetime

    class Settings:
        name = "notes"


def unused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"mongodb://127.0.0.1:{port}"


async def test_connect_binds_documents_with_indexes_and_aware_datetimes(database_url: str, db_name: str) -> None:
    client = await connect(database_url, db_name, [Note])
    try:
        assert await ping(client)
        await Note(key="a", at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)).insert()
        with pytest.raises(DuplicateKeyError):
            await Note(key="a", at=datetime.now(UTC)).insert()

        note = await Note.find_one(Note.key == "a")

        assert note is not None
        assert note.at == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert note.at.tzinfo is not None
    finally:
        await client.close()


async def test_connect_fails_when_the_database_is_down() -> None:
    with pytest.raises(ServerSelectionTimeoutError):
        await connect(unused_url(), "nothing", [Note])


async def test_ping_says_false_instead_of_raising() -> None:
    client: Client = AsyncMongoClient(unused_url(), serverSelectionTimeoutMS=100)
    try:
        assert await ping(client) is False
    finally:
        await client.close()


async def test_database_fixture_is_fresh_and_ready(database: AsyncDatabase[dict[str, Any]]) -> None:
    assert database.name.startswith("test_")
    assert await database.client.admin.command("ping")


@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_gets_its_own_database(init_documents: InitDocuments, run: int) -> None:
    database = await init_documents([Note])
    assert "notes" in await database.list_collection_names()  # indexes were created
    assert await Note.count() == 0  # the other run's note was dropped with its database
    await Note(key="same", at=datetime.now(UTC)).insert()
    assert await Note.count() == 1
