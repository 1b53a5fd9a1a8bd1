"""What a GraphQL resolver knows of its HTTP request: the token and the way in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from app.concepts.requesting import RequestHandler

from .errors import raise_request_error


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; what it means is Sessioning's business."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class Context:
    handler: RequestHandler
    session: str | None
    flows: list[str] = field(default_factory=list)

    async def request(self, path: str, **inputs: Any) -> dict[str, Any]:
        """`Requesting.request(path, session, **inputs)`; the response, or the request-level error raised."""
        response = await self.handler.handle(path, {"session": self.session, **inputs})
        self.flows.append(response.flow.id)
        raise_request_error(response.body)
        return response.body
