"""GraphiQL in a real headless Chromium, against the app over a real socket, with every
request to anywhere but the app refused: the page must render and run a query offline."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import uvicorn
from playwright.async_api import ConsoleMessage, Route, async_playwright
from starlette.applications import Starlette

from .helpers import USERS, StartApi

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

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium); in CI it must run, so CI installs it",
)

MUTATION = (
    'mutation { register(username: "ada", password: "correct horse") { ... on AuthSuccess { user { username } } } }'
)


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """`app` (its lifespan already running) on a real socket; yields its origin."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        assert not task.done(), "the server stopped while starting"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


async def test_graphiql_renders_and_runs_a_query_with_no_network(start_api: StartApi, tmp_path: Path) -> None:
    async with start_api() as api, serving(api.app) as origin, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context()
        context.set_default_timeout(120_000)  # a bound on a hang, not a speed test: the machine may be busy
        refused: list[str] = []
        errors: list[str] = []

        async def only_the_app(route: Route) -> None:
            if route.request.url.startswith(origin + "/"):
                await route.continue_()
            else:
                refused.append(route.request.url)
                await route.abort()

        await context.route("**/*", only_the_app)
        page = await context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(str(error)))

        # The query comes in the URL (as a shared GraphiQL link would) rather than typed
        # key by key, which autocompletion can race on a busy machine.
        await page.goto(f"{origin}/graphql?{urlencode({'q': MUTATION})}")
        editor = page.locator(".graphiql-query-editor .CodeMirror")
        await editor.get_by_text("register").first.wait_for()
        await page.locator(".graphiql-execute-button").click()

        result = page.locator(".result-window")
        await result.get_by_text('"username": "ada"').wait_for()
        await page.screenshot(path=tmp_path / "graphiql.png")
        await browser.close()

    assert refused == []
    assert errors == []
    assert await api.count(USERS, {"username": "ada"}) == 1
