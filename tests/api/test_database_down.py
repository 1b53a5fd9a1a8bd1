"""With the database gone: /readyz says so, requests are answered SERVICE_UNAVAILABLE
(not TIMEOUT: the client gives up on the database before the request timeout), and
/healthz still answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.database import MEMORY, EmbeddedDatabase
from app.server.application import create_app

from .helpers import REGISTER, assert_gql_error, served, settings_for

VARIABLES = {"username": "alice", "password": "correct horse"}


@pytest.fixture
async def lost_database(db_name: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client of an app whose own database has stopped, and a token it issued before."""
    database = EmbeddedDatabase(MEMORY).start()
    try:
        app = create_app(settings_for(database.url, db_name))
        async with served(app) as (_, http):
            body = (await http.post("/graphql", json={"query": REGISTER, "variables": VARIABLES})).json()
            token = body["data"]["register"]["session"]
            database.stop()
            yield http, token
    finally:
        database.stop()


async def test_without_the_database_requests_are_service_unavailable_and_probes_say_so(
    lost_database: tuple[httpx.AsyncClient, str],
) -> None:
    http, token = lost_database

    ready = await http.get("/readyz")
    health = await http.get("/healthz")
    me = await http.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"})
    register = await http.post("/graphql", json={"query": REGISTER, "variables": {**VARIABLES, "username": "bob"}})
    rest = await http.post("/api/UserAuthentication/authenticate", json=VARIABLES)

    assert ready.status_code == 503
    assert health.status_code == 200
    assert_gql_error(me.json(), "SERVICE_UNAVAILABLE", "me")
    assert_gql_error(register.json(), "SERVICE_UNAVAILABLE")
    assert rest.status_code == 503, rest.text
    assert rest.json()["code"] == "SERVICE_UNAVAILABLE"
