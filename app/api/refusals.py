"""Requests refused before any operation runs, answered in the shape of the API they
were sent to: GraphQL's `{"errors": [...]}` on /graphql, `{"error", "code"}` on /api."""

from __future__ import annotations

import json

from starlette.responses import Response

from app.concepts.outputs import error
from app.protocol import codes
from app.protocol.codes import Code

GRAPHQL_PATH = "/graphql"

BAD_REQUEST = codes.declare("BAD_REQUEST", status=400, request_level=True)
"""The HTTP request itself is not one this API takes (not JSON, a batch, no query)."""
PERSISTED_QUERY_NOT_SUPPORTED = codes.declare("PERSISTED_QUERY_NOT_SUPPORTED", status=400, request_level=True)
"""Apollo's code: a client sending persisted-query hashes falls back to full queries."""


def graphql_body(message: str, code: str) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def refusal(path: str, status: int, message: str, code: Code) -> Response:
    """The error response for a request to `path` refused before it ran."""
    body = graphql_body(message, code) if path == GRAPHQL_PATH else error(code, message)
    return Response(json.dumps(body), status_code=status, media_type="application/json")
