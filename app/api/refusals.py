"""Requests refused before any operation runs, answered in the shape of the API they
were sent to: GraphQL's `{"errors": [...]}` on /graphql, `{"error", "code"}` on /api."""

from __future__ import annotations

import json

from starlette.responses import Response

from app.concepts.outputs import error
from app.protocol.codes import Code

GRAPHQL_PATH = "/graphql"


def graphql_body(message: str, code: str) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def refusal(path: str, status: int, message: str, code: Code) -> Response:
    """The error response for a request to `path` refused before it ran."""
    body = graphql_body(message, code) if path == GRAPHQL_PATH else error(code, message)
    return Response(json.dumps(body), status_code=status, media_type="application/json")
