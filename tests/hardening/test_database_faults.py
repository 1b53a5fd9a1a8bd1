"""The database process stops while the app runs, then starts again on the same port
and storage. During the outage every request is answered SERVICE_UNAVAILABLE (REST
503) and /readyz says not ready; afterwards the same app, not restarted, serves
again and has lost no user or session. (How long the answers take is measured by
`python -m benchmarks.hung_database`, not asserted here.)

The outage is run once for the module (like the launcher tests' `run`): each test
checks one thing that was observed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo import AsyncMongoClient

from app.database import EmbeddedDatabase
from app.server.application import create_app
from tests.api.helpers import AUTHENTICATE, REGISTER, USERS, served, settings_for

RECOVERY_ATTEMPTS = 100  # `me` tried this often (0.1 s apart) once the database is back
ALICE = {"username": "alice", "password": "correct horse"}


@dataclass
class Outage:
    token: str  # alice's session, issued before the outage
    user: str  # alice's id
    down: dict[str, httpx.Response] = field(default_factory=dict)  # requests while the database was stopped
    recovered: bool = False  # `me` worked again after the restart
    after: dict[str, httpx.Response] = field(default_factory=dict)  # requests once it served again
    users_after: int = 0  # users in the restarted database


def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


@pytest.fixture(scope="module")
async def outage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Outage]:
    storage = tmp_path_factory.mktemp("faults") / "db"
    database = EmbeddedDatabase(storage).start()
    name = f"faults_{uuid.uuid4().hex}"
    try:
        port = urlsplit(database.url).port
        app = create_app(settings_for(database.url, name))
        async with served(app, "http://t", raise_app_exceptions=False) as (services, http):
            registered = (await gql(http, REGISTER, ALICE)).json()["data"]["register"]
            outage = Outage(token=registered["session"], user=registered["user"]["id"])
            assert services.journal is not None
            await services.journal.flush()

            database.stop()
            # Together, as clients' requests arrive: some find pooled connections to the dead server.
            calls = {
                "readyz": http.get("/readyz"),
                "query": gql(http, "{ me { id } }", token=outage.token),
                "mutation": gql(http, REGISTER, {**ALICE, "username": "bob"}),
                "authenticate": gql(http, AUTHENTICATE, ALICE),
                "rest me": http.post("/api/me", json={"session": outage.token}),
                "rest login": http.post("/api/login", json=ALICE),
            }
            results = await asyncio.gather(*calls.values())
            outage.down = dict(zip(calls, results, strict=True))

            database = EmbeddedDatabase(storage, port=port).start()
            for _ in range(RECOVERY_ATTEMPTS):
                body = (await gql(http, "{ me { id } }", token=outage.token)).json()
                if body.get("data", {}) and body["data"].get("me"):
                    outage.recovered = True
                    break
                await asyncio.sleep(0.1)

            outage.after = {
                "readyz": await http.get("/readyz"),
                "me": await gql(http, "{ me { id username } }", token=outage.token),
                "authenticate": await gql(http, AUTHENTICATE, ALICE),
                "register": await gql(http, REGISTER, {**ALICE, "username": "carol"}),
            }
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database.url, serverSelectionTimeoutMS=2000)
        try:
            outage.users_after = await client[name][USERS].count_documents({})
        finally:
            await client.close()
        yield outage
    finally:
        database.stop()


def test_while_the_database_is_down_readyz_is_503(outage: Outage) -> None:
    assert outage.down["readyz"].status_code == 503
    assert outage.down["readyz"].json() == {"ready": False}


@pytest.mark.parametrize("call", ["query", "mutation", "authenticate"])
def test_while_the_database_is_down_graphql_answers_service_unavailable(outage: Outage, call: str) -> None:
    answer = outage.down[call]
    assert answer.status_code == 200, answer.text
    codes = [error["extensions"]["code"] for error in answer.json()["errors"]]
    assert codes == ["SERVICE_UNAVAILABLE"], answer.json()


@pytest.mark.parametrize("call", ["rest me", "rest login"])
def test_while_the_database_is_down_rest_answers_503(outage: Outage, call: str) -> None:
    answer = outage.down[call]
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "SERVICE_UNAVAILABLE"


def test_once_the_database_is_back_the_app_serves_again_without_a_restart(outage: Outage) -> None:
    assert outage.recovered, f"`me` did not work again in {RECOVERY_ATTEMPTS} attempts"
    assert outage.after["readyz"].status_code == 200
    assert outage.after["register"].json()["data"]["register"]["__typename"] == "AuthSuccess"


def test_a_session_issued_before_the_outage_still_works_after_it(outage: Outage) -> None:
    assert outage.after["me"].json() == {"data": {"me": {"id": outage.user, "username": "alice"}}}


def test_a_user_registered_before_the_outage_can_authenticate_after_it(outage: Outage) -> None:
    result = outage.after["authenticate"].json()["data"]["authenticate"]
    assert result["__typename"] == "AuthSuccess", result
    assert result["user"]["id"] == outage.user


def test_the_outage_lost_no_user_and_created_none_of_the_refused_requests(outage: Outage) -> None:
    assert outage.users_after == 2  # alice from before, carol from after; bob's registration was refused
