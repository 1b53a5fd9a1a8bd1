"""The Starlette application: routes, middleware and the lifespan that wires services."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.api import graphiql
from app.api.endpoint import graphql_endpoint
from app.api.examples import example_routes
from app.api.flows import flow_routes
from app.api.refusals import refusal
from app.api.rest import RestEndpoint
from app.database import EmbeddedDatabase, embedded_database_down, ping
from app.observability.logs import configure_logging
from app.observability.metrics import Metrics
from app.observability.tracing import Tracing, start_traces
from app.parts import discover
from app.protocol import routes as contract
from app.protocol.codes import INTERNAL_SERVER_ERROR
from app.settings import ConfigurationError, Settings, load_settings

from . import services
from .middleware.access_log import AccessLog
from .middleware.headers import NO_STORE, NOSNIFF, SecurityHeaders
from .middleware.limits import BodyLimit, JsonOnly
from .middleware.ports import METRICS_PATH, MetricsPort
from .services import Services

CLIENT_CLOSED_REQUEST = 499
UNTRACED = frozenset({"/healthz", "/readyz", METRICS_PATH})
"""Probes and scrapes: asked every few seconds, they would bury the requests' traces."""


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client left before sending its whole body: nothing to answer, and no error of
    ours. The access log's line says 499 (nginx's "client closed request")."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def internal_error(request: Request, exc: Exception) -> Response:
    """Starlette's last-resort 500, answered outside every middleware: in the API's shape
    and with the headers every response carries. (The exception is still logged.)"""
    response = refusal(request.url.path, 500, "Internal server error.", INTERNAL_SERVER_ERROR)
    response.headers.update({key.decode(): value.decode() for key, value in (NOSNIFF, NO_STORE)})
    return response


class AppState(TypedDict):
    """What the lifespan gives every request (`request.state`): the running services."""

    services: Services


async def healthz(request: Request) -> PlainTextResponse:
    if embedded_database_down():
        return PlainTextResponse("the embedded database is down; restarting it", status_code=503)
    return PlainTextResponse("ok")


async def readyz(request: Request[AppState]) -> JSONResponse:
    ready = await ping(request.state["services"].client)
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


def settle_the_heap() -> None:
    """What start-up made lives as long as the process: collected once, then frozen out
    of the garbage collector's full passes. Otherwise each full pass walks the schema,
    the models and the modules again, stopping every request for tens of milliseconds
    every few hundred requests (the p99 of a read)."""
    gc.collect()
    gc.freeze()


def declared_paths(routes: list[Route], contracts: Iterable[contract.Route]) -> frozenset[str]:
    """Every path the app serves, REST paths as `/api/<path>`: the only paths a span is named after."""
    fixed = {route.path for route in routes if "{" not in route.path}
    return frozenset(fixed | {f"/api{route.path}" for route in contracts if route.rest})


def create_app(settings: Settings) -> Starlette:
    """The app, assembled and checked (it refuses to be made from syncs that do not fit
    the routes). With no MONGODB_URL it runs the embedded database itself; the launcher
    (`python -m app`) instead starts it once and hands its URL to every worker."""
    configure_logging(settings.log_level, settings.log_format)
    parts = discover()
    metrics = Metrics([route.path for route in parts.routes]) if settings.metrics else None
    assembly = services.assemble(settings, parts, observer=metrics)
    endpoint = settings.otel_exporter_otlp_endpoint
    traces = start_traces(endpoint, settings.otel_service_name) if endpoint else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        async with AsyncExitStack() as stack:
            if traces is not None:
                stack.push_async_callback(asyncio.to_thread, traces.shutdown)  # flushes the last spans
            url = settings.mongodb_url
            if url is None:
                url = stack.enter_context(EmbeddedDatabase.from_settings(settings)).url
            running = await services.start(settings, url, assembly, observer=metrics)
            stack.push_async_callback(running.close)
            settle_the_heap()
            yield {"services": running}

    graphql = graphql_endpoint(settings, parts, assembly.coverages, assembly.handler)
    rest = RestEndpoint(assembly.handler, proxies=settings.trust_proxy, debug_flows=settings.debug_flows)
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/api/{path:path}", rest.answer, methods=["POST"]),
        *graphiql.routes,
        *example_routes(settings),
    ]
    if metrics is not None:
        routes.append(Route(METRICS_PATH, metrics.endpoint))
    if settings.debug_flows:
        routes += flow_routes(assembly.engine)
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(AccessLog),
        Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        Middleware(JsonOnly),
    ]
    if metrics is not None and settings.metrics_port is not None:
        middleware.insert(2, Middleware(MetricsPort, port=settings.metrics_port))  # inside the headers and log
    if traces is not None:
        middleware.insert(
            0,
            Middleware(Tracing, tracer=traces.tracer, paths=declared_paths(routes, parts.routes), untraced=UNTRACED),
        )
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={ClientDisconnect: client_gone, Exception: internal_error},
    )


def app_from_environment() -> Starlette:
    """The app of the settings in the environment: what each server process runs. A
    setting that cannot work stops it with one line per problem, as `python -m app` does."""
    try:
        settings = load_settings()
    except ConfigurationError as error:
        for line in str(error).splitlines():
            print(f"app: {line}", file=sys.stderr)
        raise SystemExit(2) from None
    return create_app(settings)
