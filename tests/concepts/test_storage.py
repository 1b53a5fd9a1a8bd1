"""The concepts' state in the database: it survives a restart, and every query uses an index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from app.concepts import Sessioning, Throttling, UserAuthentication
from app.concepts.sessioning import TokenCodec
from app.concepts.throttling import Count, Limit
from app.concepts.user_authentication import PasswordHasher
from app.server.services import start

from .helpers import OTHER_SECRET, SECRET, fast_hasher, make_settings
from .indexes import CommandRecorder, assert_served_by_indexes, recording, winning_stages

USERS, SESSIONS, REQUESTS = "UserAuthentication.users", "Sessioning.sessions", "Requesting.requests"
ATTEMPTS = Count.Settings.name
REGISTER = "/UserAuthentication/register"
AUTHENTICATE = "/UserAuthentication/authenticate"
ORIGIN = {"client": "203.0.113.7", "userAgent": "test-agent/1.0"}  # the API adds these to every request
CREDENTIALS = {"username": "Alice", "password": "password123", **ORIGIN}

# -- restart ------------------------------------------------------------------------------------


async def test_users_and_sessions_survive_a_restart(mongo_client: Any, database_url: str, db_name: str) -> None:
    settings = make_settings(mongodb_db=db_name, requesting_journal="all")

    services = await start(settings, database_url)
    try:
        registered = (await services.handler.handle(REGISTER, CREDENTIALS)).body
    finally:
        await services.close()
    assert set(registered) == {"user", "username", "session", "expiresAt"}
    assert await mongo_client[db_name][REQUESTS].count_documents({}) == 1  # the journal was flushed on close

    services = await start(settings, database_url)
    try:
        authenticated = (await services.handler.handle(AUTHENTICATE, CREDENTIALS)).body
        sessioning = services.engine.concepts["Sessioning"]
        assert isinstance(sessioning, Sessioning)
        old_session = await sessioning._getUser(session=registered["session"])
        me = (await services.handler.handle("/me", {"session": registered["session"], **ORIGIN})).body
    finally:
        await services.close()

    assert authenticated["user"] == registered["user"]
    assert [row["user"] for row in old_session] == [registered["user"]]
    assert me == {"user": registered["user"], "username": "Alice"}
    assert await mongo_client[db_name][REQUESTS].count_documents({}) == 3


async def test_a_restart_with_a_rotated_key_keeps_sessions_and_a_new_key_ends_them(
    database_url: str, db_name: str
) -> None:
    services = await start(make_settings(mongodb_db=db_name, jwt_secret=OTHER_SECRET), database_url)
    try:
        token = (await services.handler.handle(REGISTER, CREDENTIALS)).body["session"]
    finally:
        await services.close()

    rotated = make_settings(mongodb_db=db_name, jwt_secret=SECRET, jwt_secret_previous=OTHER_SECRET)
    services = await start(rotated, database_url)
    try:
        assert (await services.handler.handle("/me", {"session": token})).body["username"] == "Alice"
    finally:
        await services.close()

    services = await start(make_settings(mongodb_db=db_name, jwt_secret=SECRET), database_url)
    try:
        assert (await services.handler.handle("/me", {"session": token})).body == {"user": None}
    finally:
        await services.close()


# -- indexes ------------------------------------------------------------------------------------


async def test_the_collections_have_their_indexes(database: Any) -> None:
    users = await database[USERS].index_information()
    sessions = await database[SESSIONS].index_information()
    requests = await database[REQUESTS].index_information()

    assert users["key_1"]["key"] == [("key", 1)] and users["key_1"]["unique"] is True
    assert sessions["user_1_created_-1"]["key"] == [("user", 1), ("created", -1)]
    assert sessions["expires_1"]["key"] == [("expires", 1)] and sessions["expires_1"]["expireAfterSeconds"] == 0
    assert requests["expires_1"]["key"] == [("expires", 1)] and requests["expires_1"]["expireAfterSeconds"] == 0


@pytest.mark.parametrize(
    ("collection", "query", "options"),
    [
        (USERS, {"key": "alice"}, {}),
        (USERS, {"_id": ObjectId("6b0000000000000000000001")}, {}),
        (USERS, {}, {"sort": {"_id": 1}, "hint": {"_id": 1}, "limit": 100}),
        (USERS, {"_id": {"$gt": ObjectId("6b0000000000000000000001")}}, {"sort": {"_id": 1}, "hint": {"_id": 1}}),
        (SESSIONS, {"_id": "a-session-id"}, {}),
        (SESSIONS, {"user": "6b0000000000000000000001"}, {}),
        (SESSIONS, {"user": "6b0000000000000000000001"}, {"sort": {"created": -1}}),
    ],
    ids=[
        "user by key",
        "user by id",
        "all users",
        "users after id",
        "session by id",
        "sessions by user",
        "sessions by user, newest first",
    ],
)
async def test_each_kind_of_query_is_served_by_an_index(
    database: Any, collection: str, query: dict[str, Any], options: dict[str, Any]
) -> None:
    ua = UserAuthentication(fast_hasher())
    for name in ["alice", "bob", "carol"]:
        user = (await ua.register(username=name, password="password123"))["user"]
        await Sessioning(TokenCodec([SECRET], "concept-auth"), timedelta(hours=1)).create(user=user)

    found = await winning_stages(database, collection, query, **options)

    assert "IXSCAN" in found and "COLLSCAN" not in found, found


@pytest.fixture
async def recorded(database_url: str, db_name: str) -> AsyncIterator[tuple[Any, CommandRecorder]]:
    """The test's database through a client that records every command sent."""
    async with recording(database_url, db_name) as found:
        yield found


async def test_every_query_the_concepts_issue_is_served_by_an_index(
    recorded: tuple[Any, CommandRecorder],
) -> None:
    database, recorder = recorded
    ua = UserAuthentication(fast_hasher())
    sessioning = Sessioning(TokenCodec([SECRET], "concept-auth"), timedelta(hours=1))
    password, new_password = "password123", "password456"

    # Every action and query of the concepts, on their success and failure paths.
    user = (await ua.register(username="alice", password=password))["user"]
    other = (await ua.register(username="bob", password=password))["user"]
    await ua.register(username="ALICE", password=password)
    await ua.authenticate(username="Alice", password=password)
    await ua.authenticate(username="alice", password="wrong password")
    await ua.authenticate(username="nobody", password=password)
    staged = await ua.changePassword(user=user, oldPassword=password, newPassword=new_password)
    await ua.changePassword(user=user, oldPassword="wrong password", newPassword=new_password)
    await ua.completePasswordChange(user=user, change=staged["change"])
    await ua.completePasswordChange(user=user, change="never staged")
    lapsing = UserAuthentication(fast_hasher(), lease=timedelta(0))
    await lapsing.changePassword(user=user, oldPassword=new_password, newPassword="given up password")
    await lapsing.authenticate(username="alice", password=new_password)  # gives the lapsed change up
    await ua._checkUserExists(user=user)
    await ua._getAllUsers(first=1)
    await ua._getAllUsers(first=10, after=user)
    await ua._getUsernameById(user=user)
    await ua._getUsernameById(user=other)
    tokens = [(await sessioning.create(user=user))["session"] for _ in range(3)]
    capped = Sessioning(TokenCodec([SECRET], "concept-auth"), timedelta(hours=1), per_user=1)
    for _ in range(2):
        await capped.create(user=other)  # the second ends the first
    await sessioning._getUser(session=tokens[0])
    await sessioning.delete(session=tokens[0])
    await sessioning.delete(session=tokens[0])
    await sessioning.touch(session=tokens[1])
    await sessioning._getSessions(user=user)
    handle = (await sessioning._getUser(session=tokens[1]))[0]["id"]
    await sessioning.revoke(user=other, id=handle)
    await sessioning.revoke(user=user, id=handle)
    await sessioning.deleteByUser(user=user, keep=tokens[2])
    await sessioning.deleteByUser(user=user)
    deletion = await ua.deleteAccount(user=other)
    await ua.completeDeletion(user=other, change=deletion["change"])
    await ua.completeDeletion(user=other, change=deletion["change"])
    await ua.deleteAccount(user=other)
    await ua._getCredentials(user=user)
    rehashing = UserAuthentication(PasswordHasher(memory_kib=2048, time_cost=1))
    await rehashing.authenticate(username="alice", password=new_password)
    throttling = Throttling({"login": Limit(1, timedelta(minutes=15), per_source=1)})
    await throttling.attempt(kind="login", key="alice", source="10.0.0.1")
    await throttling.attempt(kind="login", key="alice", source="10.0.0.1")
    await throttling.attempt(kind="login", key="bob", source="10.0.0.1")
    await throttling.succeed(kind="login", key="alice", at=datetime.now(UTC), source="10.0.0.1")

    issued = recorder.issued
    assert len(issued) >= 20
    await assert_served_by_indexes(database, issued)
    assert {(q.collection, tuple(sorted(q.query))) for q in issued} == {
        (USERS, ("key",)),
        (USERS, ("_id",)),
        (USERS, ()),
        (USERS, ("$or", "_id", "version")),
        (USERS, ("_id", "lease.id")),
        (USERS, ("_id", "lease.id", "lease.until")),
        (USERS, ("_id", "password_hash", "version")),
        (SESSIONS, ("_id",)),
        (SESSIONS, ("user",)),
        (SESSIONS, ("_id", "user")),
        (SESSIONS, ("handle", "user")),
        (ATTEMPTS, ("_id", "attempts")),
        (ATTEMPTS, ("_id",)),
    }
