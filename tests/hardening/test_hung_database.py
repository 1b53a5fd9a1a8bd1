"""The database hangs: its process is stopped (SIGSTOP), so it still accepts
connections but never answers. `python -m app`, over a real socket, answers every
request SERVICE_UNAVAILABLE (REST 503) and /readyz 503 instead of waiting for its
request timeout, and serves again by itself once the process resumes (SIGCONT).

How long the answers take is measured by `python -m benchmarks.hung_database`."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.database import EmbeddedDatabase
from tests.api.helpers import REGISTER
from tests.launched import AppProcess, running_apps

pytestmark = pytest.mark.launcher

ALICE = {"username": "alice", "password": "correct horse"}
CLIENT_TIMEOUT = 60.0  # the test client's own patience: far beyond any bound of the app
RECOVERY_ATTEMPTS = 200  # `me` tried this often (0.1 s apart) after SIGCONT


@dataclass
class Hang:
    user: str
    token: str
    during: dict[str, httpx.Response]
    after: dict[str, httpx.Response]
    recovered: bool


def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


async def observe(app: AppProcess, database: EmbeddedDatabase) -> Hang:
    async with httpx.AsyncClient(base_url=app.url, timeout=CLIENT_TIMEOUT) as http:
        registered = (await gql(http, REGISTER, ALICE)).json()["data"]["register"]
        token = registered["session"]
        os.kill(database.pid, signal.SIGSTOP)
        try:
            calls = {
                **{f"me {n}": gql(http, "{ me { id } }", token=token) for n in range(5)},
                "register": gql(http, REGISTER, {**ALICE, "username": "bob"}),
                "authenticate": gql(
                    http,
                    "mutation($u: String!, $p: String!) { authenticate(username: $u, password: $p) { __typename } }",
                    {"u": "alice", "p": "correct horse"},
                ),
                "rest me": http.post("/api/me", json={"session": token}),
                "rest login": http.post("/api/login", json=ALICE),
                "readyz": http.get("/readyz"),
            }
            during = dict(zip(calls, await asyncio.gather(*calls.values()), strict=True))
        finally:
            os.kill(database.pid, signal.SIGCONT)
        recovered = False
        for _ in range(RECOVERY_ATTEMPTS):
            body = (await gql(http, "{ me { id } }", token=token)).json()
            if (body.get("data") or {}).get("me"):
                recovered = True
                break
            await asyncio.sleep(0.1)
        after = {
            "readyz": await http.get("/readyz"),
            "me": await gql(http, "{ me { id username } }", token=token),
            "register": await gql(http, REGISTER, {**ALICE, "username": "carol"}),
        }
    return Hang(registered["user"]["id"], token, during, after, recovered)


@pytest.fixture(scope="module")
def hang(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hang]:
    directory: Path = tmp_path_factory.mktemp("hung")
    with EmbeddedDatabase(directory / "db") as database:
        settings = {"MONGODB_URL": database.url, "MONGODB_DB": f"hung_{uuid.uuid4().hex}"}
        with running_apps(directory, settings) as (app,):
            yield asyncio.run(observe(app, database))


@pytest.mark.parametrize("call", [f"me {n}" for n in range(5)] + ["register", "authenticate"])
def test_a_hung_database_is_service_unavailable_in_graphql(hang: Hang, call: str) -> None:
    response = hang.during[call]

    assert response.status_code == 200, response.text
    codes = [error["extensions"]["code"] for error in response.json()["errors"]]
    assert codes == ["SERVICE_UNAVAILABLE"], response.json()


@pytest.mark.parametrize("call", ["rest me", "rest login"])
def test_a_hung_database_is_503_in_rest(hang: Hang, call: str) -> None:
    response = hang.during[call]

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"


def test_a_hung_database_is_not_ready(hang: Hang) -> None:
    assert hang.during["readyz"].status_code == 503
    assert hang.during["readyz"].json() == {"ready": False}


def test_the_app_serves_again_by_itself_when_the_database_resumes(hang: Hang) -> None:
    assert hang.recovered
    assert hang.after["readyz"].status_code == 200
    assert hang.after["me"].json() == {"data": {"me": {"id": hang.user, "username": "alice"}}}
    assert hang.after["register"].json()["data"]["register"]["__typename"] == "AuthSuccess"
