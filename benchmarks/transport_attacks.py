"""What each transport attack costs the server: its memory before, during and after.

    .venv/bin/python -m benchmarks.transport_attacks [--root DIR] [--quick]

Starts `python -m app` (from `--root`, default this checkout, with that checkout's
.venv) on the embedded database, then, one after the other:

- trailers: 4 connections each send a small chunked body, then 100 MiB of trailer fields;
- slow clients: 200 connections drip a request head, a byte every 10 s, for 25 s;
- journal flood: 3000 failed requests (`/api/logout` with no session) from one client;
- session flood: 40 clients log in to one account as fast as they can for 10 s (after
  a few logins, so the hashing threads' argon2 memory is in the figure before).

For each it prints the app's RSS (its processes, not the database's) before, the
highest sampled during, and 2 s after, with what the attack left behind (answers,
connections still open, journal records, sessions) and the database's RSS. `--quick`
shrinks every attack (for checking that the benchmark works, not for figures). Run
it with `--root` at a checkout from before these defences to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from pymongo import MongoClient

from app.database.credentials import Credentials

from .header_flood import wait_healthy
from .live import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
CHUNKED = b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
QUERY = b'{"query": "{ me { id } }"}'


@dataclass
class Sizes:
    trailer_mib: int = 100
    trailer_clients: int = 4
    slow_clients: int = 200
    slow_seconds: float = 25.0
    failures: int = 3000
    login_clients: int = 40
    login_seconds: float = 10.0


QUICK = Sizes(trailer_mib=4, trailer_clients=2, slow_clients=20, slow_seconds=12.0, failures=300, login_seconds=2.0)


def app_processes(pid: int) -> list[psutil.Process]:
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return [p for p in processes if "secantus" not in " ".join(p.cmdline()).lower()]


def database_process(pid: int) -> psutil.Process:
    [daemon] = [p for p in psutil.Process(pid).children(recursive=True) if "secantus" in " ".join(p.cmdline()).lower()]
    return daemon


def rss_mib(processes: list[psutil.Process]) -> float:
    return sum(process.memory_info().rss for process in processes) / 2**20


class Sampler:
    """The highest RSS of the app's processes, sampled every 50 ms while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.highest, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.highest = max(self.highest, rss_mib(app_processes(self.pid)))

    def __enter__(self) -> Sampler:
        self.highest = rss_mib(app_processes(self.pid))
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# -- the attacks -------------------------------------------------------------------------------


async def trailers(port: int, sizes: Sizes) -> str:
    async def one() -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(CHUNKED + b"%x\r\n" % len(QUERY) + QUERY + b"\r\n0\r\n")
            line = b"X-Pad: " + b"a" * (2**20 - 10) + b"\r\n"
            for _ in range(sizes.trailer_mib):
                writer.write(line)
                await writer.drain()
            writer.write(b"\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(100), 120)
        except (ConnectionError, TimeoutError):
            answer = b""
        writer.close()
        return answer.split(b"\r\n", 1)[0].decode(errors="replace") or "(closed by the server)"

    answers = await asyncio.gather(*(one() for _ in range(sizes.trailer_clients)))
    return "answers: " + ", ".join(sorted(set(answers)))


async def slow_clients(port: int, sizes: Sizes) -> str:
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"X-Slow: " + b"s" * 4000 + b"\r\n\r\n"
    closed = 0

    async def one() -> None:
        nonlocal closed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        deadline = time.monotonic() + sizes.slow_seconds
        try:
            for byte in head:
                writer.write(bytes([byte]))
                await writer.drain()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                if await asyncio.wait_for(reader.read(1), min(10.0, remaining)) == b"":
                    break
        except TimeoutError:
            return
        except ConnectionError:
            pass
        closed += 1  # the server answered or closed before we were done
        writer.close()

    await asyncio.gather(*(one() for _ in range(sizes.slow_clients)))
    return f"ended by the server within {sizes.slow_seconds:.0f} s: {closed} of {sizes.slow_clients}"


async def journal_flood(port: int, sizes: Sizes, records: Callable[[], int]) -> str:
    before = records()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:

        async def worker(count: int) -> None:
            for _ in range(count):
                await http.post("/api/logout", json={"session": "not a session"})

        await asyncio.gather(*(worker(sizes.failures // 16) for _ in range(16)))
    await asyncio.sleep(1)  # the journal writes behind the answers
    return f"journal records added: {records() - before} for {sizes.failures // 16 * 16} failures"


async def warm_up(port: int, username: str) -> None:
    """Register the flood's account and log in as many times at once as there are cores,
    so the hashing threads' argon2 memory (19 MiB each, kept once used) is in the
    figure before the flood, not counted as its cost."""
    body = {"username": username, "password": PASSWORD}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        await http.post("/api/UserAuthentication/register", json=body)
        await asyncio.gather(*(http.post("/api/login", json=body) for _ in range(os.cpu_count() or 1)))


async def session_flood(port: int, sizes: Sizes, username: str, sessions: Callable[[str], int]) -> str:
    body = {"username": username, "password": PASSWORD}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        user = (await http.post("/api/UserAuthentication/authenticate", json=body)).json()["user"]
        logins = 0

        async def worker(deadline: float) -> None:
            nonlocal logins
            while time.monotonic() < deadline:
                if (await http.post("/api/login", json=body)).status_code == 200:
                    logins += 1

        deadline = time.monotonic() + sizes.login_seconds
        await asyncio.gather(*(worker(deadline) for _ in range(sizes.login_clients)))
        started = time.perf_counter()
        await http.post("/api/login", json=body)
        ms = (time.perf_counter() - started) * 1000
    return f"logins: {logins}, live sessions left: {sessions(user)}, a login after it: {ms:.0f} ms"


# -- running them ------------------------------------------------------------------------------


def database_client(data: str, pid: int) -> MongoClient[dict[str, Any]]:
    """The embedded database, signed in if the app generated credentials (older ones did not)."""
    daemon = database_process(pid)
    port = min(c.laddr.port for c in daemon.net_connections("tcp") if c.status == psutil.CONN_LISTEN)
    credentials = Credentials.read(Path(data) / "db.credentials")
    url = credentials.url("127.0.0.1", port) if credentials else f"mongodb://127.0.0.1:{port}/?retryWrites=false"
    return MongoClient(url, directConnection=True)


def measure(name: str, pid: int, attack: Awaitable[str]) -> None:
    before = rss_mib(app_processes(pid))
    with Sampler(pid) as sampler:
        outcome = asyncio.run(attack)  # type: ignore[arg-type]
    time.sleep(2)
    after = rss_mib(app_processes(pid))
    database = database_process(pid).memory_info().rss / 2**20
    print(
        f"{name:<14} app RSS {before:6.1f} -> highest {sampler.highest:6.1f} (+{sampler.highest - before:5.1f})"
        f" -> after {after:6.1f} MiB; database {database:6.1f} MiB; {outcome}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--quick", action="store_true", help="small attacks: to see that it works")
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "PORT": str(port),
            "DATA_DIR": data,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(args.root),
            "THROTTLE_USERNAME_FAILURES": "1000000",  # the session flood's logins are all in flight at once
            "THROTTLE_ADDRESS_FAILURES": "1000000",
        }
        server = subprocess.Popen([str(args.root / ".venv/bin/python"), "-m", "app"], cwd=args.root, env=env)
        try:
            wait_healthy(port)
            with database_client(data, server.pid) as client:
                db = client["concepts"]
                print(f"server: {args.root}")
                measure("trailers", server.pid, trailers(port, sizes))
                measure("slow clients", server.pid, slow_clients(port, sizes))
                records = lambda: db["Requesting.requests"].count_documents({})  # noqa: E731
                measure("journal flood", server.pid, journal_flood(port, sizes, records))
                sessions = lambda user: db["Sessioning.sessions"].count_documents({"user": user})  # noqa: E731
                username = f"flood{os.getpid()}"
                asyncio.run(warm_up(port, username))
                measure("session flood", server.pid, session_flood(port, sizes, username, sessions))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
