"""The GraphQL endpoint: Strawberry's ASGI view with our context."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema

from app.observability.exchange import exchange
from app.parts import Parts
from app.protocol.codes import Code
from app.protocol.coverage import Coverage
from app.settings import Settings

from . import graphiql
from .context import Context, MalformedAuthorization, bearer_token, client_address, user_agent
from .errors import BAD_REQUEST, PERSISTED_QUERY_NOT_SUPPORTED
from .handler import RequestHandler
from .refusals import GRAPHQL_PATH, refusal
from .schema import build_schema


class Refused(HTTPException):
    def __init__(self, status_code: int, reason: str, code: Code) -> None:
        super().__init__(status_code, reason)
        self.code = code


class GraphQLEndpoint(GraphQL[Context, None]):
    """POST for everything, GET for queries only (never mutations), GraphiQL for browsers.
    A request it cannot take (a batch, a persisted query, no query) is answered with
    GraphQL's error shape, like any other error of this endpoint."""

    def __init__(self, schema: BaseSchema, *, handler: RequestHandler, settings: Settings, **options: Any) -> None:
        super().__init__(schema, **options)
        self.handler = handler
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except Refused as refused:
            response = refusal(GRAPHQL_PATH, refused.status_code, refused.reason, refused.code)
        except HTTPException as failure:
            response = refusal(GRAPHQL_PATH, failure.status_code, failure.reason, BAD_REQUEST)
        await response(scope, receive, send)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and "persistedQuery" in (data.extensions or {}):
            raise Refused(400, "Persisted queries are not supported: send the query.", PERSISTED_QUERY_NOT_SUPPORTED)
        return data

    def decode_json(self, data: str | bytes) -> object:
        """JSON nested too deeply for the parser is malformed input (400), not a crash."""
        try:
            return json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", "", 0) from None

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL page: Strawberry's loads its scripts from a CDN."""
        return graphiql.page()

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        assert isinstance(request, Request)
        try:
            session, unauthenticated = bearer_token(request), None
        except MalformedAuthorization as malformed:
            session, unauthenticated = None, str(malformed)
        return Context(
            handler=self.handler,
            session=session,
            unauthenticated=unauthenticated,
            client=client_address(request, proxies=self.settings.trust_proxy),
            user_agent=user_agent(request),
            exchange=exchange(request.scope),
            debug_flows=self.settings.debug_flows,
        )


def graphql_endpoint(
    settings: Settings, parts: Parts, coverages: Iterable[Coverage], handler: RequestHandler
) -> GraphQLEndpoint:
    schema = build_schema(
        parts,
        coverages,
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        introspection=settings.introspection_enabled,
    )
    return GraphQLEndpoint(
        schema, handler=handler, settings=settings, graphql_ide="graphiql" if settings.graphiql_enabled else None
    )
