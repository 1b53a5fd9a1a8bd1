"""The example pages of examples/, served by a development server on its own origin
(where the passkey ceremonies work), under a Content-Security-Policy; never in production."""

from __future__ import annotations

from .helpers import StartApi

PRODUCTION = {
    "production": True,
    "webauthn_rp_id": "auth.example",
    "webauthn_rp_name": "Example",
    "webauthn_origins": ["https://auth.example"],
}


async def test_a_development_server_serves_the_passkeys_example(start_api: StartApi) -> None:
    async with start_api() as api:
        page = await api.http.get("/examples/passkeys/")
        script = await api.http.get("/examples/passkeys/passkeys.js")
        bare = await api.http.get("/examples/passkeys")

    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script src="passkeys.js" defer></script>' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert script.status_code == 200 and script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "navigator.credentials.get" in script.text
    assert (bare.status_code, bare.headers["location"]) == (308, "/examples/passkeys/")


async def test_production_serves_no_example(start_api: StartApi) -> None:
    async with start_api(**PRODUCTION) as api:
        for path in ("/examples/passkeys/", "/examples/passkeys/passkeys.js", "/examples/passkeys"):
            assert (await api.http.get(path)).status_code == 404
