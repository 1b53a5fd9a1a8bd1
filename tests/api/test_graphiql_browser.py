"""GraphiQL in a real headless Chromium, against the app over a real socket, with every
request to anywhere but the app refused: the page must render and run a query offline."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from playwright.async_api import ConsoleMessage, Route, async_playwright

from ..browser import CHROMIUM, CHROMIUM_ARGS, HANG, needs_chromium, serving
from .helpers import USERS, StartApi

pytestmark = needs_chromium

MUTATION = (
    'mutation { register(username: "ada", password: "correct horse") { ... on AuthSuccess { user { username } } } }'
)


async def test_graphiql_renders_and_runs_a_query_with_no_network(start_api: StartApi, tmp_path: Path) -> None:
    async with start_api() as api, serving(api.app) as origin, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context()
        context.set_default_timeout(HANG)
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
