"""Trace lines for actions and frames, with secrets always shown as `***`."""

from __future__ import annotations

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
