"""The GraphQL endpoint: Strawberry's ASGI view with our context."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app.settings import Settings

from .context import Context, bearer_token, client_address
from .schema import build_schema


class GraphQLEndpoint(GraphQL[Context, None]):
    """POST for everything, GET for queries only (never mutations), GraphiQL for browsers."""

    def decode_json(self, data: str | bytes) -> object:
        """JSON nested too deeply for the parser is malformed input (400), not a crash."""
        try:
            return json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        assert isinstance(request, Request)
        settings = request.app.state.settings
        return Context(
            handler=request.app.state.handler,
            session=bearer_token(request),
            client=client_address(request, trust_proxy=settings.trust_proxy),
            state=request.state,
            debug_flows=settings.debug_flows,
        )


def graphql_endpoint(settings: Settings) -> GraphQLEndpoint:
    schema = build_schema(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
    )
    return GraphQLEndpoint(schema)
