"""Passkeys in a real browser: Debian's Chromium with a virtual authenticator (the
DevTools protocol's WebAuthn domain, through Playwright's CDP session) runs a page
served on localhost that registers a passkey and signs in with it, with a username and
without one, as a frontend does: `PublicKeyCredential.parse*OptionsFromJSON`,
`navigator.credentials.create()` / `.get()`, `credential.toJSON()`. The server side is
the Passkeys concept, called by a test-only app that keeps each challenge under a
single-use ticket."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import CDPSession, ConsoleMessage, Page, Route, async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route as Endpoint

from app.concepts.passkeys import Passkeys, RelyingParty

from ..browser import CHROMIUM, CHROMIUM_ARGS, HANG, needs_chromium, serving

pytestmark = needs_chromium

ADA = "6b0000000000000000000001"

AUTHENTICATORS = {
    "platform": {"transport": "internal", "ctap2Version": "ctap2_1"},
    "synced platform": {
        "transport": "internal",
        "ctap2Version": "ctap2_1",
        "defaultBackupEligibility": True,
        "defaultBackupState": True,
    },
    "USB security key": {"transport": "usb", "ctap2Version": "ctap2_0"},
}
"""The virtual authenticators the ceremonies run with: each keeps discoverable
credentials and verifies its user (a biometric or a PIN), as passkeys need."""

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>Passkeys</title>
<script>
async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  return response.json();
}

async function registerPasskey(user, username) {
  const {optionsJson, ticket} = await post("/registration/options", {user, username});
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(optionsJson));
  const credential = await navigator.credentials.create({publicKey});
  const credentialJson = JSON.stringify(credential.toJSON());
  return post("/registration", {ticket, credentialJson, name: "This browser"});
}

async function signIn(user) {
  const {optionsJson, ticket} = await post("/sign-in/options", {user});
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(optionsJson));
  const credential = await navigator.credentials.get({publicKey});
  return post("/sign-in", {ticket, credentialJson: JSON.stringify(credential.toJSON())});
}

async function refusal(ceremony) {
  try { await ceremony(); return null; } catch (error) { return error.name; }
}
</script>
<p>Passkeys</p>
"""


def ceremony_app() -> Starlette:
    """The page, and each ceremony's two steps: the options (their challenge kept under a
    ticket) and the answer (verified against the ticket's challenge, once). The concept is
    `app.state.passkeys`, set once the origin is known."""
    tickets: dict[str, dict[str, Any]] = {}

    def passkeys(request: Request) -> Passkeys:
        return request.app.state.passkeys  # type: ignore[no-any-return]

    def issue(options: Any, user: str | None) -> Response:
        ticket = secrets.token_urlsafe(16)
        tickets[ticket] = {"challenge": options["challenge"], "user": user}
        return JSONResponse({"optionsJson": options["optionsJson"], "ticket": ticket})

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def registration_options(request: Request) -> Response:
        body = await request.json()
        return issue(
            await passkeys(request).registrationOptions(user=body["user"], username=body["username"]), body["user"]
        )

    async def registration(request: Request) -> Response:
        body = await request.json()
        kept = tickets.pop(body["ticket"])
        added: dict[str, Any] = dict(
            await passkeys(request).register(
                user=kept["user"], challenge=kept["challenge"], credentialJson=body["credentialJson"], name=body["name"]
            )
        )
        return JSONResponse({key: str(value) for key, value in added.items()})

    async def sign_in_options(request: Request) -> Response:
        user = (await request.json())["user"]
        return issue(await passkeys(request).authenticationOptions(user=user), user)

    async def sign_in(request: Request) -> Response:
        body = await request.json()
        kept = tickets.pop(body["ticket"])
        signed_in = await passkeys(request).authenticate(
            challenge=kept["challenge"], credentialJson=body["credentialJson"], user=kept["user"]
        )
        return JSONResponse(signed_in)

    return Starlette(
        routes=[
            Endpoint("/", page),
            Endpoint("/registration/options", registration_options, methods=["POST"]),
            Endpoint("/registration", registration, methods=["POST"]),
            Endpoint("/sign-in/options", sign_in_options, methods=["POST"]),
            Endpoint("/sign-in", sign_in, methods=["POST"]),
        ]
    )


@dataclass
class Browser:
    page: Page
    authenticator: CDPSession
    authenticator_id: str
    origin: str
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def credentials(self) -> list[dict[str, Any]]:
        """What the virtual authenticator holds (its own view, not the page's)."""
        held = await self.authenticator.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        return held["credentials"]  # type: ignore[no-any-return]


@asynccontextmanager
async def chromium(origin: str, authenticator: dict[str, Any]) -> AsyncIterator[Browser]:
    """Chromium with one virtual authenticator, allowed to reach the app only (`origin`,
    and its 127.0.0.1 form): nothing else, so the ceremony is proven offline."""
    reachable = (origin + "/", origin.replace("localhost", "127.0.0.1") + "/")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            context.set_default_timeout(HANG)
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("WebAuthn.enable")
            options = {
                "protocol": "ctap2",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
                **authenticator,
            }
            added = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
            seen = Browser(page, cdp, added["authenticatorId"], origin)

            async def only_the_app(route: Route) -> None:
                if route.request.url.startswith(reachable):
                    await route.continue_()
                else:
                    seen.refused.append(route.request.url)
                    await route.abort()

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    seen.errors.append(message.text)

            await context.route("**/*", only_the_app)
            page.on("console", on_console)
            page.on("pageerror", lambda error: seen.errors.append(str(error)))
            yield seen
        finally:
            await browser.close()


def standard_b64_to_url(text: str) -> str:
    """The DevTools protocol gives bytes in standard base64; WebAuthn's JSON in base64url."""
    return base64.urlsafe_b64encode(base64.b64decode(text)).rstrip(b"=").decode()


@pytest.mark.parametrize("authenticator", AUTHENTICATORS.values(), ids=AUTHENTICATORS.keys())
async def test_a_passkey_registers_then_signs_in_with_and_without_a_username(
    database: Any, authenticator: dict[str, Any]
) -> None:
    app = ceremony_app()
    async with serving(app, host="localhost") as origin, chromium(origin, authenticator) as browser:
        app.state.passkeys = Passkeys(RelyingParty("localhost", "concept-auth", (origin,)))
        await browser.page.goto(origin + "/")

        added = await browser.page.evaluate("([user, name]) => registerPasskey(user, name)", [ADA, "ada"])
        excluded = await browser.page.evaluate("([u, n]) => refusal(() => registerPasskey(u, n))", [ADA, "ada"])
        with_username = await browser.page.evaluate("(user) => signIn(user)", ADA)
        discoverable = await browser.page.evaluate("() => signIn(null)")
        [held] = await browser.credentials()

    assert added["user"] == ADA and added["name"] == "This browser", added
    assert excluded == "InvalidStateError"  # the authenticator holds one of ada's already
    assert with_username == discoverable == {"user": ADA, "passkey": added["id"]}
    [stored] = await database["Passkeys.credentials"].find().to_list()
    assert held["isResidentCredential"] is True and held["rpId"] == "localhost"
    assert standard_b64_to_url(held["credentialId"]) == stored["_id"]
    assert standard_b64_to_url(held["userHandle"]) == stored["user_handle"]
    assert held["signCount"] == stored["sign_count"]
    assert stored["backed_up"] is stored["backup_eligible"] is bool(authenticator.get("defaultBackupState"))
    assert stored["last_used"] is not None
    assert browser.errors == [] and browser.refused == []


async def test_a_page_on_127_0_0_1_cannot_use_passkeys_for_localhost(database: Any) -> None:
    """Why the development origin is http://localhost:<PORT>: an RP ID is a domain, and
    the browser refuses a ceremony whose page is not on it."""
    app = ceremony_app()
    async with serving(app, host="localhost") as origin, chromium(origin, AUTHENTICATORS["platform"]) as browser:
        app.state.passkeys = Passkeys(RelyingParty("localhost", "concept-auth", (origin,)))
        await browser.page.goto(origin.replace("localhost", "127.0.0.1") + "/")

        refused = await browser.page.evaluate("([u, n]) => refusal(() => registerPasskey(u, n))", [ADA, "ada"])
        held = await browser.credentials()

    assert refused == "SecurityError"
    assert held == [] and await database["Passkeys.credentials"].count_documents({}) == 0
