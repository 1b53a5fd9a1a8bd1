"""concept Requesting

purpose: turn an API call into an action that syncs can respond to.
state: the pending requests of this process, each with a path, its inputs and, once
some sync responds, its response.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass
from typing import Any, TypedDict

logger = logging.getLogger(__name__)


class RequestOut(TypedDict):
    request: str


class ResponseRow(TypedDict):
    response: dict[str, Any]


@dataclass(slots=True)
class Pending:
    path: str
    inputs: dict[str, Any]
    response: dict[str, Any] | None = None


class SecondResponse(RuntimeError):
    """A request was answered twice: two syncs responded to one outcome (a bug)."""


class Requesting:
    """The API's entry point as a concept: `request` starts a flow, `respond` answers it.

    A request is answered once. `strict` makes a second response fail its flow (in
    development and tests, so the bug shows); otherwise it is logged and ignored."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self._pending: dict[str, Pending] = {}
        self._ids = itertools.count()
        self._prefix = os.urandom(4).hex()

    async def request(self, path: str, **inputs: Any) -> RequestOut:
        """effects: a new pending request for `path` with these inputs."""
        request = f"{self._prefix}-{next(self._ids)}"
        self._pending[request] = Pending(path, inputs)
        return {"request": request}

    async def respond(self, request: str, **response: Any) -> RequestOut:
        """requires: the request is pending and unanswered.  effects: records the response."""
        pending = self._pending.get(request)
        if pending is None:
            logger.warning("response to unknown request %s ignored (keys: %s)", request, sorted(response))
        elif pending.response is None:
            pending.response = response
        elif self.strict:
            raise SecondResponse(f"second response to request {request} (keys: {', '.join(sorted(response))})")
        else:
            logger.error("second response to request %s ignored (keys: %s)", request, sorted(response))
        return {"request": request}

    def _awaitResponse(self, request: str) -> list[ResponseRow]:
        pending = self._pending.get(request)
        return [{"response": pending.response}] if pending and pending.response is not None else []

    def forget(self, request: str) -> Pending | None:
        """Drop a request once answered, so memory does not grow with requests served."""
        return self._pending.pop(request, None)
