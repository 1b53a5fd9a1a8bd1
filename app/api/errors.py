"""Error codes as the API layers present them (the codes and their REST statuses are
declared in `app.protocol.codes`).

A response's `code` says what kind of failure it is. Domain failures (a taken
username, a weak password, ...) are data: a `UserError` in GraphQL. The others are
request-level: a GraphQL error with `extensions.code`.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from app.protocol import codes
from app.protocol.codes import BAD_USER_INPUT, INTERNAL_SERVER_ERROR

logger = logging.getLogger(__name__)

GRAPHQL_PARSE_FAILED = codes.declare(
    "GRAPHQL_PARSE_FAILED", status=400, request_level=True, description="The document is not valid GraphQL syntax."
)
BAD_REQUEST = codes.declare(
    "BAD_REQUEST",
    status=400,
    request_level=True,
    description="Not a request this endpoint takes: no query, not JSON, a batch of operations (400), or not "
    "application/json (415).",
)
PERSISTED_QUERY_NOT_SUPPORTED = codes.declare(
    "PERSISTED_QUERY_NOT_SUPPORTED",
    status=400,
    request_level=True,
    description="An Apollo persisted-query hash came instead of the query: send the query itself (Apollo's "
    "code, so its clients fall back to full queries).",
)


class ApiError(GraphQLError):
    """A request-level failure, shown to the client with its code (never masked)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})
        self.code = code


def raise_request_error(response: dict[str, Any]) -> None:
    """Raise the GraphQL error a request-level failure response stands for."""
    code = codes.failure(response)
    if code is not None and codes.request_level(code):
        raise ApiError(str(response["error"]), code)


MASKED = "Internal server error."


def assign_code(error: GraphQLError) -> None:
    """Give an error its `extensions.code` (in place); log and mask unexpected ones.

    Request-level failures (ApiError) keep their code and message; invalid documents
    and arguments are BAD_USER_INPUT (GRAPHQL_PARSE_FAILED for syntax errors);
    anything else is INTERNAL_SERVER_ERROR with a fixed message, details in the log.
    """
    if isinstance(error.original_error, ApiError) or (error.extensions or {}).get("code"):
        return
    if error.original_error is None or isinstance(error.original_error, GraphQLError):
        syntax = error.message.startswith("Syntax Error")
        error.extensions = {"code": GRAPHQL_PARSE_FAILED if syntax else BAD_USER_INPUT}
        return
    logger.error(
        "unexpected error in %s", ".".join(map(str, error.path or [])) or "operation", exc_info=error.original_error
    )
    error.message = MASKED
    error.original_error = None
    error.extensions = {"code": INTERNAL_SERVER_ERROR}
