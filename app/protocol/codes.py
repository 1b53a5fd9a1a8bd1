"""Error codes: every `code` a response can carry, declared once, here or by the layer
that owns it (a concept declares its domain codes). The API layers read this registry:
REST statuses, GraphQL's `ErrorCode` enum and which failures are request-level.

A domain code is the answer to the operation (a taken username): data, a `UserError`
in GraphQL. A request-level code is a failure of the request itself (no session): a
GraphQL error with `extensions.code`. Either has the REST status it is declared with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NewType

Code = NewType("Code", str)
"""A declared error code (declare one with `declare`)."""


@dataclass(frozen=True)
class Declared:
    code: Code
    status: int
    request_level: bool
    description: str
    """When a client gets it, for people: GraphQL's schema (and so GraphiQL's docs and
    generated clients) shows it on the code."""


_REGISTRY: dict[str, Declared] = {}


def declare(code: str, *, description: str, status: int = 400, request_level: bool = False) -> Code:
    """Register a code with what it means to a client (again with the same meaning, in the
    same words, is harmless); returns it for use."""
    if not description.strip():
        raise ValueError(f"error code {code}: say when a client gets it (description=...)")
    declared = Declared(Code(code), status, request_level, description)
    if _REGISTRY.setdefault(code, declared) != declared:
        raise ValueError(f"error code {code} is declared twice, differently")
    return declared.code


def description(code: str) -> str:
    """What a declared code means to a client."""
    return _REGISTRY[code].description


def lookup(code: str) -> Declared | None:
    return _REGISTRY.get(code)


def is_declared(code: object) -> bool:
    return isinstance(code, str) and code in _REGISTRY


def domain_codes() -> list[Code]:
    """The domain codes in the order they were declared (GraphQL's `ErrorCode`)."""
    return [declared.code for declared in _REGISTRY.values() if not declared.request_level]


def request_level_codes() -> list[Code]:
    return [declared.code for declared in _REGISTRY.values() if declared.request_level]


def request_level(code: str) -> bool:
    declared = _REGISTRY.get(code)
    return declared is not None and declared.request_level


def status(code: str) -> int:
    """The REST status of a code; 500 for a code nobody declared."""
    declared = _REGISTRY.get(code)
    return declared.status if declared is not None else 500


# The request-level codes of the API protocol, shared by every layer.
BAD_USER_INPUT = declare(
    "BAD_USER_INPUT",
    status=400,
    request_level=True,
    description="Invalid arguments or variables, an operation over the limits (depth, aliases, tokens), a string "
    "over its length, or a body over the size limit (REST 400, or 413 for the body).",
)
UNAUTHENTICATED = declare(
    "UNAUTHENTICATED",
    status=401,
    request_level=True,
    description="No live session: the token is missing, malformed, expired or revoked; or the Authorization "
    'header is not "Bearer <session>" (every field of the operation answers it).',
)
FORBIDDEN = declare(
    "FORBIDDEN",
    status=403,
    request_level=True,
    description="The session may not do this: it acts on another user, or the operation is switched off here.",
)
NOT_FOUND = declare("NOT_FOUND", status=404, request_level=True, description="REST only: no route has this path (404).")
INTERNAL_SERVER_ERROR = declare(
    "INTERNAL_SERVER_ERROR",
    status=500,
    request_level=True,
    description="Anything unexpected; the message is masked and the details are in the server's log.",
)
SERVICE_UNAVAILABLE = declare(
    "SERVICE_UNAVAILABLE",
    status=503,
    request_level=True,
    description="The database is down or not answering; try again shortly.",
)
TIMEOUT = declare(
    "TIMEOUT",
    status=504,
    request_level=True,
    description="The request's flow did not answer within REQUESTING_TIMEOUT (or a change of the credentials "
    "took longer and was given up; nothing changed).",
)


def failure(output: Mapping[str, object]) -> str | None:
    """The code of an error output (`{error, code}`; INTERNAL_SERVER_ERROR if it has
    none), or None for a success: the one test of "is this an error, and which"."""
    if "error" not in output:
        return None
    code = output.get("code")
    return code if isinstance(code, str) else INTERNAL_SERVER_ERROR
