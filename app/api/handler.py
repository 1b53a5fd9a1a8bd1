"""The one entry point of the API layers: a request in, its response out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from app.concepts.gating import Gating
from app.concepts.outputs import Error, error
from app.concepts.requesting import Requesting, RequestRecord
from app.database import unavailable
from app.engine import Engine, Flow, FlowError, Observer, redact
from app.engine.concepts import concept_name
from app.observability.logs import current_flow
from app.protocol.codes import INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE, TIMEOUT, failure
from app.protocol.gates import REQUEST_GATE
from app.protocol.routes import IMPLICIT, Route

from .journal import RequestJournal

logger = logging.getLogger(__name__)

REQUESTING = concept_name(Requesting)


INT64 = range(-(2**63), 2**63)


def storable(value: Any) -> Any:
    """A copy the database can store: text that is not valid Unicode is escaped,
    integers beyond 64 bits become text."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode()
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        return str(value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Response:
    """What a sync responded (or the handler's own error), and the flow that produced it."""

    body: dict[str, Any]
    flow: Flow
    ms: float

    @property
    def code(self) -> str | None:
        return failure(self.body)


class RequestObserver(Observer, Protocol):
    """The engine's observer, told of each request too (the metrics)."""

    def request_completed(self, path: str, code: str | None, seconds: float) -> None:
        """A request was answered: its path, its error code (None if OK), how long it took."""


class RequestHandler:
    """Invokes `Requesting.request` and returns the response once the flow is quiescent.

    Because invoking an action runs its whole cascade of syncs, a flow that ends
    without a response is known at once and answered with an internal error; the
    timeout only guards actions that really take long.
    """

    def __init__(
        self,
        engine: Engine,
        requesting: Requesting,
        *,
        timeout: float,
        journal: RequestJournal | None = None,
        keep_for: timedelta = timedelta(days=7),
        routes: Iterable[Route] = (),
        gated: Collection[str] = (),
        observer: RequestObserver | None = None,
    ) -> None:
        self.engine = engine
        self.routes = {route.path: route for route in routes}
        self.gated = frozenset(gated)
        """The paths a guard watches at the request gate: only their requests ask it."""
        self.requesting = requesting
        self.timeout = timeout
        self.journal = journal
        self.keep_for = keep_for
        self.observer = observer

    @property
    def secrets(self) -> Collection[str]:
        return self.engine.secrets

    @cached_property
    def bookkeeping(self) -> frozenset[str]:
        return bookkeeping_syncs(self.engine)

    async def handle(self, path: str, inputs: dict[str, Any]) -> Response:
        flow = Flow()
        logged_as = current_flow.set(flow.id)  # the lines logged from here on, the flow's too, name it
        try:
            return await self._handle(path, inputs, flow)
        finally:
            current_flow.reset(logged_as)

    async def _handle(self, path: str, inputs: dict[str, Any], flow: Flow) -> Response:
        started = time.perf_counter()
        inputs = {**dict.fromkeys(IMPLICIT), **inputs}
        run = asyncio.ensure_future(self._run(path, inputs, flow))
        await asyncio.wait({run}, timeout=self.timeout)  # on timeout the flow goes on; only we stop waiting
        body: dict[str, Any] | Error | None
        if run.done() and isinstance(failure := run.exception(), FlowError):
            body = self._failed(path, failure)
        elif run.done() and failure is not None:
            raise failure
        elif run.done() and (refused := run.result()) is not None:
            body = refused
        else:
            body = self._response(flow)  # a slow flow may have responded already
            if body is None:
                body = self._no_response(path, flow) if run.done() else self._timed_out(path, flow, run)
        ms = (time.perf_counter() - started) * 1000
        if run.done():
            self._forget(flow)  # a timed-out flow is forgotten when it ends
        self._journal(path, inputs, dict(body), flow, ms)
        response = Response(dict(body), flow, ms)
        if self.observer is not None:
            self.observer.request_completed(path, response.code, ms / 1000)
        return response

    def refused(self, path: str, code: str, seconds: float) -> None:
        """A request the API layer refused before any action ran: counted like the others."""
        if self.observer is not None:
            self.observer.request_completed(path, code, seconds)

    async def _run(self, path: str, inputs: dict[str, Any], flow: Flow) -> dict[str, Any] | None:
        """The request's flow: through the request gate, when a guard watches its path (its
        refusal is the answer), then `Requesting.request` and every sync it fires."""
        try:
            if path in self.gated:
                gate = {"gate": REQUEST_GATE, "key": flow.id}
                await self.engine.invoke(Gating.ask, {**gate, "path": path, **inputs}, flow)
                decision = await self.engine.invoke(Gating.decide, gate, flow)
                if "passed" not in decision:
                    return decision
            await self.engine.invoke(Requesting.request, {**inputs, "path": path}, flow)
            return None
        finally:
            self.engine.finish(flow)

    def _request_id(self, flow: Flow) -> str | None:
        request = next((r for r in flow.records if r.sync is None and r.action.fn is Requesting.request), None)
        return request.output["request"] if request is not None and request.output else None

    def _response(self, flow: Flow) -> dict[str, Any] | None:
        request = self._request_id(flow)
        rows = self.requesting._awaitResponse(request) if request else []
        return rows[0]["response"] if rows else None

    def _no_response(self, path: str, flow: Flow) -> Error:
        logger.error(
            "no sync responded to %s [flow %s]; syncs fired: %s", path, flow.id, ", ".join(flow.fired()) or "none"
        )
        return error(INTERNAL_SERVER_ERROR, f"Internal server error (flow {flow.id}).")

    def _timed_out(self, path: str, flow: Flow, run: asyncio.Future[Any]) -> Error:
        logger.error("no response to %s within %ss [flow %s]", path, self.timeout, flow.id)
        run.add_done_callback(lambda done: self._after_timeout(done, flow))
        return error(TIMEOUT, f"The request took too long (flow {flow.id}).")

    def _after_timeout(self, run: asyncio.Future[Any], flow: Flow) -> None:
        self._forget(flow)
        if not run.cancelled() and run.exception() is not None:
            logger.error("flow %s failed after its request timed out", flow.id, exc_info=run.exception())

    def _failed(self, path: str, failure: FlowError) -> Error:
        if unavailable(failure.cause):
            logger.error("database unavailable during %s [flow %s]", path, failure.flow_id)
            return error(SERVICE_UNAVAILABLE, "The database is unavailable; try again shortly.")
        logger.error("%s [flow %s]", failure, failure.flow_id, exc_info=failure.cause)
        return error(INTERNAL_SERVER_ERROR, f"Internal server error (flow {failure.flow_id}).")

    def _forget(self, flow: Flow) -> None:
        request = self._request_id(flow)
        if request is not None:
            self.requesting.forget(request)

    def _journal(self, path: str, inputs: dict[str, Any], body: dict[str, Any], flow: Flow, ms: float) -> None:
        code = failure(body)
        if self.journal is None:
            return
        client = inputs.get("client")
        read = not changed_state(flow, self.bookkeeping)
        if not self.journal.keeps(
            failed=code is not None, read=read, client=client if isinstance(client, str) else None
        ):
            return
        now = datetime.now(UTC)
        self.journal.add(
            RequestRecord(
                path=path,
                inputs=storable(redact(inputs, self.secrets)),
                response=storable(redact(body, self.secrets)),
                status=code or "OK",
                ms=round(ms, 3),
                flow=flow.id,
                time=now,
                expires=now + self.keep_for,
            )
        )


def changed_state(flow: Flow, bookkeeping: Collection[str]) -> bool:
    """Whether the request changed state: a sync invoked an action of a concept besides
    Requesting (concepts change state only through actions), not counting what the
    `bookkeeping` syncs do on every request (marking a session used): otherwise, with
    many sessions, nearly every read would count as a write. (The handler's own
    invocations, the request and its gate, change nothing.)"""
    return any(
        record.sync is not None and record.action.concept != REQUESTING and record.sync not in bookkeeping
        for record in flow.records
    )


def bookkeeping_syncs(engine: Engine) -> frozenset[str]:
    """The syncs that fire on any request: their `when` is one `Requesting.request` that names no path."""
    return frozenset(
        compiled.name
        for compiled in engine.syncs
        if len(compiled.patterns) == 1
        and compiled.patterns[0].action.fn is Requesting.request
        and "path" not in dict(compiled.patterns[0].input_literals)
    )
