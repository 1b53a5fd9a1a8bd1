"""Passkeys in a real browser, through the real API: Debian's Chromium with a virtual
authenticator (the DevTools protocol's WebAuthn domain, through Playwright's CDP
session) uses the example page a frontend developer copies (examples/passkeys/, which
the development server serves on its own origin) to register, add a passkey and sign in
with it, with a username and without one, by GraphQL:
`PublicKeyCredential.parse*OptionsFromJSON`, `navigator.credentials.create()` /
`.get()`, `credential.toJSON()`, and the page's fallbacks for browsers without those."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import CDPSession, ConsoleMessage, Page, Route, async_playwright, expect

from ..browser import CHROMIUM, CHROMIUM_ARGS, HANG, loopback, needs_chromium, serving
from .helpers import SESSIONS, Api, StartApi

pytestmark = needs_chromium

PASSWORD = "correct horse"

AUTHENTICATORS = {
    "platform": {"transport": "internal", "ctap2Version": "ctap2_1"},
    "synced platform": {
        "transport": "internal",
        "ctap2Version": "ctap2_1",
        "defaultBackupEligibility": True,
        "defaultBackupState": True,
    },
    "USB security key": {"transport": "usb", "ctap2Version": "ctap2_0"},
    "NFC security key": {"transport": "nfc", "ctap2Version": "ctap2_1"},
}
"""The virtual authenticators the ceremonies run with: each keeps discoverable
credentials and verifies its user (a biometric or a PIN), as passkeys need."""

WITHOUT_JSON_METHODS = """
delete PublicKeyCredential.parseCreationOptionsFromJSON;
delete PublicKeyCredential.parseRequestOptionsFromJSON;
delete PublicKeyCredential.prototype.toJSON;
"""
"""A browser from before WebAuthn's JSON methods (Safari before 18.4, say)."""


@dataclass
class Browser:
    page: Page
    authenticator: CDPSession
    authenticator_id: str
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def credentials(self) -> list[dict[str, Any]]:
        """What the virtual authenticator holds (its own view, not the page's)."""
        held = await self.authenticator.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        return held["credentials"]  # type: ignore[no-any-return]

    async def submit(self, form: str, button: str | None = None, **fields: str) -> str:
        """Fill the page's form, press its button, and read the status line it leaves."""
        found = self.page.locator(f"#{form}")
        for name, value in fields.items():
            await found.locator(f'[name="{name}"]').fill(value)
        await self.page.evaluate('document.getElementById("status").textContent = "..."')
        await found.locator(f'button[name="{button}"]' if button else "button").first.click()
        return await self.status()

    async def sign_out(self) -> str:
        await self.page.evaluate('document.getElementById("status").textContent = "..."')
        await self.page.locator("#sign-out").click()
        return await self.status()

    async def status(self) -> str:
        status = self.page.locator("#status")
        await expect(status).not_to_have_text("...", timeout=HANG)
        return await status.inner_text()

    async def listed(self) -> list[str]:
        return await self.page.locator("#passkeys li").all_inner_texts()


@asynccontextmanager
async def chromium(
    origin: str, authenticator: dict[str, Any], init_script: str | None = None
) -> AsyncIterator[Browser]:
    """Chromium with one virtual authenticator, allowed to reach the app only (`origin`,
    and its 127.0.0.1 form): nothing else, so the ceremony is proven offline."""
    reachable = (origin + "/", origin.replace("localhost", "127.0.0.1") + "/")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context()
            context.set_default_timeout(HANG)
            if init_script is not None:
                await context.add_init_script(init_script)
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
            seen = Browser(page, cdp, added["authenticatorId"])

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


@asynccontextmanager
async def example_page(
    start_api: StartApi, authenticator: dict[str, Any], *, at: str = "localhost", init_script: str | None = None
) -> AsyncIterator[tuple[Api, Browser]]:
    """The app as `python -m app` runs it in development, on a free port (PORT, so its
    default WEBAUTHN_ORIGINS is http://localhost:<that port>), and Chromium on the example
    page, opened at `at`."""
    listener = loopback()
    async with (
        start_api(port=listener.getsockname()[1]) as api,
        serving(api.app, "localhost", listener) as origin,
        chromium(origin, authenticator, init_script) as browser,
    ):
        await browser.page.goto(origin.replace("localhost", at) + "/examples/passkeys/")
        yield api, browser


def standard_b64_to_url(text: str) -> str:
    """The DevTools protocol gives bytes in standard base64; WebAuthn's JSON in base64url."""
    return base64.urlsafe_b64encode(base64.b64decode(text)).rstrip(b"=").decode()


@pytest.mark.parametrize("authenticator", AUTHENTICATORS.values(), ids=AUTHENTICATORS.keys())
async def test_a_passkey_is_added_then_signs_in_with_and_without_a_username(
    start_api: StartApi, authenticator: dict[str, Any]
) -> None:
    async with example_page(start_api, authenticator) as (api, browser):
        registered = await browser.submit("password-form", "register", username="ada", password=PASSWORD)
        added = await browser.submit("add-form", password=PASSWORD, name="This browser")
        listed = await browser.listed()
        excluded = await browser.submit("add-form", password=PASSWORD, name="Again")
        signed_out = await browser.sign_out()
        with_username = await browser.submit("passkey-form", username="ada")
        await browser.sign_out()
        discoverable = await browser.submit("passkey-form", username="")
        listed_after = await browser.listed()
        [held] = await browser.credentials()
        database = api.mongo[api.db_name]
        [stored] = await database["Passkeys.credentials"].find().to_list()
        [user] = await database["UserAuthentication.users"].find().to_list()
        sessions = await api.count(SESSIONS, {"user": str(user["_id"])})

    assert registered == "Signed in as ada (password)."
    assert added == "Added passkey This browser."
    assert len(listed) == 1 and listed[0].startswith("This browser (added ") and "last used never" in listed[0]
    assert excluded.startswith("InvalidStateError: ")  # the authenticator holds a passkey of ada's already
    assert signed_out == "Signed out."
    assert with_username == discoverable == "Signed in as ada (passkey)."
    assert "last used never" not in listed_after[0]
    assert sessions == 1  # the discoverable sign-in's; the others signed out
    assert held["isResidentCredential"] is True and held["rpId"] == "localhost"
    assert standard_b64_to_url(held["credentialId"]) == stored["_id"]
    assert standard_b64_to_url(held["userHandle"]) == stored["user_handle"]
    assert held["signCount"] == stored["sign_count"]
    assert stored["user"] == str(user["_id"]) and stored["name"] == "This browser"
    assert stored["backed_up"] is stored["backup_eligible"] is bool(authenticator.get("defaultBackupState"))
    assert browser.errors == [] and browser.refused == []


async def test_the_page_works_in_a_browser_without_webauthns_json_methods(start_api: StartApi) -> None:
    async with example_page(start_api, AUTHENTICATORS["platform"], init_script=WITHOUT_JSON_METHODS) as (_, browser):
        lacking = await browser.page.evaluate("typeof PublicKeyCredential.parseCreationOptionsFromJSON")
        await browser.submit("password-form", "register", username="ada", password=PASSWORD)
        added = await browser.submit("add-form", password=PASSWORD)
        await browser.sign_out()
        with_username = await browser.submit("passkey-form", username="ada")
        await browser.sign_out()
        discoverable = await browser.submit("passkey-form", username="")

    assert lacking == "undefined"
    assert added == "Added passkey Passkey."
    assert with_username == discoverable == "Signed in as ada (passkey)."
    assert browser.errors == []


async def test_the_page_shows_the_apis_refusals(start_api: StartApi) -> None:
    async with example_page(start_api, AUTHENTICATORS["platform"]) as (api, browser):
        await browser.submit("password-form", "register", username="ada", password=PASSWORD)
        wrong_password = await browser.submit("add-form", password="not the password")
        await browser.sign_out()
        no_passkey = await browser.submit("passkey-form", username="ada")
        stored = await api.count("Passkeys.credentials")

    assert wrong_password == "INVALID_CREDENTIALS: The password is not correct."
    # No passkey of this site on the authenticator: the browser says so, nothing is sent.
    assert no_passkey.startswith("NotAllowedError: ")
    assert stored == 0


async def test_a_page_on_127_0_0_1_cannot_use_passkeys_for_localhost(start_api: StartApi) -> None:
    """Why the development server is announced, and its passkeys offered, at localhost: an
    RP ID is a domain, and the browser refuses a ceremony whose page is not on it."""
    async with example_page(start_api, AUTHENTICATORS["platform"], at="127.0.0.1") as (api, browser):
        await browser.submit("password-form", "register", username="ada", password=PASSWORD)
        refused = await browser.submit("add-form", password=PASSWORD)
        held = await browser.credentials()
        stored = await api.count("Passkeys.credentials")

    assert refused.startswith("SecurityError: ")
    assert held == [] and stored == 0


async def test_a_security_key_without_user_verification_gets_no_passkey(start_api: StartApi) -> None:
    """A passkey is discoverable (a resident key is required), and the browser makes one
    on a security key only behind its PIN (or biometric): a key without one gets none.
    (A sign-in requires user verification too; the software authenticator's tests show
    the server refusing an answer without it.)"""
    no_pin = {"transport": "usb", "ctap2Version": "ctap2_1", "hasUserVerification": False, "isUserVerified": False}
    async with example_page(start_api, no_pin) as (api, browser):
        await browser.submit("password-form", "register", username="ada", password=PASSWORD)
        refused = await browser.submit("add-form", password=PASSWORD)
        held = await browser.credentials()
        stored = await api.count("Passkeys.credentials")

    assert refused.startswith("NotAllowedError: ")
    assert held == [] and stored == 0
