"""Which port answers what, when METRICS_PORT gives /metrics a port of its own."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

METRICS_PATH = "/metrics"


class MetricsPort:
    """On `port`, /metrics and nothing else; on every other port, everything but /metrics.
    The port is the one the connection came in on (the listening socket's), which no
    header can change."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            server = scope.get("server") or (None, None)
            if (server[1] == self.port) != (scope["path"] == METRICS_PATH):
                await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)
