"""What a request body must be (JSON, at most so large), checked before any endpoint reads it.

Starlette (1.x) has its own (`Starlette(max_body_size=...)`), but it answers a
plain-text "Content Too Large", not the API's JSON error with a code, and only once
the endpoint reads the body; hence this one.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import BAD_REQUEST
from app.api.refusals import refusal
from app.protocol.codes import BAD_USER_INPUT


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Answers 413 to a body over `max_bytes`: at once when Content-Length says so,
    else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except BodyTooLarge:
            if not started:
                await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = refusal(scope["path"], 413, "The request body is too large.", BAD_USER_INPUT)
        await response(scope, receive, send)


class JsonOnly:
    """Answers 415 to a POST whose body is not `application/json`. Browsers send
    text/plain and form bodies across origins without asking (no CORS preflight), so
    taking only JSON keeps cross-site forms from calling the API."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            media_type = Headers(scope=scope).get("content-type", "").partition(";")[0].strip().lower()
            if media_type != "application/json":
                response = refusal(scope["path"], 415, "The request body must be application/json.", BAD_REQUEST)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
