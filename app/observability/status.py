"""The status code of a response, for middleware that reports after it is sent."""

from __future__ import annotations

from starlette.types import Message, Send


class SeenStatus:
    """A `send` that remembers the status the app answered with; 500 until it answers,
    so a request whose app raised before responding is reported as the failure it was."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.code = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.code = message["status"]
        await self.send(message)
