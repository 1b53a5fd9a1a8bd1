"""The HTTP/1.1 protocol the server speaks: uvicorn's httptools one, with bounds on
what a client can make a connection hold, and for how long.

- The request head. httptools accumulates a header's whole value before handing it
  over, so without a bound a client could make the server hold megabytes per
  connection (a 16 MB Authorization header was read, kept and processed). Here the
  bytes of the request line and headers are counted as they arrive, before the parser
  sees them; past MAX_HEAD_BYTES the request is answered 431 and the connection
  closed, before any of the app runs. At most MAX_HEAD_BYTES plus one read from the
  socket (asyncio reads up to 256 KiB at a time) is ever buffered for a head.
- Trailers (header fields after a chunked body) are accumulated the same way, so they
  count against the same bound, and they are dropped: uvicorn would append them to
  the request's headers while the app runs, where an `Authorization` or
  `X-Forwarded-For` trailer would pass for a header.
- Time. A head must be complete within HEAD_TIMEOUT seconds of its first byte (of the
  connection, for the first request), and a body must keep coming (at least
  BODY_PROGRESS bytes every BODY_TIMEOUT seconds until it ends); otherwise the request
  is answered 408 and the connection closed, however slowly its bytes drip. Between
  requests, uvicorn's keep-alive timeout applies as before.
- Uvicorn's own answers (400 for a request it cannot parse) say `nosniff` too.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from dataclasses import dataclass
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings

MAX_HEAD_BYTES: Final = 16 * 1024
"""Request line, headers and trailers together; browsers' and proxies' own limits are 8-16 KiB."""

BODY_PROGRESS: Final = 1024
"""Bytes of a body that must arrive in every BODY_TIMEOUT seconds: a byte now and then is a stall."""

LINGER: Final = 1.0
"""Seconds a refused connection stays open, reading nothing into memory, before it is closed."""

logger = logging.getLogger(__name__)

NOSNIFF: Final = b"x-content-type-options: nosniff\r\n"


def _answer(status: bytes, message: str, code: str) -> bytes:
    body = json.dumps({"error": message, "code": code}).encode()
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: application/json\r\n",
            NOSNIFF,
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


_TOO_LARGE = _answer(b"431 Request Header Fields Too Large", "The request's headers are too large.", "BAD_REQUEST")
_TOO_SLOW = _answer(b"408 Request Timeout", "The request was not sent in time.", "BAD_REQUEST")


@dataclass(frozen=True, slots=True)
class Timeouts:
    head: float
    body: float


@functools.cache
def timeouts() -> Timeouts:
    """HEAD_TIMEOUT and BODY_TIMEOUT, read once per server process from the environment
    (uvicorn makes a protocol per connection and hands it no settings of ours)."""
    settings = Settings()
    return Timeouts(settings.head_timeout, settings.body_timeout)


class BoundedHeadProtocol(HttpToolsProtocol):
    """HttpToolsProtocol bounding the request head and trailers (431) and the time a
    head or a body may take (408)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timeouts = timeouts()
        self._head_bytes = 0
        self._in_head = True
        self._refused = False
        self._timer: asyncio.TimerHandle | None = None
        self._body_bytes = 0
        self._fed_body = 0
        self._after_chunk = False  # between a chunk's size line and its data: after the last, trailers

    # -- the connection ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._timeouts.head, self._head_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        in_body = not self._in_head
        if in_body:
            self._body_bytes += len(data)
        else:
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()
                return
        self._fed_body = 0
        super().data_received(data)
        if in_body and self._after_chunk and not self._in_head:
            # What this read brought beyond body data, after a chunk's size line: chunk
            # framing, or, after the last chunk, trailers the parser is accumulating.
            self._head_bytes += len(data) - self._fed_body
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()

    # -- parser callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._timer is None:  # a later request on the connection: its first byte starts the clock
            self._arm(self._timeouts.head, self._head_expired)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_head:
            super().on_header(name, value)
        # else a trailer: counted against the head bound, never one of the request's headers

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._body_bytes = 0
        self._arm(self._timeouts.body, self._body_check)
        super().on_headers_complete()

    def on_chunk_header(self) -> None:
        self._after_chunk = True

    def on_chunk_complete(self) -> None:
        self._after_chunk = False

    def on_body(self, body: bytes) -> None:
        self._fed_body += len(body)
        self._after_chunk = False
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
        self._in_head, self._head_bytes, self._after_chunk = True, 0, False

    # -- uvicorn's own answers -----------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        content = [
            b"HTTP/1.1 400 Bad Request\r\n",
            *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
            b"content-type: text/plain; charset=utf-8\r\n",
            NOSNIFF,
            b"content-length: " + str(len(msg)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
            msg.encode("ascii"),
        ]
        self._disarm()
        self.transport.write(b"".join(content))
        self.transport.close()

    # -- timeouts ------------------------------------------------------------------------

    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_expired(self) -> None:
        self._timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head waits behind a response still being written: end after it.
            self.cycle.keep_alive = False
            return
        logger.info("closed a connection whose request head took over %ss (408)", self._timeouts.head)
        self._end(_TOO_SLOW)

    def _body_check(self) -> None:
        self._timer = None
        if self.flow.read_paused or self._body_bytes >= BODY_PROGRESS:
            # Reading is paused while the app has not taken what came (not the client's
            # doing), or the body keeps coming: look again in a while.
            self._body_bytes = 0
            self._arm(self._timeouts.body, self._body_check)
            return
        logger.info(
            "closed a connection whose request body stalled (under %d bytes in %ss, 408)",
            BODY_PROGRESS,
            self._timeouts.body,
        )
        self._end(_TOO_SLOW)

    # -- ending a connection -------------------------------------------------------------

    def _refuse(self) -> None:
        logger.warning("refused a request whose headers exceed %d bytes (431)", MAX_HEAD_BYTES)
        self._end(_TOO_LARGE)

    def _end(self, answer: bytes) -> None:
        """Answer (unless the request is answered or being answered) and close; a request
        the app still runs is told that the client is gone."""
        self._refused = True
        self._disarm()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answered = cycle is not None and cycle.response_started and (not cycle.response_complete or not self._in_head)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() says so, and nothing it sends is written
            cycle.message_event.set()
        if answered:
            self.transport.close()
            return
        self.transport.write(answer)
        # A close with the client's data unread resets the connection, and the client
        # may lose the answer with it: end our side, drop what still arrives, and close
        # once the client has had a moment to read.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER, self.transport.close)
