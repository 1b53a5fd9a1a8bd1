"""Clients that misbehave on the wire, against `python -m app` over raw sockets: chunked
trailers, heads and bodies dripped a byte at a time, connections that say nothing,
forged X-Forwarded-For lines, control characters in paths, clients that leave
mid-body, requests uvicorn itself refuses.

HEAD_TIMEOUT and BODY_TIMEOUT are set to a second here; no test measures time: each
sends far more slowly than any timeout allows and checks that the server, not the
client, ended the connection."""

from __future__ import annotations

import contextlib
import json
import re
import resource
import selectors
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.server.http import BODY_PROGRESS
from tests.api.helpers import REGISTER
from tests.launched import AppProcess, running_apps

pytestmark = pytest.mark.launcher

GUARD = 120.0
"""Seconds a dripping client keeps going before the test gives up (a hang guard, far
beyond the one-second timeouts under test, not a timing assertion)."""

SESSIONS = "{ sessions { client current } }"


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[tuple[AppProcess, AppProcess]]:
    """Two apps on one database: `plain` (no proxy trusted) and `proxied` (TRUST_PROXY=true)."""
    common = {
        "MONGODB_URL": database_url,
        "MONGODB_DB": f"hostile_transport_{uuid.uuid4().hex}",
        "HEAD_TIMEOUT": "1",
        "BODY_TIMEOUT": "1",
        "THROTTLE_ADDRESS_REGISTRATIONS": "3",
        "THROTTLE_WINDOW": "86400",  # counts never start again mid-module (windows are aligned to the clock)
        "LOG_FORMAT": "text",
    }
    proxy = {**common, "TRUST_PROXY": "true"}
    with running_apps(tmp_path_factory.mktemp("hostile"), common, proxy) as (plain, proxied):
        yield plain, proxied


@pytest.fixture(scope="module")
def plain(apps: tuple[AppProcess, AppProcess]) -> AppProcess:
    return apps[0]


@pytest.fixture(scope="module")
def proxied(apps: tuple[AppProcess, AppProcess]) -> AppProcess:
    return apps[1]


def port_of(app: AppProcess) -> int:
    return int(app.url.rsplit(":", 1)[1])


def exchange(app: AppProcess, data: bytes) -> bytes:
    """Send `data` at once; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port_of(app)), timeout=GUARD) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


def chunked(method_path: bytes, body: bytes, *, headers: bytes = b"", trailers: bytes = b"") -> bytes:
    return (
        method_path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n" + headers + b"\r\n"
        b"%x\r\n" % len(body) + body + b"\r\n0\r\n" + trailers + b"\r\n"
    )


def json_body(answer: bytes) -> Any:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), answer[:300]
    return json.loads(body)


def register(app: AppProcess, username: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
    variables = {"username": username, "password": "correct horse"}
    return httpx.post(
        f"{app.url}/graphql", json={"query": REGISTER, "variables": variables}, headers=headers or {}, timeout=30.0
    )


def client_of(app: AppProcess, token: str) -> str:
    [session] = app.gql(SESSIONS, token=token)["data"]["sessions"]
    return str(session["client"])


def wait_for_log(app: AppProcess, pattern: str) -> str:
    """The app's log once `pattern` appears in it (lines are written after the answer)."""
    for _ in range(300):
        log = app.log.read_text(errors="replace")
        if re.search(pattern, log):
            return log
        time.sleep(0.1)
    pytest.fail(f"{pattern!r} never appeared in the log:\n{app.output()}")


# -- trailers --------------------------------------------------------------------------------


def test_an_authorization_trailer_signs_nobody_in(proxied: AppProcess) -> None:
    response = register(proxied, f"trailer{uuid.uuid4().hex[:8]}", headers={"X-Forwarded-For": "192.0.2.1"})
    token = response.json()["data"]["register"]["session"]
    query = json.dumps({"query": "{ me { username } }"}).encode()
    as_header = chunked(b"POST /graphql", query, headers=b"Authorization: Bearer " + token.encode() + b"\r\n")
    as_trailer = chunked(b"POST /graphql", query, trailers=b"Authorization: Bearer " + token.encode() + b"\r\n")

    assert json_body(exchange(proxied, as_header))["data"]["me"] is not None  # the header does
    assert json_body(exchange(proxied, as_trailer)) == {"data": {"me": None}}


def test_a_forwarded_for_trailer_is_not_the_client_address(proxied: AppProcess) -> None:
    body = json.dumps({"username": f"fwd{uuid.uuid4().hex[:8]}", "password": "correct horse"}).encode()
    request = chunked(
        b"POST /api/UserAuthentication/register",
        body,
        headers=b"X-Forwarded-For: 192.0.2.10\r\n",
        trailers=b"X-Forwarded-For: 198.51.100.66\r\n",
    )

    token = json_body(exchange(proxied, request))["session"]

    assert client_of(proxied, token) == "192.0.2.10"


def test_trailers_within_the_bound_are_dropped_and_the_request_served(plain: AppProcess) -> None:
    query = json.dumps({"query": "{ me { id } }"}).encode()
    answer = exchange(plain, chunked(b"POST /graphql", query, trailers=b"X-Note: " + b"n" * 1000 + b"\r\n"))

    assert json_body(answer) == {"data": {"me": None}}


def test_trailers_past_the_head_bound_are_431_and_the_connection_closed(plain: AppProcess) -> None:
    query = json.dumps({"query": "{ me { id } }"}).encode()
    flood = chunked(b"POST /graphql", query).removesuffix(b"\r\n") + b"X-Pad: " + b"a" * 2**20

    answer = exchange(plain, flood)

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"x-content-type-options: nosniff" in answer
    assert plain.me(None) is None  # and the server goes on


# -- slow clients -----------------------------------------------------------------------------


@dataclass
class Drip:
    """A connection sending `data` a byte at a time, and what the server did to it."""

    sock: socket.socket
    data: bytes
    sent: int = 0
    answer: bytes = b""
    closed_by_server: bool = False


@dataclass
class Dripper:
    """Many connections dripping at once, from one loop: a byte on each every `every`
    seconds, until the server closes each (or the guard ends the test)."""

    port: int
    every: float = 0.1
    drips: list[Drip] = field(default_factory=list)

    def open(self, count: int, data: bytes, *, first: int = 0) -> None:
        """`count` connections that will drip `data`, having sent its first `first` bytes at once."""
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=GUARD)
            sock.setblocking(False)
            drip = Drip(sock, data)
            if first:
                sock.sendall(data[:first])
                drip.sent = first
            self.drips.append(drip)

    def run(self, guard: float = GUARD) -> None:
        """Drip until the server has closed every connection."""
        selector = selectors.DefaultSelector()
        for drip in self.drips:
            selector.register(drip.sock, selectors.EVENT_READ, drip)
        deadline = time.monotonic() + guard
        try:
            while any(not drip.closed_by_server for drip in self.drips):
                assert time.monotonic() < deadline, "the server left dripping connections open"
                for key, _ in selector.select(timeout=self.every):
                    self._read(key.data, selector)
                for drip in self.drips:
                    if not drip.closed_by_server:
                        assert drip.sent < len(drip.data), "the whole request went out before the server ended it"
                        try:
                            drip.sock.send(drip.data[drip.sent : drip.sent + 1])
                            drip.sent += 1
                        except (BrokenPipeError, ConnectionResetError):
                            self._closed(drip, selector)
        finally:
            selector.close()
            for drip in self.drips:
                drip.sock.close()

    def _read(self, drip: Drip, selector: selectors.BaseSelector) -> None:
        try:
            chunk = drip.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            chunk = b""
        if chunk:
            drip.answer += chunk
        else:
            self._closed(drip, selector)

    @staticmethod
    def _closed(drip: Drip, selector: selectors.BaseSelector) -> None:
        if not drip.closed_by_server:
            drip.closed_by_server = True
            selector.unregister(drip.sock)


SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-Slow-%d: yes\r\n" % i for i in range(500))


def test_a_head_dripped_a_byte_at_a_time_is_408_and_closed(plain: AppProcess) -> None:
    dripper = Dripper(port_of(plain))
    dripper.open(20, SLOW_HEAD)
    assert plain.me(None) is None  # others are served meanwhile

    dripper.run()

    for drip in dripper.drips:
        assert drip.closed_by_server
        assert drip.answer.startswith(b"HTTP/1.1 408 "), drip.answer[:200]
        assert b"x-content-type-options: nosniff" in drip.answer


def test_a_connection_that_sends_nothing_is_closed(plain: AppProcess) -> None:
    with socket.create_connection(("127.0.0.1", port_of(plain)), timeout=GUARD) as sock:
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_a_body_dripped_a_byte_at_a_time_is_408_and_closed(plain: AppProcess) -> None:
    head = b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
    dripper = Dripper(port_of(plain), every=0.05)  # 20 bytes a second, far under BODY_PROGRESS a second
    dripper.open(5, head + b" " * 60000, first=len(head))
    assert BODY_PROGRESS > 20 * 10

    dripper.run()

    for drip in dripper.drips:
        assert drip.answer.startswith(b"HTTP/1.1 408 "), drip.answer[:200]
    wait_for_log(plain, r"request body stalled")


def test_a_body_left_unfinished_after_its_answer_closes_the_connection_without_a_second_answer(
    plain: AppProcess,
) -> None:
    """An unknown path is answered 404 before its body is read; a client that then sends
    no more of it is cut off by the body timeout, with the one answer it had."""
    head = b"POST /api/nowhere HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port_of(plain)), timeout=GUARD) as sock:
        sock.sendall(head + b"{")
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk

    assert answer.startswith(b"HTTP/1.1 404 "), answer
    assert answer.count(b"HTTP/1.1 ") == 1, answer


def test_slow_clients_past_the_file_limit_do_not_lock_others_out(plain: AppProcess) -> None:
    """The report: with a 1024-file limit, 1100 dripping connections made every other
    client's /healthz fail. Here the app's limit is a few dozen files above what it
    uses, and three times as many connections drip: each is ended, and /healthz answers."""
    pid = plain.process.pid
    in_use = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use + 40, hard))
    try:
        dripper = Dripper(port_of(plain))
        dripper.open(3 * 40, SLOW_HEAD)
        dripping = threading.Thread(target=dripper.run)
        dripping.start()
        try:
            served = healthz_eventually(plain)  # before the fix: never, the drips held every file
        finally:
            dripping.join()
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))

    assert served
    assert all(drip.closed_by_server for drip in dripper.drips)
    assert plain.me(None) is None


def healthz_eventually(app: AppProcess) -> bool:
    """Whether /healthz answers 200 within the guard (a connection the server sheds at its
    file limit is tried again)."""
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{app.url}/healthz", timeout=GUARD).status_code == 200:
                return True
        time.sleep(0.1)
    return False


def test_an_idle_keep_alive_connection_keeps_uvicorns_timeout(plain: AppProcess) -> None:
    """Between requests the head timeout does not run: uvicorn's keep-alive timeout
    (5 s) ends the idle connection, silently, where the head timeout would answer 408."""
    with socket.create_connection(("127.0.0.1", port_of(plain)), timeout=GUARD) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        answer = b""
        while not answer.endswith(b"ok"):
            answer += sock.recv(65536)
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk

    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert rest == b""


# -- forwarded addresses -------------------------------------------------------------------------


def raw_register(app: AppProcess, username: str, forwarded: list[bytes]) -> Any:
    body = json.dumps({"username": username, "password": "correct horse"}).encode()
    head = (
        b"POST /api/UserAuthentication/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + b"".join(b"X-Forwarded-For: " + line + b"\r\n" for line in forwarded)
        + b"\r\n"
    )
    return json.loads(exchange(app, head + body).partition(b"\r\n\r\n")[2])


def test_without_trust_proxy_forwarded_for_is_ignored_even_from_loopback(plain: AppProcess) -> None:
    """A client reaching the app through a local proxy cannot choose its address: the
    registrations are counted for the socket's peer (limit 3 here), whatever it forwards."""
    prefix = uuid.uuid4().hex[:8]
    answers = [raw_register(plain, f"{prefix}x{i}", [f"203.0.113.{i}".encode()]) for i in range(5)]

    assert [answer.get("code", "OK") for answer in answers] == ["OK"] * 3 + ["RATE_LIMITED"] * 2, answers
    assert client_of(plain, answers[0]["session"]) == "127.0.0.1"


def test_behind_one_proxy_the_address_is_the_last_entry_over_every_forwarded_for_line(proxied: AppProcess) -> None:
    """HAProxy's `option forwardfor` adds a line of its own rather than appending to the
    client's: the client's lines come first, whatever they say."""
    username = f"lines{uuid.uuid4().hex[:8]}"
    answer = raw_register(proxied, username, [b"198.51.100.1, 198.51.100.2", b"192.0.2.44"])

    assert client_of(proxied, answer["session"]) == "192.0.2.44"


# -- logs and uvicorn's answers --------------------------------------------------------------------


def test_control_characters_a_client_sends_are_escaped_in_text_logs(plain: AppProcess) -> None:
    forged = "2026-12-06 00:00:00,000 CRITICAL app: the database was deleted"
    path = "/api/x%0D%0A" + forged.replace(" ", "%20") + "%1B%5B2J%1B%5B31m"
    answer = exchange(plain, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    status = answer.split(b" ", 2)[1].decode()

    log = wait_for_log(plain, r"GET /api/x\\r\\n2026-12-06")

    assert not any(line.startswith(forged) for line in log.splitlines())
    assert f"GET /api/x\\r\\n{forged}\\x1b[2J\\x1b[31m {status}" in log
    assert b"\x1b" not in plain.log.read_bytes() and b"\r" not in plain.log.read_bytes()


def test_uvicorns_own_400_says_nosniff(plain: AppProcess) -> None:
    answer = exchange(plain, b"GET /\x00 HTTP/1.1\r\nHost: t\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"x-content-type-options: nosniff" in answer


def test_a_client_leaving_mid_body_is_one_info_line(plain: AppProcess) -> None:
    marker = "/api/login"
    with socket.create_connection(("127.0.0.1", port_of(plain)), timeout=GUARD) as sock:
        sock.sendall(
            f"POST {marker} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            'Content-Length: 1000\r\n\r\n{"username": '.encode()
        )

    log = wait_for_log(plain, f"POST {marker} 499")
    assert "ClientDisconnect" not in log and "Exception in ASGI application" not in log
