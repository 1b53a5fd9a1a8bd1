"""Requesting: the concept, the RequestHandler that answers API calls through a real
engine, and the journal of answered requests (which must never hold a secret)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import pytest
from bson import json_util
from pymongo.errors import ServerSelectionTimeoutError

from app.api.handler import RequestHandler
from app.api.journal import RequestJournal
from app.concepts import Requesting
from app.concepts.requesting import RequestRecord, SecondResponse
from app.engine import Engine, FlowError, Sync, sync
from app.parts import discover
from app.server.services import assemble

from .helpers import make_settings

REQUESTS = "Requesting.requests"
HANDLER_LOG = "app.api.handler"
CLIENT = "203.0.113.7"
ORIGIN = {"client": CLIENT, "userAgent": "test-agent/1.0"}  # the API adds these to every request

# -- the concept ------------------------------------------------------------------------------


async def test_request_returns_distinct_ids() -> None:
    requesting, other = Requesting(), Requesting()

    ids = [(await requesting.request(path="/p", n=i))["request"] for i in range(100)]
    ids += [(await other.request(path="/p"))["request"] for _ in range(100)]

    assert len(set(ids)) == 200
    assert all(isinstance(request, str) for request in ids)


async def test_request_keeps_its_path_and_inputs() -> None:
    requesting = Requesting()

    request = (await requesting.request(path="/p", username="alice", n=1))["request"]

    pending = requesting.forget(request)
    assert pending is not None
    assert (pending.path, pending.inputs, pending.response) == ("/p", {"username": "alice", "n": 1}, None)


async def test_await_response_is_empty_until_a_response() -> None:
    requesting = Requesting()
    request = (await requesting.request(path="/p"))["request"]

    assert requesting._awaitResponse(request) == []

    assert await requesting.respond(request=request, user="u1") == {"request": request}
    assert requesting._awaitResponse(request) == [{"response": {"user": "u1"}}]


async def test_the_first_response_wins(caplog: pytest.LogCaptureFixture) -> None:
    requesting = Requesting()
    request = (await requesting.request(path="/p"))["request"]

    await requesting.respond(request=request, answer="first")
    with caplog.at_level(logging.WARNING, "app.concepts.requesting.concept"):
        assert await requesting.respond(request=request, answer="second", session="secret-token") == {
            "request": request
        }

    assert requesting._awaitResponse(request) == [{"response": {"answer": "first"}}]
    assert "second response" in caplog.text and request in caplog.text
    assert "secret-token" not in caplog.text  # only the keys are logged


async def test_a_response_to_an_unknown_request_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    requesting = Requesting()

    with caplog.at_level(logging.WARNING, "app.concepts.requesting.concept"):
        assert await requesting.respond(request="nope", answer=1) == {"request": "nope"}

    assert requesting._awaitResponse("nope") == []
    assert "unknown request nope" in caplog.text


async def test_forget_drops_the_request() -> None:
    requesting = Requesting()
    request = (await requesting.request(path="/p"))["request"]
    await requesting.respond(request=request, answer=1)

    assert requesting.forget(request) is not None

    assert requesting._awaitResponse(request) == []
    assert requesting.forget(request) is None
    await requesting.respond(request=request, answer=2)  # a late response does not bring it back
    assert requesting._awaitResponse(request) == []


# -- the handler, with a small concept of its own -------------------------------------------------


class DoneOut(TypedDict):
    done: bool


class Trouble:
    """Actions that fail or take long, to see what the handler makes of them."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def explode(self, why: str) -> DoneOut:
        if why == "database":
            raise ServerSelectionTimeoutError("no servers")
        raise RuntimeError(f"boom: {why}")

    async def dawdle(self, seconds: float) -> DoneOut:
        await asyncio.sleep(seconds)
        return {"done": True}

    async def hold(self) -> DoneOut:
        await self.release.wait()
        return {"done": True}


@sync
def ExplodeRequest(request, why):
    return Sync(
        when=[(Requesting.request, {"path": "/explode", "why": why}, {"request": request})],
        then=[(Trouble.explode, {"why": why})],
    )


@sync
def DawdleRequest(request, seconds):
    return Sync(
        when=[(Requesting.request, {"path": "/dawdle", "seconds": seconds}, {"request": request})],
        then=[(Trouble.dawdle, {"seconds": seconds})],
    )


@sync
def DawdleResponse(request, done):
    return Sync(
        when=[
            (Requesting.request, {"path": "/dawdle"}, {"request": request}),
            (Trouble.dawdle, {}, {"done": done}),
        ],
        then=[(Requesting.respond, {"request": request, "done": done})],
    )


@sync
def HoldRequest(request):
    return Sync(
        when=[(Requesting.request, {"path": "/hold"}, {"request": request})],
        then=[(Trouble.hold, {})],
    )


NO_TIMEOUT = 3600.0
"""The handler's timeout where a test is not about timeouts: no test waits on a clock."""


def trouble_handler(
    timeout: float = NO_TIMEOUT, journal: RequestJournal | None = None
) -> tuple[RequestHandler, Trouble]:
    engine, requesting, trouble = Engine(), Requesting(), Trouble()
    engine.register(requesting, trouble)
    engine.add_syncs([ExplodeRequest, DawdleRequest, DawdleResponse, HoldRequest])
    return RequestHandler(engine, requesting, timeout=timeout, journal=journal), trouble


def app_handler(journal: RequestJournal | None = None, timeout: float = NO_TIMEOUT) -> RequestHandler:
    """The application's own engine: every concept, every sync."""
    settings = make_settings()
    assembly = assemble(settings, discover())
    return RequestHandler(assembly.engine, assembly.handler.requesting, timeout=timeout, journal=journal)


def request_id(response: Any) -> str:
    return str(response.flow.root.output["request"])


@pytest.fixture
async def journal(database: Any) -> AsyncIterator[RequestJournal]:
    """A journal that only writes when flushed (its own flusher would wait an hour)."""
    journal = RequestJournal(delay=3600)
    yield journal
    await journal.close()


async def test_handle_returns_the_response_of_the_flow(database: Any) -> None:
    handler = app_handler()

    response = await handler.handle(
        "/UserAuthentication/register", {"username": "alice", "password": "password123", **ORIGIN}
    )

    assert set(response.body) == {"user", "username", "session", "expiresAt"}
    assert response.body["username"] == "alice"
    assert response.code is None
    assert response.flow.quiescent and response.ms > 0
    assert handler.requesting._awaitResponse(request_id(response)) == []  # forgotten once answered

    me = await handler.handle("/me", {"session": response.body["session"], **ORIGIN})
    assert me.body == {"user": response.body["user"], "username": "alice"}


async def test_handle_returns_a_domain_error_as_the_body(database: Any) -> None:
    handler = app_handler()

    response = await handler.handle(
        "/UserAuthentication/register", {"username": "alice", "password": "short", **ORIGIN}
    )

    assert response.code == "WEAK_PASSWORD"
    assert set(response.body) == {"error", "code"}


@pytest.mark.parametrize(
    ("path", "inputs"),
    [("/nowhere", {}), ("/UserAuthentication/register", {"username": "alice"})],
    ids=["unknown path", "missing input"],
)
async def test_a_request_no_sync_answers_gets_an_internal_error_at_once(
    database: Any, caplog: pytest.LogCaptureFixture, path: str, inputs: dict[str, Any]
) -> None:
    handler = app_handler()  # waiting for it would be a TIMEOUT, an hour later

    with caplog.at_level(logging.ERROR, HANDLER_LOG):
        response = await handler.handle(path, inputs)

    assert response.code == "INTERNAL_SERVER_ERROR"
    assert response.body["error"] == f"Internal server error (flow {response.flow.id})."
    assert f"no sync responded to {path}" in caplog.text
    assert response.flow.id in caplog.text
    assert handler.requesting.forget(request_id(response)) is None


async def test_an_action_that_raises_gives_an_internal_error_naming_the_flow(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    handler, _ = trouble_handler()

    with caplog.at_level(logging.ERROR, HANDLER_LOG):
        response = await handler.handle("/explode", {"why": "testing"})

    assert response.code == "INTERNAL_SERVER_ERROR"
    assert response.body == {
        "error": f"Internal server error (flow {response.flow.id}).",
        "code": "INTERNAL_SERVER_ERROR",
    }
    assert "boom" not in str(response.body)  # the cause is logged, not shown
    assert isinstance(response.flow.error, FlowError)
    assert response.flow.id in caplog.text and "Trouble.explode" in caplog.text
    assert any(record.exc_info and "boom: testing" in str(record.exc_info[1]) for record in caplog.records)
    assert handler.requesting.forget(request_id(response)) is None


async def test_a_lost_database_gives_service_unavailable(database: Any) -> None:
    handler, _ = trouble_handler()

    response = await handler.handle("/explode", {"why": "database"})

    assert response.code == "SERVICE_UNAVAILABLE"


async def test_a_slow_flow_times_out_and_is_forgotten_when_it_ends(database: Any) -> None:
    handler, trouble = trouble_handler(timeout=0.01)

    response = await handler.handle("/hold", {})  # held until released: it cannot end first

    assert response.code == "TIMEOUT"
    assert response.flow.id in response.body["error"]
    request = request_id(response)
    trouble.release.set()
    for _ in range(100):  # loop turns, not time: the flow's end runs the forgetting callback
        await asyncio.sleep(0)
    assert handler.requesting.forget(request) is None

    handler.timeout = NO_TIMEOUT  # the next request is not about timeouts: a busy machine must not time it out
    fast = await handler.handle("/dawdle", {"seconds": 0})
    assert fast.body == {"done": True}


async def test_a_password_with_a_lone_surrogate_is_a_user_error_not_an_internal_error(database: Any) -> None:
    """What a REST body {"password": "\\ud800..."} becomes (json.loads keeps lone surrogates)."""
    handler = app_handler()

    response = await handler.handle(
        "/UserAuthentication/register", {"username": "alice", "password": "\ud800" * 8, **ORIGIN}
    )

    assert response.code == "WEAK_PASSWORD", response.body


@sync
def SilentRespond(request):
    return Sync(
        when=[(Requesting.request, {"path": "/silent"}, {"request": request})],
        then=[(Requesting.respond, {"request": request})],
    )


async def test_an_empty_response_is_a_response(database: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Requesting records a response with no fields ({}); the handler must return it, not
    mistake it (falsy) for no response at all."""
    engine, requesting = Engine(), Requesting()
    engine.register(requesting)
    engine.add_syncs([SilentRespond])
    handler = RequestHandler(engine, requesting, timeout=NO_TIMEOUT)

    with caplog.at_level(logging.ERROR, HANDLER_LOG):
        response = await handler.handle("/silent", {})

    assert response.body == {}
    assert "no sync responded" not in caplog.text


# -- the journal ---------------------------------------------------------------------------------


async def test_the_journal_records_each_request_with_its_secrets_redacted(
    database: Any, journal: RequestJournal
) -> None:
    handler = app_handler(journal=journal)
    first, second, wrong, third = "first-Pa55word!", "second-Pa55word!", "wrong-Pa55word!", "third-Pa55word!"

    async def call(path: str, **inputs: Any) -> dict[str, Any]:
        return (await handler.handle(path, {**inputs, **ORIGIN})).body

    tokens = [(await call("/UserAuthentication/register", username="alice", password=first))["session"]]
    tokens.append((await call("/UserAuthentication/authenticate", username="ALICE", password=first))["session"])
    tokens.append((await call("/login", username="alice", password=first))["session"])
    assert (await call("/me", session=tokens[0]))["username"] == "alice"
    changed = await call(
        "/UserAuthentication/changePassword", session=tokens[0], user=None, oldPassword=first, newPassword=second
    )
    assert changed["status"] == "password_changed"
    assert (await call("/logout", session=tokens[0])) == {"status": "logged_out"}
    assert (await call("/logout", session=tokens[1]))["code"] == "UNAUTHENTICATED"  # revoked by the change
    assert (await call("/UserAuthentication/authenticate", username="alice", password=wrong))["code"] == (
        "INVALID_CREDENTIALS"
    )
    tokens.append((await call("/UserAuthentication/authenticate", username="alice", password=second))["session"])
    tokens.append((await call("/UserAuthentication/register", username="bob", password=third))["session"])
    assert (await call("/UserAuthentication/deleteAccount", session=tokens[4], user=None))[
        "status"
    ] == "account_deleted"
    assert (await call("/nowhere", password=first))["code"] == "INTERNAL_SERVER_ERROR"

    await journal.flush()

    records = await database[REQUESTS].find({}, sort=[("time", 1)]).to_list()
    assert [(r["path"], r["status"]) for r in records] == [
        ("/UserAuthentication/register", "OK"),
        ("/UserAuthentication/authenticate", "OK"),
        ("/login", "OK"),
        ("/me", "OK"),
        ("/UserAuthentication/changePassword", "OK"),
        ("/logout", "OK"),
        ("/logout", "UNAUTHENTICATED"),
        ("/UserAuthentication/authenticate", "INVALID_CREDENTIALS"),
        ("/UserAuthentication/authenticate", "OK"),
        ("/UserAuthentication/register", "OK"),
        ("/UserAuthentication/deleteAccount", "OK"),
        ("/nowhere", "INTERNAL_SERVER_ERROR"),
    ]
    secret_keys = {"password", "oldPassword", "newPassword", "session"}
    for r in records:
        for part in (r["inputs"], r["response"]):
            assert all(part[key] in ("***", None) for key in secret_keys & set(part)), r
    assert records[0]["inputs"]["username"] == "alice"
    assert records[0]["inputs"]["password"] == "***"
    assert records[0]["response"]["session"] == "***"
    assert records[0]["response"]["username"] == "alice"
    assert records[3]["inputs"]["session"] == "***"
    assert {key: records[4]["inputs"][key] for key in ("session", "oldPassword", "newPassword")} == {
        "session": "***",
        "oldPassword": "***",
        "newPassword": "***",
    }
    assert all(r["flow"] and r["ms"] >= 0 and r["expires"] > r["time"] for r in records)

    # No clear password or token anywhere in the database: users hold hashes,
    # sessions hold session ids, requests hold `***`.
    clear = [first, second, wrong, third, *tokens]
    names = await database.list_collection_names()
    assert {"UserAuthentication.users", "Sessioning.sessions", REQUESTS} <= set(names)
    for name in names:
        async for document in database[name].find({}):
            raw = json_util.dumps(document)
            for secret in clear:
                assert secret not in raw, f"a secret is stored in clear in {name}"
    assert await database["UserAuthentication.users"].count_documents({}) == 1
    assert await database["Sessioning.sessions"].count_documents({}) == 1  # only the last login's


async def test_the_journal_records_a_failed_flow(database: Any, journal: RequestJournal) -> None:
    handler, _ = trouble_handler(journal=journal)

    response = await handler.handle("/explode", {"why": "x"})
    await journal.flush()

    record = await database[REQUESTS].find_one({})
    assert record is not None
    assert (record["path"], record["status"], record["flow"]) == ("/explode", "INTERNAL_SERVER_ERROR", response.flow.id)


async def test_the_journal_records_a_timed_out_request(database: Any, journal: RequestJournal) -> None:
    handler, trouble = trouble_handler(timeout=0.01, journal=journal)

    response = await handler.handle("/hold", {})
    await journal.flush()
    trouble.release.set()

    assert response.code == "TIMEOUT"
    record = await database[REQUESTS].find_one({})
    assert record is not None
    assert (record["path"], record["status"], record["flow"]) == ("/hold", "TIMEOUT", response.flow.id)


def record(i: int) -> RequestRecord:
    now = datetime.now(UTC)
    return RequestRecord(
        path=f"/p{i}", inputs={}, response={}, status="OK", ms=1.0, flow=f"f{i}", time=now, expires=now + timedelta(1)
    )


async def test_the_journal_writes_by_itself_soon_after(database: Any) -> None:
    journal = RequestJournal(delay=0)

    try:
        journal.add(record(1))
        assert journal._flusher is not None
        await journal._flusher  # the write `add` scheduled by itself: no flush() asked for it
        assert await database[REQUESTS].count_documents({}) == 1
    finally:
        await journal.close()


async def test_the_journal_drops_the_oldest_records_beyond_its_limit(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    journal = RequestJournal(delay=3600, limit=3, batch=2)
    for i in range(5):
        journal.add(record(i))

    with caplog.at_level(logging.WARNING, "app.api.journal"):
        await journal.close()

    assert sorted(r["path"] for r in await database[REQUESTS].find({}).to_list()) == ["/p2", "/p3", "/p4"]
    assert "2 request records were not stored" in caplog.text


async def test_a_second_response_fails_the_flow_when_strict() -> None:
    requesting = Requesting(strict=True)
    request = (await requesting.request(path="/p"))["request"]
    await requesting.respond(request=request, answer="first")

    with pytest.raises(SecondResponse, match=f"^second response to request {request} \\(keys: answer, session\\)$"):
        await requesting.respond(request=request, answer="second", session="secret-token")

    assert requesting._awaitResponse(request) == [{"response": {"answer": "first"}}]


@sync
def RespondTwice(request):
    return Sync(
        when=[(Requesting.request, {"path": "/twice"}, {"request": request})],
        then=[
            (Requesting.respond, {"request": request, "answer": 1}),
            (Requesting.respond, {"request": request, "answer": 2}),
        ],
    )


async def test_a_request_answered_twice_is_an_internal_error_when_strict(caplog: pytest.LogCaptureFixture) -> None:
    engine, requesting = Engine(), Requesting(strict=True)
    engine.register(requesting)
    engine.add_syncs([RespondTwice])
    handler = RequestHandler(engine, requesting, timeout=NO_TIMEOUT)

    with caplog.at_level(logging.ERROR, HANDLER_LOG):
        response = await handler.handle("/twice", {})

    assert response.body["code"] == "INTERNAL_SERVER_ERROR"
    assert "SecondResponse" in caplog.text and "RespondTwice" in caplog.text
