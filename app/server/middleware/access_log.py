"""One log line per HTTP request: method, path (or GraphQL operation), status, time, flows."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from app.observability.exchange import exchange
from app.observability.status import SeenStatus

logger = logging.getLogger("app.access")


class AccessLog:
    """Logs after the response is sent. Never logs bodies, headers or query strings,
    so no password or token can reach the log this way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = SeenStatus(send)
        try:
            await self.app(scope, receive, status)
        finally:
            record = exchange(scope)
            flows, operation = record.flows, record.operation
            what = scope["path"]
            if operation:
                what = f"{what} {operation}"
            ms = (time.perf_counter() - started) * 1000
            ids = ",".join(flow.id for flow in flows) or None
            fields = {"method": scope["method"], "path": scope["path"], "operation": operation, "status": status.code}
            logger.info(
                "%s %s %d %.1fms flow=%s",
                scope["method"],
                what,
                status.code,
                ms,
                ids or "-",
                extra={**fields, "ms": round(ms, 1), "flow": ids},
            )
