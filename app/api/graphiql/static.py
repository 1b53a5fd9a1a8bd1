"""GraphiQL's browser files, each at a URL named by its content (`/graphiql/<digest>/<name>`),
so a browser may cache it forever: a changed file gets a new URL."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
VENDORED = HERE / "assets"
OWN = (HERE / "page.js", HERE / "page.css")
PREFIX = "/graphiql"
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    media_type: str
    digest: str

    @property
    def url(self) -> str:
        return f"{PREFIX}/{self.digest}/{self.name}"


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    return Asset(path.name, body, MEDIA_TYPES[path.suffix], hashlib.sha256(body).hexdigest()[:16])


@functools.cache
def assets() -> dict[str, Asset]:
    """Read on first use, so a server that never shows GraphiQL never holds its 4 MB."""
    return {asset.name: asset for asset in map(_asset, [*sorted(VENDORED.iterdir()), *OWN])}


async def serve(request: Request) -> Response:
    asset = assets().get(request.path_params["name"])
    if asset is None or asset.digest != request.path_params["digest"]:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(asset.body, media_type=asset.media_type, headers={"Cache-Control": IMMUTABLE})


routes = [Route(PREFIX + "/{digest}/{name}", serve, methods=["GET"])]
