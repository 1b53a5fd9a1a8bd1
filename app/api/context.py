"""What a GraphQL resolver knows of its HTTP request: the token and the way in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from app.observability.exchange import Exchange
from app.protocol.bounds import MAX_CLIENT_TEXT
from app.protocol.codes import BAD_USER_INPUT
from app.protocol.routes import InvalidInput, Route

from .errors import ApiError, raise_request_error
from .handler import RequestHandler


def client_address(request: Request, *, proxies: int) -> str | None:
    """Who is calling: the socket's peer, or behind `proxies` proxies that each append
    the address they were reached from to X-Forwarded-For, the entry `proxies` from the
    end over every line of the header (one proxy: the last, the one it appended). Earlier
    entries are whatever the client chose to send."""
    if proxies:
        entries = [
            entry.strip()
            for line in request.headers.getlist("x-forwarded-for")
            for entry in line.split(",")
            if entry.strip()
        ]
        if entries:
            return entries[max(len(entries) - proxies, 0)][:MAX_CLIENT_TEXT]
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    """The `User-Agent` header, which Sessioning notes on the sessions it creates."""
    return request.headers.get("user-agent", "")[:MAX_CLIENT_TEXT] or None  # journalled with the request


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; what it means is Sessioning's business."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class Context:
    """Per HTTP request: who calls, the handler, and the record of the request (the flows
    it ran and the operation's name, for the access log and the traces)."""

    handler: RequestHandler
    session: str | None
    client: str | None
    user_agent: str | None
    exchange: Exchange
    debug_flows: bool = False

    async def request(self, route: Route, **inputs: Any) -> dict[str, Any]:
        """`Requesting.request(route.path, session, client, userAgent, **inputs)`; the
        response, or the request-level error raised. Absent optional inputs are their default."""
        try:
            accepted = route.accept(inputs, "Argument")
        except InvalidInput as invalid:
            raise ApiError(str(invalid), BAD_USER_INPUT) from None
        response = await self.handler.handle(
            route.path, {**accepted, "session": self.session, "client": self.client, "userAgent": self.user_agent}
        )
        self.exchange.flows.append(response.flow)
        raise_request_error(response.body)
        return response.body
