"""The recent flows, for people debugging (only with DEBUG_FLOWS): what each request did.

`GET /flows` lists the engine's recent flows; `GET /flows/<id>` shows one as a causal
tree (which sync fired which action), as JSON, or as a small page for a browser.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from app.concepts.outputs import error
from app.engine import Engine
from app.protocol.codes import NOT_FOUND
from app.views.flows import flow_page, flow_tree, flows_page, summary


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def flow_routes(engine: Engine) -> list[Route]:
    """`GET /flows` and `GET /flows/<id>`, over `engine`'s recent flows."""

    async def flows(request: Request) -> Response:
        return list_flows(engine, request)

    async def flow(request: Request) -> Response:
        return show_flow(engine, request)

    return [Route("/flows", flows), Route("/flows/{id}", flow)]


def list_flows(engine: Engine, request: Request) -> Response:
    flows = [summary(flow) for flow in reversed(engine.recent)]
    if not _wants_html(request):
        return JSONResponse({"flows": flows})
    return HTMLResponse(flows_page(flows))


def show_flow(engine: Engine, request: Request) -> Response:
    flow = engine.find_flow(request.path_params["id"])
    if flow is None:
        return JSONResponse(error(NOT_FOUND, "No such flow (only recent flows are kept)."), 404)
    tree = flow_tree(flow, engine.secrets)
    if not _wants_html(request):
        return JSONResponse({**summary(flow), "tree": tree})
    return HTMLResponse(flow_page(flow.id, tree))
