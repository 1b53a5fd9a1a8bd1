"""The recent flows, for people debugging (only with DEBUG_FLOWS): what each request did.

`GET /flows` lists the engine's recent flows; `GET /flows/<id>` shows one as a causal
tree (which sync fired which action), as JSON, or as a small page for a browser.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from app.engine import Engine
from app.protocol.codes import NOT_FOUND
from app.views.flows import flow_tree, html_node, page, summary


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def list_flows(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    flows = [summary(flow) for flow in reversed(engine.recent)]
    if not _wants_html(request):
        return JSONResponse({"flows": flows})
    rows = "".join(
        f'<tr><td><a href="/flows/{f["id"]}">{f["id"]}</a></td><td>{html.escape(str(f["path"]))}</td>'
        f"<td>{f['status']}</td><td>{f['time']}</td><td>{f['ms']}</td></tr>"
        for f in flows
    )
    table = f"<table><tr><th>flow</th><th>path</th><th>status</th><th>time</th><th>ms</th></tr>{rows}</table>"
    return HTMLResponse(page("Recent flows", table))


async def show_flow(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    flow = engine.find_flow(request.path_params["id"])
    if flow is None:
        return JSONResponse({"error": "No such flow (only recent flows are kept).", "code": NOT_FOUND}, 404)
    tree = flow_tree(flow, engine.secrets)
    if not _wants_html(request):
        return JSONResponse({**summary(flow), "tree": tree})
    return HTMLResponse(page(f"Flow {flow.id}", f"<ul>{''.join(html_node(node) for node in tree)}</ul>"))


routes = [Route("/flows", list_flows), Route("/flows/{id}", show_flow)]
