"""OpenTelemetry traces: a span per HTTP request, and under it a span per action of
its flows, each under the span of the action whose completion fired its sync.

The spans are built after the response, from the flows' records (which know when
each action started and how long it took), so the engine itself carries no tracing
code. They hold names, the flow id, the firing sync and error codes, never an
action's inputs or outputs, so no secret reaches a trace. The SDK is imported only
when OTEL_EXPORTER_OTLP_ENDPOINT is set: unset, nothing here runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.types import ASGIApp, Receive, Scope, Send

from app.engine import Flow
from app.protocol.codes import failure

from .exchange import exchange
from .status import SeenStatus

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

SCOPE = "concept-auth"


class Traces(NamedTuple):
    tracer: Tracer
    shutdown: Callable[[], None]
    """Flushes the spans not yet exported; blocks (call it in a thread)."""


def start_traces(endpoint: str, service_name: str) -> Traces:
    """A tracer exporting over OTLP/HTTP in batches (from a thread, off the event loop)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")))
    return Traces(provider.get_tracer(SCOPE), provider.shutdown)


class Tracing:
    """ASGI middleware: continues the caller's W3C `traceparent`, then records the request."""

    def __init__(self, app: ASGIApp, tracer: Tracer, paths: Collection[str], untraced: Collection[str] = ()) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self.app = app
        self.tracer = tracer
        self.paths = frozenset(paths)
        """The declared paths: a span is named `<method> <path>` only for these, else `<method>`,
        so a client cannot choose the names (and their number) a tracing backend stores."""
        self.untraced = frozenset(untraced)
        """Paths never traced: probes and scrapes, which would bury the requests among their traces."""
        self.propagator = TraceContextTextMapPropagator()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.untraced:
            await self.app(scope, receive, send)
            return
        wall, clock = time.time_ns(), time.perf_counter()
        status = SeenStatus(send)
        try:
            await self.app(scope, receive, status)
        finally:
            self._record(scope, status.code, wall, clock, time.time_ns())

    def _record(self, scope: Scope, status: int, wall: int, clock: float, end: int) -> None:
        from opentelemetry import trace

        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        record = exchange(scope)
        attributes: dict[str, Any] = {
            "http.request.method": scope["method"],
            "url.path": scope["path"],
            "http.response.status_code": status,
        }
        if record.operation:
            attributes["graphql.operation.name"] = record.operation
        name = f"{scope['method']} {scope['path']}" if scope["path"] in self.paths else scope["method"]
        span = self.tracer.start_span(
            name,
            context=self.propagator.extract(headers),
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
            start_time=wall,
        )
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)
        for flow in record.flows:
            self._flow(flow, span, lambda started: wall + int((started - clock) * 1e9))
        span.end(end_time=end)

    def _flow(self, flow: Flow, request: Span, at: Callable[[float], int]) -> None:
        from opentelemetry import trace

        spans: dict[int, Span] = {}
        for record in list(flow.records):
            parent = spans.get(record.cause, request) if record.cause is not None else request
            attributes: dict[str, Any] = {"concept.flow_id": flow.id}
            if record.sync:
                attributes["concept.sync"] = record.sync
            code = failure(record.output or {})
            if code is not None:
                attributes["concept.error_code"] = code
            start = at(record.started)
            span = self.tracer.start_span(
                record.action.qualname,
                context=trace.set_span_in_context(parent),
                attributes=attributes,
                start_time=start,
            )
            if record.output is None:
                span.set_status(trace.StatusCode.ERROR, "did not complete")
            spans[record.seq] = span
            span.end(end_time=start + int(record.ms * 1e6))
