"""Error codes as the API layers present them.

A response's `code` says what kind of failure it is. Domain failures (a taken
username, a weak password, ...) are data: a `UserError` in GraphQL, a 400 in REST.
The others are request-level: a GraphQL error with `extensions.code`, or a REST
status of their own.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

logger = logging.getLogger(__name__)

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RATE_LIMITED = "RATE_LIMITED"
TIMEOUT = "TIMEOUT"

REQUEST_ERRORS: dict[str, int] = {
    UNAUTHENTICATED: 401,
    FORBIDDEN: 403,
    BAD_USER_INPUT: 400,
    SERVICE_UNAVAILABLE: 503,
    TIMEOUT: 504,
    INTERNAL_SERVER_ERROR: 500,
}
"""Codes that are not the answer to the operation but a failure of the request."""

DOMAIN_STATUS: dict[str, int] = {RATE_LIMITED: 429}
"""REST statuses of domain codes other than 400."""


def rest_status(code: str) -> int:
    return REQUEST_ERRORS.get(code) or DOMAIN_STATUS.get(code, 400)


class ApiError(GraphQLError):
    """A request-level failure, shown to the client with its code (never masked)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})
        self.code = code


def raise_request_error(response: dict[str, Any]) -> None:
    """Raise the GraphQL error a request-level failure response stands for."""
    code = response.get("code") if "error" in response else None
    if isinstance(code, str) and code in REQUEST_ERRORS:
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
        error.extensions = {"code": "GRAPHQL_PARSE_FAILED" if syntax else BAD_USER_INPUT}
        return
    logger.error(
        "unexpected error in %s", ".".join(map(str, error.path or [])) or "operation", exc_info=error.original_error
    )
    error.message = MASKED
    error.original_error = None
    error.extensions = {"code": INTERNAL_SERVER_ERROR}
