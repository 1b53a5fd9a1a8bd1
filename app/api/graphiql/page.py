"""The GraphiQL page: every script and style from this server, none inline, so the
Content-Security-Policy can allow this origin alone."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from starlette.responses import HTMLResponse

from .static import assets

TEMPLATE = Path(__file__).resolve().parent / "page.html"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",  # GraphiQL's stylesheet embeds its fonts as data: URLs
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@functools.cache
def html() -> str:
    """page.html with each `{{file}}` replaced by that file's content-addressed URL."""
    return re.sub(r"\{\{([^}]+)\}\}", lambda match: assets()[match[1]].url, TEMPLATE.read_text())


def page() -> HTMLResponse:
    return HTMLResponse(html(), headers=HEADERS)
