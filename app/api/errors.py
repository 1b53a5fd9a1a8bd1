"""Error codes as the API layers present them.

A response's `code` says what kind of failure it is. Domain failures (a taken
username, a weak password, ...) are data: a `UserError` in GraphQL, a 400 in REST.
The others are request-level: a GraphQL error with `extensions.code`, or a REST
status of their own.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

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
