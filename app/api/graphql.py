"""The GraphQL endpoint: Strawberry's ASGI view with our context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from .context import Context, bearer_token
from .schema import schema


class GraphQLEndpoint(GraphQL[Context, None]):
    """POST for everything, GET for queries only (never mutations), GraphiQL for browsers."""

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        assert isinstance(request, Request)
        return Context(
            handler=request.app.state.handler,
            session=bearer_token(request),
            state=request.state,
            debug_flows=request.app.state.settings.debug_flows,
        )


def graphql_endpoint(**options: Any) -> GraphQLEndpoint:
    return GraphQLEndpoint(schema, **options)
