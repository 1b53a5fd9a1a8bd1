"""Debian's Chromium for the tests that need a real browser (GraphiQL, passkeys),
driven by Playwright, with none of its own traffic: and an app on a real socket for it."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp

CHROMIUM = Path("/usr/bin/chromium")
# Chromium as this machine runs it: no sandbox as root, and none of its own traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium); in CI it must run, so CI installs it",
)

HANG = 120_000
"""Milliseconds a browser step may take: a bound on a hang, not a speed test (the machine may be busy)."""


def loopback() -> socket.socket:
    """A socket bound to a free loopback port (its number known before the app is made)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    return listener


@asynccontextmanager
async def serving(app: ASGIApp, host: str = "127.0.0.1", listener: socket.socket | None = None) -> AsyncIterator[str]:
    """`app` (its lifespan already running) on a real loopback socket (`listener`, or a new
    one); yields its origin, named by `host` (`localhost` where the page needs a domain,
    as WebAuthn does)."""
    listener = listener or loopback()
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        assert not task.done(), "the server stopped while starting"
        await asyncio.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()
