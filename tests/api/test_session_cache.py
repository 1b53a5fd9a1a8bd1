"""The session cache (SESSION_CACHE): each process keeps the sessions and usernames its
requests use, coherent with the database through one change stream. A session revoked
by this process is refused at once; revoked by anyone else, it is refused as soon as
the change feed brings the delete, and never later than the feed's bound after the
delete, since the cache answers only while the feed has confirmed a moment ago.

Every rule is forced, not timed: the feed's asks for changes are held in a wire proxy
(a held ask cannot bring the delete), its clock is the test's (so "within the bound"
and "past it" are chosen, not waited for), and a read racing a revocation is stopped
between the database's answer and the cache."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest

from app.concepts.sessioning import Session, Sessioning
from app.database import MEMORY, free_port
from app.database.changes import ChangeFeed
from app.database.embedded import find_daemon
from tests.database.wire import Command, Held, WireProxy

from .helpers import SESSIONS, USERS, Api, StartApi


@pytest.fixture
def proxy(database_url: str) -> Iterator[WireProxy]:
    address = urlsplit(database_url)
    with WireProxy((address.hostname or "127.0.0.1", address.port or 27017)) as running:
        yield running


@pytest.fixture
async def wired(start_api: StartApi, proxy: WireProxy) -> AsyncIterator[Api]:
    """An app whose every database command goes through the proxy."""
    async with start_api(mongodb_url=proxy.url) as api:
        await api.settled()
        yield api


def feed_of(api: Api) -> ChangeFeed:
    feed = api.services.feed
    assert isinstance(feed, ChangeFeed)
    return feed


def sessioning(api: Api) -> Sessioning:
    concept = api.engine.concepts["Sessioning"]
    assert isinstance(concept, Sessioning)
    return concept


def reads(commands: list[Command], collection: str) -> list[Command]:
    return [c for c in commands if c.name in ("find", "aggregate") and c.collection == collection]


def session_id(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


class FeedClock:
    """The feed's clock, held by the test: it moves a microsecond a reading (so each ask
    is later than the one before), and as far as the test moves `now`."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        self.now += 1e-6
        return self.now


async def hold_the_feed(proxy: WireProxy) -> Held:
    """Hold the feed's next ask for changes in the proxy: until released, no change
    reaches the app (its previous ask has come back, or it would not ask again)."""
    held = proxy.hold(lambda command: command.name == "getMore")
    await held.arrived()
    return held


def still_fresh(api: Api) -> FeedClock:
    """Stop the feed's clock at its last confirmation: the cache answers however long the test takes."""
    feed, clock = feed_of(api), FeedClock()
    assert feed._confirmed is not None
    clock.now = feed._confirmed
    feed.clock = clock
    return clock


# -- what it saves -------------------------------------------------------------------------------


async def test_a_session_in_use_is_answered_without_reading_the_database(wired: Api, proxy: WireProxy) -> None:
    user, token = await wired.register("alice")
    assert await wired.me(token) == {"id": user, "username": "alice"}

    with proxy.recording() as seen:
        for _ in range(3):
            assert await wired.me(token) == {"id": user, "username": "alice"}

    assert reads(seen, SESSIONS) == [] and reads(seen, USERS) == []


async def test_with_the_cache_off_every_request_reads_its_session(
    start_api: StartApi, proxy: WireProxy, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app"):
        async with start_api(mongodb_url=proxy.url, session_cache=False) as api:
            assert api.services.feed is None
            assert sessioning(api).cache is None
            user, token = await api.register("alice")
            with proxy.recording() as seen:
                for _ in range(3):
                    assert await api.me(token) == {"id": user, "username": "alice"}

    assert len(reads(seen, SESSIONS)) == 3 and len(reads(seen, USERS)) == 3
    assert not [c for c in proxy.commands if "$changeStream" in str(c.body.get("pipeline"))]
    assert "session cache off (SESSION_CACHE=off)" in caplog.text


async def test_the_cache_keeps_at_most_its_size(start_api: StartApi) -> None:
    async with start_api(session_cache_size=2) as api:
        await api.settled()
        users = [await api.register(f"user{k}") for k in range(5)]
        for user, token in users * 2:
            assert (await api.me(token))["id"] == user  # type: ignore[index]

        cache = sessioning(api).cache
        assert cache is not None and len(cache) == 2


# -- revoked here: refused at once ---------------------------------------------------------------


async def test_a_logout_is_refused_at_once_by_the_process_that_made_it(wired: Api, proxy: WireProxy) -> None:
    _, token = await wired.register("alice")
    await wired.me(token)
    held = await hold_the_feed(proxy)
    still_fresh(wired)  # the cache would answer: only its own discard can refuse the token
    try:
        assert (await wired.gql("mutation { logout { ok } }", token=token))["data"]["logout"]["ok"] is True

        assert await wired.me(token) is None
    finally:
        held.release()


CHANGE_PASSWORD = (
    'mutation { changePassword(oldPassword: "correct horse", newPassword: "staple battery") { __typename } }'
)


async def test_sessions_ended_by_a_password_change_are_refused_at_once_by_the_process(
    wired: Api, proxy: WireProxy
) -> None:
    user, phone = await wired.register("alice")
    laptop = await wired.authenticate("alice")
    for token in (phone, laptop):
        await wired.me(token)
    held = await hold_the_feed(proxy)
    still_fresh(wired)
    try:
        changed = await wired.gql(CHANGE_PASSWORD, token=phone)
        assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess"

        assert await wired.me(laptop) is None
        assert await wired.me(phone) == {"id": user, "username": "alice"}  # the session that changed it stays
    finally:
        held.release()


# -- revoked elsewhere: refused once the feed brings it, and never later than its bound ---------


async def revoke_elsewhere(api: Api, token: str) -> None:
    """What another worker or instance does when it revokes the session: the delete, committed."""
    deleted = await api.mongo[api.db_name][SESSIONS].delete_one({"_id": session_id(token)})
    assert deleted.deleted_count == 1


async def test_a_session_revoked_elsewhere_is_refused_once_the_feed_brings_the_delete(
    wired: Api, proxy: WireProxy
) -> None:
    user, token = await wired.register("alice")
    await wired.me(token)
    held = await hold_the_feed(proxy)
    still_fresh(wired)  # within the bound throughout: only the delete's arrival can refuse the token
    await revoke_elsewhere(wired, token)
    assert await wired.me(token) == {"id": user, "username": "alice"}  # held: the cache cannot know yet

    held.release()
    await wired.settled()

    assert await wired.me(token) is None


async def test_past_the_bound_without_a_confirmation_the_database_answers(wired: Api, proxy: WireProxy) -> None:
    """Late by more than the bound, the feed is waited for (at most the bound), then the database answers."""
    user, token = await wired.register("alice")
    await wired.me(token)
    held = await hold_the_feed(proxy)
    clock = still_fresh(wired)
    try:
        await revoke_elsewhere(wired, token)
        assert await wired.me(token) == {"id": user, "username": "alice"}

        clock.now += feed_of(wired).bound * 1.01
        with proxy.recording() as seen:
            assert await wired.me(token) is None

        assert len(reads(seen, SESSIONS)) == 1
    finally:
        held.release()


async def test_a_read_racing_a_revocation_is_not_kept(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read finds the session, the delete commits and its change is applied, then the
    read's answer arrives: it answers that one request (they were concurrent), and is not
    kept, or the session would be accepted until it left the cache."""
    user, token = await api.register("alice")
    await api.settled()
    read, go_on = asyncio.Event(), asyncio.Event()
    collection = Session.get_pymongo_collection()

    class Stalled:
        def __getattr__(self, name: str) -> Any:
            return getattr(collection, name)

        async def find_one(self, *args: Any, **kwargs: Any) -> Any:
            found = await collection.find_one(*args, **kwargs)
            read.set()
            async with asyncio.timeout(60):  # a guard against a hang, not a timing assertion
                await go_on.wait()
            return found

    monkeypatch.setattr(Session, "get_pymongo_collection", classmethod(lambda _: Stalled()))
    racing = asyncio.create_task(api.me(token))
    await read.wait()
    await revoke_elsewhere(api, token)
    await api.settled()
    monkeypatch.undo()
    go_on.set()

    assert await racing == {"id": user, "username": "alice"}
    assert await api.me(token) is None


async def test_a_stream_broken_while_a_session_is_revoked_loses_no_revocation(wired: Api, proxy: WireProxy) -> None:
    _, token = await wired.register("alice")
    await wired.me(token)
    held = await hold_the_feed(proxy)
    await revoke_elsewhere(wired, token)

    held.drop()  # the ask's connection closed: the stream is broken and opened again
    await wired.settled()

    assert await wired.me(token) is None


async def test_a_user_removed_elsewhere_is_no_longer_named(wired: Api) -> None:
    alice, _ = await wired.register("alice")
    _, bob = await wired.register("bob")
    by_id = "query($id: ID!) { usernameById(user: $id) }"
    assert (await wired.gql(by_id, {"id": alice}, token=bob))["data"]["usernameById"] == "alice"

    await wired.mongo[wired.db_name][USERS].delete_one({"username": "alice"})
    await wired.settled()

    assert (await wired.gql(by_id, {"id": alice}, token=bob))["data"]["usernameById"] is None


# -- a database that cannot confirm ------------------------------------------------------------


async def test_a_late_feed_is_waited_for_rather_than_the_database_read(wired: Api, proxy: WireProxy) -> None:
    """Under load the feed's answer can wait behind other requests for a few milliseconds:
    a request that finds it late by less than the bound waits for its next confirmation."""
    user, token = await wired.register("alice")
    await wired.me(token)
    held = await hold_the_feed(proxy)
    clock = still_fresh(wired)
    clock.now += feed_of(wired).bound * 1.5
    with proxy.recording() as seen:
        asked = asyncio.create_task(wired.me(token))
        await asyncio.sleep(0)  # the request starts, finds the feed late, and waits
        held.release()

        assert await asked == {"id": user, "username": "alice"}

    assert reads(seen, SESSIONS) == []


async def test_a_hung_database_is_not_answered_for_past_the_bound(wired: Api, proxy: WireProxy) -> None:
    """The feed's ask is held (as a hung database would keep it) past twice the bound:
    requests go to the database at once and fail as they would without a cache."""
    _, token = await wired.register("alice")
    await wired.me(token)
    held = await hold_the_feed(proxy)
    clock = still_fresh(wired)
    clock.now += feed_of(wired).bound * 2.01
    read = proxy.hold(lambda command: command.name == "find" and command.collection == SESSIONS)
    try:
        asked = asyncio.create_task(wired.gql_response("{ me { id } }", token=token))
        await read.arrived()  # the request went to the database, where it waits: no answer comes
        response = await asked
        assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        read.release()
        held.release()


async def test_a_standalone_mongodb_runs_with_the_cache_off(
    start_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    """No change streams without a replica set: one warning at start-up, every request reads."""
    port = free_port()
    daemon = await asyncio.create_subprocess_exec(
        find_daemon(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        MEMORY,
        "--standalone",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await answering(port)
        with caplog.at_level(logging.INFO, logger="app"):
            async with start_api(mongodb_url=f"mongodb://127.0.0.1:{port}/?directConnection=true") as api:
                assert api.services.feed is None
                user, token = await api.register("alice")
                assert await api.me(token) == {"id": user, "username": "alice"}
        assert "session cache off: the database has no change streams" in caplog.text
        assert "replica set" in caplog.text
    finally:
        daemon.terminate()
        await daemon.wait()


async def answering(port: int) -> None:
    async with asyncio.timeout(60):  # a guard against a daemon that never starts
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return
