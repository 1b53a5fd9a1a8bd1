"""A MongoDB wire-protocol proxy between an app and its database, for tests that must
see or stop the app's database commands one by one.

The app connects to the proxy (`WireProxy.url`) as to any MongoDB; the proxy forwards
every message to the real database and back, and decodes what the app sends (OP_MSG:
the command document and its document sequences). A test reads the commands it saw
(their write concern, their collection), or holds the first command that matches a
predicate: the command waits in the proxy, not yet sent, until the test lets it
through (`release`, e.g. into a database it has just stopped with SIGSTOP) or drops
it with its connection (`drop`, as if the app had died before sending it).

It runs on threads of its own, so a test may block (wait for a process) while the
app talks through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import bson

OP_MSG = 2013
_HEADER = struct.Struct("<iiii")
_CHECKSUM_PRESENT = 1
PATIENCE = 60.0
"""Seconds a test waits for a command to arrive before failing (a guard against hanging)."""

WRITES = frozenset({"insert", "update", "delete", "findAndModify", "bulkWrite"})
_STATEMENTS = {"insert": "documents", "update": "updates", "delete": "deletes"}


@dataclass
class Command:
    """One command the app sent: its name, collection and documents."""

    name: str
    collection: str | None
    body: dict[str, Any]
    sequences: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def statements(self) -> list[dict[str, Any]]:
        """An insert's documents, an update's or a delete's statements (wherever the driver put them)."""
        key = _STATEMENTS.get(self.name)
        if key is None:
            return []
        found: list[dict[str, Any]] = self.body.get(key) or self.sequences.get(key) or []
        return found

    @property
    def write_concern(self) -> dict[str, Any] | None:
        concern: dict[str, Any] | None = self.body.get("writeConcern")
        return concern

    @property
    def is_write(self) -> bool:
        return self.name in WRITES

    def __str__(self) -> str:
        return f"{self.name} {self.collection}"


def decode(message: bytes) -> Command | None:
    """The command in a client's message; None for anything but OP_MSG (the handshake's OP_QUERY)."""
    length, _, _, opcode = _HEADER.unpack_from(message)
    if opcode != OP_MSG:
        return None
    (flags,) = struct.unpack_from("<I", message, 16)
    position, end = 20, length - (4 if flags & _CHECKSUM_PRESENT else 0)
    body: dict[str, Any] = {}
    sequences: dict[str, list[dict[str, Any]]] = {}
    while position < end:
        kind = message[position]
        position += 1
        (size,) = struct.unpack_from("<i", message, position)
        if kind == 0:
            body = bson.decode(message[position : position + size])
        else:
            name_end = message.index(b"\x00", position + 4)
            name = message[position + 4 : name_end].decode()
            sequences[name] = bson.decode_all(message[name_end + 1 : position + size])
        position += size
    name = next(iter(body), "")
    collection = body.get(name)
    return Command(name, collection if isinstance(collection, str) else None, body, sequences)


class Held:
    """The first command matching a predicate, kept in the proxy until released or dropped."""

    def __init__(self, matches: Callable[[Command], bool]) -> None:
        self.matches = matches
        self.command: Command | None = None
        self._arrived = threading.Event()
        self._decided = threading.Event()
        self._forward = True

    async def arrived(self) -> Command:
        """Wait (without blocking the event loop) until the command reaches the proxy."""
        if not await asyncio.to_thread(self._arrived.wait, PATIENCE):
            raise AssertionError(f"no command matching the hold arrived within {PATIENCE} s")
        assert self.command is not None
        return self.command

    def wait(self) -> Command:
        """Block until the command reaches the proxy (for a test that is not async)."""
        if not self._arrived.wait(PATIENCE):
            raise AssertionError(f"no command matching the hold arrived within {PATIENCE} s")
        assert self.command is not None
        return self.command

    def release(self) -> None:
        """Send the command on to the database (and let everything after it through)."""
        self._decided.set()

    def drop(self) -> None:
        """Never send it: its connection is closed, as if the app had died before sending it."""
        self._forward = False
        self._decided.set()

    def _take(self, command: Command) -> bool:
        """In the proxy's thread: hold `command`; whether to forward it."""
        self.command = command
        self._arrived.set()
        self._decided.wait()
        return self._forward


class WireProxy:
    """Listens on a loopback port and forwards to `upstream` (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.commands: list[Command] = []
        self._holds: list[Held] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._closed = False

    @property
    def url(self) -> str:
        """A URL for the app: straight to the proxy (a replica set's member list would
        lead the driver around it to the database itself), no retried writes."""
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true&retryWrites=false"

    def start(self) -> Self:
        threading.Thread(target=self._accept, name="wire-proxy", daemon=True).start()
        return self

    def close(self) -> None:
        self._closed = True
        with self._lock:
            holds, sockets = list(self._holds), list(self._sockets)
        for hold in holds:
            hold.release()
        self._listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def hold(self, matches: Callable[[Command], bool]) -> Held:
        """Hold the next command for which `matches` is true (once)."""
        held = Held(matches)
        with self._lock:
            self._holds.append(held)
        return held

    def writes(self) -> list[Command]:
        with self._lock:
            return [command for command in self.commands if command.is_write]

    def forget(self) -> None:
        with self._lock:
            self.commands.clear()

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Command]]:
        """The commands sent while the block runs."""
        seen: list[Command] = []
        with self._lock:
            start = len(self.commands)
        yield seen
        with self._lock:
            seen.extend(self.commands[start:])

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, server}
            threading.Thread(target=self._requests, args=(client, server), daemon=True).start()
            threading.Thread(target=self._replies, args=(server, client), daemon=True).start()

    def _requests(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while True:
                message = _read_message(client)
                if message is None:
                    break
                command = decode(message)
                if command is not None and not self._let_through(command):
                    break
                server.sendall(message)
        except OSError:
            pass
        finally:
            self._hang_up(client, server)

    def _replies(self, server: socket.socket, client: socket.socket) -> None:
        try:
            while chunk := server.recv(65536):
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            self._hang_up(client, server)

    def _let_through(self, command: Command) -> bool:
        with self._lock:
            self.commands.append(command)
            held = next((hold for hold in self._holds if hold.matches(command)), None)
            if held is not None:
                self._holds.remove(held)
        return held is None or held._take(command)

    def _hang_up(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            with self._lock:
                self._sockets.discard(sock)


def _read_message(sock: socket.socket) -> bytes | None:
    header = _read_exactly(sock, 4)
    if header is None:
        return None
    (length,) = struct.unpack("<i", header)
    rest = _read_exactly(sock, length - 4)
    return None if rest is None else header + rest


def _read_exactly(sock: socket.socket, count: int) -> bytes | None:
    chunks, remaining = [], count
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
