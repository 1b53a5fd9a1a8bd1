"""The recent flows, for people debugging (only with DEBUG_FLOWS): what each request did.

`GET /flows` lists the engine's recent flows; `GET /flows/<id>` shows one as a causal
tree (which sync fired which action), as JSON, or as a small page for a browser.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from app.engine import Engine, Flow, flow_tree
from app.engine.codes import NOT_FOUND


def _summary(flow: Flow) -> dict[str, Any]:
    root = flow.records[0] if flow.records else None
    response = next((r.input for r in reversed(flow.records) if r.action.qualname == "Requesting.respond"), None)
    if flow.error is not None:
        status = "FAILED"
    elif response is None:
        status = "NO_RESPONSE"
    else:
        status = str(response.get("code", "OK")) if "error" in response else "OK"
    return {
        "id": flow.id,
        "path": root.input.get("path") if root else None,
        "status": status,
        "time": datetime.fromtimestamp(flow.started, UTC).isoformat(),
        "ms": round(flow.ms, 3),
        "actions": len(flow.records),
    }


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def list_flows(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    flows = [_summary(flow) for flow in reversed(engine.recent)]
    if not _wants_html(request):
        return JSONResponse({"flows": flows})
    rows = "".join(
        f'<tr><td><a href="/flows/{f["id"]}">{f["id"]}</a></td><td>{html.escape(str(f["path"]))}</td>'
        f"<td>{f['status']}</td><td>{f['time']}</td><td>{f['ms']}</td></tr>"
        for f in flows
    )
    table = f"<table><tr><th>flow</th><th>path</th><th>status</th><th>time</th><th>ms</th></tr>{rows}</table>"
    return HTMLResponse(_page("Recent flows", table))


async def show_flow(request: Request) -> Response:
    engine: Engine = request.app.state.engine
    flow = engine.find_flow(request.path_params["id"])
    if flow is None:
        return JSONResponse({"error": "No such flow (only recent flows are kept).", "code": NOT_FOUND}, 404)
    tree = flow_tree(flow, engine.secrets)
    if not _wants_html(request):
        return JSONResponse({**_summary(flow), "tree": tree})
    return HTMLResponse(_page(f"Flow {flow.id}", f"<ul>{''.join(_html_node(node) for node in tree)}</ul>"))


def _html_node(node: dict[str, Any]) -> str:
    by = f' <span class="sync">&larr; {html.escape(node["sync"])}</span>' if node["sync"] else ""
    io = html.escape(f"{json.dumps(node['input'], default=str)} => {json.dumps(node['output'], default=str)}")
    children = "".join(_html_node(child) for child in node["then"])
    return f"<li><b>{html.escape(node['action'])}</b>{by} <code>{io}</code> {node['ms']} ms<ul>{children}</ul></li>"


def _page(title: str, body: str) -> str:
    style = "body{font-family:sans-serif}code{color:#555}.sync{color:#06c}td,th{padding:0 .6em;text-align:left}"
    return (
        f"<!doctype html><title>{html.escape(title)}</title><style>{style}</style><h1>{html.escape(title)}</h1>{body}"
    )


routes = [Route("/flows", list_flows), Route("/flows/{id}", show_flow)]
