"""Flows as people read them: each action with its input and output (secrets as `***`),
the sync that fired it and its time; as a list, a causal tree, a summary, or a page."""

from __future__ import annotations

import html
import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from app.engine import ActionRecord, Flow, redact
from app.protocol.codes import failure


def describe_record(record: ActionRecord, secrets: Collection[str]) -> dict[str, Any]:
    """A record as JSON-ready data (dates and other values as text), secrets as `***`."""
    described = {
        "action": record.action.qualname,
        "input": redact(record.input, secrets),
        "output": redact(record.output, secrets),
        "sync": record.sync,
        "ms": round(record.ms, 3),
    }
    return json.loads(json.dumps(described, default=str))  # type: ignore[no-any-return]


def describe_flow(flow: Flow, secrets: Collection[str]) -> dict[str, Any]:
    """A flow as data for people: its actions in order, secrets as `***`."""
    return {"id": flow.id, "actions": [describe_record(record, secrets) for record in flow.records]}


def flow_tree(flow: Flow, secrets: Collection[str]) -> list[dict[str, Any]]:
    """The flow as a causal tree: each action under the one whose completion fired it."""
    children: dict[int | None, list[ActionRecord]] = {}
    for record in flow.records:
        children.setdefault(record.cause, []).append(record)

    def node(record: ActionRecord) -> dict[str, Any]:
        return {**describe_record(record, secrets), "then": [node(child) for child in children.get(record.seq, [])]}

    return [node(root) for root in children.get(None, [])]


def summary(flow: Flow) -> dict[str, Any]:
    root = flow.records[0] if flow.records else None
    response = next((r.input for r in reversed(flow.records) if r.action.qualname == "Requesting.respond"), None)
    if response is None:  # refused at the request gate: its decision was the answer
        response = next((r.output for r in flow.records if r.sync is None and failure(r.output or {})), None)
    if flow.error is not None:
        status = "FAILED"
    elif response is None:
        status = "NO_RESPONSE"
    else:
        status = failure(response) or "OK"
    return {
        "id": flow.id,
        "path": root.input.get("path") if root else None,
        "status": status,
        "time": datetime.fromtimestamp(flow.started, UTC).isoformat(),
        "ms": round(flow.ms, 3),
        "actions": len(flow.records),
    }


def html_node(node: dict[str, Any]) -> str:
    by = f' <span class="sync">&larr; {html.escape(node["sync"])}</span>' if node["sync"] else ""
    io = html.escape(f"{json.dumps(node['input'], default=str)} => {json.dumps(node['output'], default=str)}")
    children = "".join(html_node(child) for child in node["then"])
    return f"<li><b>{html.escape(node['action'])}</b>{by} <code>{io}</code> {node['ms']} ms<ul>{children}</ul></li>"


def page(title: str, body: str) -> str:
    style = "body{font-family:sans-serif}code{color:#555}.sync{color:#06c}td,th{padding:0 .6em;text-align:left}"
    return (
        f"<!doctype html><title>{html.escape(title)}</title><style>{style}</style><h1>{html.escape(title)}</h1>{body}"
    )


def flows_page(flows: list[dict[str, Any]]) -> str:
    """The recent flows (their summaries) as a page, each linked to its own."""
    rows = "".join(
        f'<tr><td><a href="/flows/{f["id"]}">{f["id"]}</a></td><td>{html.escape(str(f["path"]))}</td>'
        f"<td>{f['status']}</td><td>{f['time']}</td><td>{f['ms']}</td></tr>"
        for f in flows
    )
    table = f"<table><tr><th>flow</th><th>path</th><th>status</th><th>time</th><th>ms</th></tr>{rows}</table>"
    return page("Recent flows", table)


def flow_page(flow_id: str, tree: list[dict[str, Any]]) -> str:
    """One flow's causal tree as a page."""
    return page(f"Flow {flow_id}", f"<ul>{''.join(html_node(node) for node in tree)}</ul>")
