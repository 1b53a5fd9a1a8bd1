"""The HTTP/1.1 protocol the server speaks: uvicorn's httptools one, with a bound on
the request head.

httptools accumulates a header's whole value before handing it over, so without a
bound a client could make the server hold megabytes per connection (a 16 MB
Authorization header was read, kept and processed). Here the bytes of the request
line and headers are counted as they arrive, before the parser sees them; past
MAX_HEAD_BYTES the request is answered 431 and the connection closed, before any of
the app runs. At most MAX_HEAD_BYTES plus one read from the socket (asyncio reads up
to 256 KiB at a time) is ever buffered for a head.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES: Final = 16 * 1024
"""Request line and headers together; browsers' and proxies' own limits are 8-16 KiB."""

LINGER: Final = 1.0
"""Seconds a refused connection stays open, reading nothing into memory, before it is closed."""

logger = logging.getLogger(__name__)

_BODY = json.dumps({"error": "The request's headers are too large.", "code": "BAD_REQUEST"}).encode()
_REFUSAL = b"".join(
    [
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        b"content-type: application/json\r\n",
        b"x-content-type-options: nosniff\r\n",
        b"content-length: " + str(len(_BODY)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        _BODY,
    ]
)


class BoundedHeadProtocol(HttpToolsProtocol):
    """HttpToolsProtocol refusing a request head over MAX_HEAD_BYTES with 431."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0

    def _refuse(self) -> None:
        self._refused = True
        logger.warning("refused a request whose headers exceed %d bytes (431)", MAX_HEAD_BYTES)
        self.transport.write(_REFUSAL)
        # A close with the client's data unread resets the connection, and the client
        # may lose the answer with it: end our side, drop what still arrives, and close
        # once the client has had a moment to read.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER, self.transport.close)
