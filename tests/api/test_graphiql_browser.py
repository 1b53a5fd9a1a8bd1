"""GraphiQL in a real headless Chromium, against the app over a real socket, with every
request to anywhere but the app refused: the page must render and run a query offline,
and keep no password or token anywhere the browser remembers."""

from __future__ import annotations

import json
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


OLD_PASSWORD = "tr0ub4dor &3"
NEW_PASSWORD = "battery staple 42"
CHANGE = (
    f'mutation {{ changePassword(oldPassword: "{OLD_PASSWORD}", newPassword: "{NEW_PASSWORD}") '
    "{ __typename ... on ChangePasswordSuccess { user { username } } ... on UserError { code } } }"
)

TYPE_INTO = """([selector, text]) => document.querySelector(selector).CodeMirror.setValue(text)"""

EDITORS = (
    """() => [...document.querySelectorAll(".CodeMirror")].map((found) => found.CodeMirror.getValue()).join("\\n")"""
)

STORED = """() => Object.fromEntries(
    [localStorage, sessionStorage].flatMap((store) => Object.keys(store).map((key) => [key, store.getItem(key)]))
)"""


async def test_graphiql_keeps_no_password_or_token_in_the_url_history_or_storage(start_api: StartApi) -> None:
    async with start_api() as api, serving(api.app) as origin, async_playwright() as playwright:
        _, token = await api.register("ada", OLD_PASSWORD)
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context()
        context.set_default_timeout(HANG)
        page = await context.new_page()
        # What an earlier version of the page stored, and this one must forget.
        await page.goto(f"{origin}/graphql")
        await page.evaluate(
            """(token) => {
                localStorage.setItem("graphiql:headers", JSON.stringify({Authorization: "Bearer " + token}));
                localStorage.setItem("graphiql:theme", "dark");
            }""",
            token,
        )
        await page.reload()
        await page.locator(".graphiql-query-editor .CodeMirror").get_by_text("Welcome to GraphiQL").wait_for()

        await page.evaluate(TYPE_INTO, [".graphiql-query-editor .CodeMirror", CHANGE])
        await page.get_by_role("button", name="Headers").click()
        await page.locator('section[aria-label="Headers"]').wait_for()
        headers = json.dumps({"Authorization": f"Bearer {token}"})
        await page.evaluate(TYPE_INTO, [".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror", headers])
        await page.locator(".graphiql-execute-button").click()
        await page.locator(".result-window").get_by_text('"username": "ada"').wait_for()
        await page.wait_for_timeout(1000)  # GraphiQL stores its tabs after a 500 ms debounce

        addresses = [page.url, await page.evaluate("location.href")]
        cdp = await context.new_cdp_session(page)
        history = (await cdp.send("Page.getNavigationHistory"))["entries"]
        addresses += [entry["url"] for entry in history if entry["url"] != "about:blank"]  # the tab's first
        stored = await page.evaluate(STORED)

        await page.reload()
        await page.locator(".graphiql-query-editor .CodeMirror").get_by_text("Welcome to GraphiQL").wait_for()
        after_reload = await page.evaluate(EDITORS)
        await browser.close()
        assert await api.authenticate("ada", NEW_PASSWORD)  # the operation did run

    assert set(addresses) == {f"{origin}/graphql"}
    assert stored == {"graphiql:theme": "dark"}  # only how it looks, and the old headers gone
    assert "Welcome to GraphiQL" in after_reload
    for secret in (OLD_PASSWORD, NEW_PASSWORD, token):
        assert secret not in after_reload  # nothing was restored from anywhere
