"""What one HTTP request did, for the middleware that reports on it once it is answered
(the access log, the traces): the flows it ran and the GraphQL operation's name. The
API layers fill it in; it lives in the request's ASGI scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.types import Scope

from app.engine import Flow


@dataclass
class Exchange:
    flows: list[Flow] = field(default_factory=list)
    operation: str | None = None
    """The GraphQL operation's name, as the client chose it (cut to MAX_LOGGED_NAME)."""


_KEY = "app.exchange"


def exchange(scope: Scope) -> Exchange:
    """The record of the request `scope` belongs to (made on first use)."""
    state: dict[str, Any] = scope.setdefault("state", {})
    found = state.get(_KEY)
    if not isinstance(found, Exchange):
        found = state[_KEY] = Exchange()
    return found
