"""Trace lines for actions and frames, with secrets always shown as `***`."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from enum import StrEnum
from typing import Any

from .records import ActionRecord, Flow

logger = logging.getLogger("app.engine")

REDACTED = "***"


class Trace(StrEnum):
    """How much the engine logs (at DEBUG): nothing, or one line per action."""

    OFF = "off"
    TRACE = "trace"


def redact(value: Any, secrets: Collection[str]) -> Any:
    """A copy of `value` with every secret-named key's value replaced by `***`."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in secrets and v is not None else redact(v, secrets)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value


def format_record(record: ActionRecord, flow: Flow, secrets: Collection[str]) -> str:
    by = f" <- {record.sync}" if record.sync else ""
    return (
        f"{record.action.qualname} {redact(record.input, secrets)} => "
        f"{redact(record.output, secrets)} [flow {flow.id}]{by}"
    )


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
