"""What a GraphQL resolver knows of its HTTP request: the token and the way in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from app.observability.exchange import Exchange
from app.protocol.bounds import MAX_CLIENT_TEXT
from app.protocol.codes import BAD_USER_INPUT, UNAUTHENTICATED
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


BEARER = re.compile(r"bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)
"""RFC 6750's `Authorization: Bearer <b64token>` (the scheme in any case, as RFC 9110 says)."""

MALFORMED_AUTHORIZATION = (
    'The Authorization header must be "Bearer <session>", the session token that register or authenticate returned.'
)


class MalformedAuthorization(ValueError):
    """An Authorization header that is not one `Bearer <token>`: answered UNAUTHENTICATED
    with the expected form, rather than read as no session (a silent `me: null`)."""

    def __init__(self) -> None:
        super().__init__(MALFORMED_AUTHORIZATION)


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None without one (an empty
    header, which clients send for "signed out", is none). What the token means is
    Sessioning's business; raises MalformedAuthorization for another scheme, no token,
    or several Authorization headers."""
    values = [value for value in request.headers.getlist("authorization") if value.strip()]
    if not values:
        return None
    found = BEARER.fullmatch(values[0].strip()) if len(values) == 1 else None
    if found is None:
        raise MalformedAuthorization
    return found.group(1)


@dataclass
class Context:
    """Per HTTP request: who calls, the handler, and the record of the request (the flows
    it ran and the operation's name, for the access log and the traces)."""

    handler: RequestHandler
    session: str | None
    unauthenticated: str | None
    """Why every field is UNAUTHENTICATED (a malformed Authorization header), if it is."""
    client: str | None
    user_agent: str | None
    exchange: Exchange
    debug_flows: bool = False

    async def request(self, route: Route, **inputs: Any) -> dict[str, Any]:
        """`Requesting.request(route.path, session, client, userAgent, **inputs)`; the
        response, or the request-level error raised. Absent optional inputs are their default."""
        if self.unauthenticated is not None:
            raise ApiError(self.unauthenticated, UNAUTHENTICATED)
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
