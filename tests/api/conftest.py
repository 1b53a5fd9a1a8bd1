"""The app over HTTP: `api` is a running app (lifespan started) on this test's fresh
database, with helpers to call GraphQL and REST the way a client does."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.database import Client
from app.server.application import create_app
from app.settings import Settings
from tests.concepts.helpers import StillClock

from .helpers import Api, StartApi


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "launcher: starts `python -m app` as a subprocess (slow, needs a free port)")


def settings_for(database_url: str, db_name: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "mongodb_url": database_url,
        "mongodb_db": db_name,
        "jwt_secret": secrets.token_urlsafe(36),  # 48 characters
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "log_level": "INFO",
        "requesting_journal": "all",  # tests read the journal
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def start_api(database_url: str, db_name: str, mongo_client: Client) -> StartApi:
    """`async with start_api(**settings) as api`: an app created now (after any log setup)."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Api]:
        app = create_app(settings_for(database_url, db_name, **overrides))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
        ):
            api = Api(app, http, mongo_client, db_name)
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
