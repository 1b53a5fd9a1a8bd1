"""The example pages of `examples/` (for frontend developers to copy), served by a
development server run from a checkout, at `/examples/<name>/`: the passkey ceremonies
need a page on an origin of WEBAUTHN_ORIGINS, and this server's own is one. Never in
production, nor from an installed package (which has no `examples/`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from app.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PAGES = {"passkeys": ("index.html", "passkeys.js")}
"""Each example served, and its files (the first is its page)."""

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)
HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}


def _served(path: Path) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        return FileResponse(path, media_type=TYPES[path.suffix], headers=HEADERS)

    return serve


def _to_page(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def redirect(request: Request) -> Response:
        return RedirectResponse(f"/examples/{name}/", status_code=308)

    return redirect


def example_routes(settings: Settings) -> list[Route]:
    """The examples' routes, for a development server with the examples beside it; else none."""
    if settings.production or not EXAMPLES.is_dir():
        return []
    routes: list[Route] = []
    for name, (page, *assets) in PAGES.items():
        folder = EXAMPLES / name
        routes += [
            Route(f"/examples/{name}", _to_page(name)),
            Route(f"/examples/{name}/", _served(folder / page)),
            *(Route(f"/examples/{name}/{asset}", _served(folder / asset)) for asset in assets),
        ]
    return routes
