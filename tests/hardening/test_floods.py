"""Floods against `python -m app`: thousands of failed requests from one client, and
dozens of concurrent logins to one account. What they may leave behind is bounded:
at most 300 journal records for 3000 failures, at most SESSIONS_PER_USER sessions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from app.api.journal import FailureSampler
from tests.api.helpers import AUTHENTICATE, REQUESTS, SESSIONS
from tests.launched import AppProcess, running_apps

pytestmark = pytest.mark.launcher

DB_NAME = f"floods_{uuid.uuid4().hex}"
PER_USER = 10


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[AppProcess]:
    settings = {
        "MONGODB_URL": database_url,
        "MONGODB_DB": DB_NAME,
        "TRUST_PROXY": "true",  # so each test's client has an address of its own
        "REQUESTING_JOURNAL": "default",
        "SESSIONS_PER_USER": str(PER_USER),
        "THROTTLE_USERNAME_FAILURES": "1000",  # 16 logins in flight at once are not a guesser
    }
    with running_apps(tmp_path_factory.mktemp("floods"), settings) as (running,):
        yield running


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Any]:
    client: MongoClient[dict[str, Any]] = MongoClient(database_url)
    yield client[DB_NAME]
    client.close()


def in_parallel(count: int, call: Any, workers: int = 8) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def journalled(db: Any, client: str, expected_at_least: int) -> int:
    """Records of `client`'s requests, once the journal (written behind the answers) has them."""
    found = 0
    for _ in range(100):
        found = db[REQUESTS].count_documents({"inputs.client": client})
        if found >= expected_at_least:
            break
        time.sleep(0.1)
    return found


def test_3000_failures_from_one_client_add_at_most_300_journal_records(app: AppProcess, db: Any) -> None:
    flooder, bystander = "198.51.100.66", "198.51.100.67"
    http = httpx.Client(base_url=app.url, headers={"X-Forwarded-For": flooder}, timeout=30.0)

    def fail() -> int:
        return http.post("/api/logout", json={"session": "not a session"}).status_code

    with http:
        answers = in_parallel(3000, fail)
    theirs = [
        httpx.post(
            f"{app.url}/api/logout", json={"session": "nope"}, headers={"X-Forwarded-For": bystander}, timeout=30
        ).status_code
        for _ in range(20)
    ]

    assert answers == [401] * 3000 and theirs == [401] * 20  # every one answered, and counted by the metrics
    assert journalled(db, bystander, 20) == 20  # another client's failures are kept in full
    kept = journalled(db, flooder, FailureSampler.BURST)
    assert FailureSampler.BURST <= kept <= 300, kept
    assert f"journal: over 100 failures from {flooder} within the hour; keeping one in 100" in app.log.read_text()


def test_40_concurrent_logins_leave_at_most_sessions_per_user(app: AppProcess, db: Any) -> None:
    username = f"busy{uuid.uuid4().hex[:8]}"
    user, first = app.register(username)
    # Sessions made within one second tie on their times (the clock keeps seconds); make
    # the registration's session the least recently used beyond doubt.
    registered = db[SESSIONS].find_one({"user": user})
    an_hour_before = registered["created"] - timedelta(hours=1)
    db[SESSIONS].update_one(
        {"_id": registered["_id"]}, {"$set": {"created": an_hour_before, "last_used": an_hour_before}}
    )
    http = httpx.Client(base_url=app.url, timeout=60.0)

    def login() -> str:
        body = http.post(
            "/graphql", json={"query": AUTHENTICATE, "variables": {"username": username, "password": "correct horse"}}
        ).json()
        return str(body["data"]["authenticate"]["session"])

    with http:
        tokens = in_parallel(40, login, workers=16)

    assert db[SESSIONS].count_documents({"user": user}) == PER_USER
    assert app.me(first) is None  # the registration's session, the least recently used, is gone
    live = [token for token in tokens if app.me(token) is not None]
    assert len(live) == PER_USER
    listed = app.gql("{ sessions { id } }", token=live[0])["data"]["sessions"]
    assert len(listed) == PER_USER
