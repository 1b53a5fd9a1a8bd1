"""Logging: human-readable lines, or with LOG_FORMAT=json one JSON object per line
(time, level, logger, message, and the flow id where there is one) for log pipelines."""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

current_flow: ContextVar[str | None] = ContextVar("current_flow", default=None)
"""The flow the running code belongs to; tasks started within a flow inherit it."""

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EXTRAS = ("method", "path", "operation", "status", "ms")
"""Fields a log call may pass in `extra` (the access log does) that become JSON keys."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""C0 and C1 control characters (CR, LF, ESC, ...) and Unicode's line separators."""


def escape_controls(text: str) -> str:
    """`text` with every control character written as an escape (`\\r`, `\\n`, `\\x1b`, ...),
    so it stays on its line and a terminal shows it instead of obeying it."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class TextFormatter(logging.Formatter):
    """One line per record, whatever a client sent: the message (with its arguments, where
    paths and names from clients end up) has its control characters escaped, so no
    request can forge a line or colour a terminal. A traceback keeps its lines, indented,
    with its other control characters escaped: every line that starts a record is one
    the server wrote."""

    def __init__(self) -> None:
        super().__init__(TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return self._indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return self._indented(super().formatStack(stack_info))

    @staticmethod
    def _indented(text: str) -> str:
        return "\n".join("    " + escape_controls(line) for line in text.split("\n"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which worker wrote it, with WORKERS above 1
        }
        flow = getattr(record, "flow", None) or current_flow.get()
        if flow:
            entry["flow"] = flow
        for key in EXTRAS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    """Log to stderr at `level`, unless the host process already configured logging."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler])
    # At DEBUG pymongo logs every command and reply whole: password hashes, session ids.
    # Beanie's likewise logs documents. So neither goes below INFO, whatever LOG_LEVEL.
    for noisy in ("pymongo", "beanie"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
