"""End-to-end load against a live server on loopback.

Starts an embedded database, the app (`python -m app`) and the baseline server
(benchmarks/baseline.py: the same reads in a plain resolver), then drives each with
N concurrent clients and prints requests/s, p50/p99 latency and the server process's
CPU milliseconds per request.

    .venv/bin/python -m benchmarks.load [--requests 3000] [--concurrency 16]

With --observability it instead measures what metrics and tracing cost
(benchmarks/observability.py), with --durability what durable writes cost
(benchmarks/durability.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from app.database import EmbeddedDatabase

from .http_client import Connection
from .live import PASSWORD, Server, app_environment, cpu_seconds, gql, percentiles, start, wait_ready

REGISTER = """mutation($u: String!, $p: String!) {
  register(username: $u, password: $p) { __typename ... on AuthSuccess { user { id } session } }
}"""
AUTHENTICATE = """mutation($u: String!, $p: String!) {
  authenticate(username: $u, password: $p) { __typename ... on AuthSuccess { session } }
}"""
USERNAME_BY_ID = "query($id: ID!) { usernameById(user: $id) }"


@dataclass
class Result:
    name: str
    latencies: list[float]
    seconds: float
    cpu_ms: float
    database_cpu_ms: float
    client_cpu_ms: float
    failures: int

    def line(self) -> str:
        ms = self.latencies
        p50, p99 = percentiles(ms)
        return (
            f"{self.name:<28} {len(ms):>6} req  {len(ms) / self.seconds:>8.0f} req/s  "
            f"p50 {p50:>6.1f} ms  p99 {p99:>6.1f} ms  CPU ms/req: server {self.cpu_ms / len(ms):.2f}, "
            f"database {self.database_cpu_ms / len(ms):.2f}, load client {self.client_cpu_ms / len(ms):.2f}  "
            f"failures {self.failures}"
        )

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)


async def drive(
    name: str, server: Server, count: int, concurrency: int, call: Callable[[Connection, int], Awaitable[object]]
) -> Result:
    """`count` calls from `concurrency` clients, each on its own keep-alive connection."""
    numbers = itertools.count()
    latencies: list[float] = []
    failures = 0
    connections = [await Connection.open(server.url) for _ in range(concurrency)]

    async def worker(connection: Connection) -> None:
        nonlocal failures
        while (i := next(numbers)) < count:
            started = time.perf_counter()
            try:
                await call(connection, i)
            except Exception:
                failures += 1
            latencies.append((time.perf_counter() - started) * 1000)

    cpu, database_cpu, client_cpu = server.cpu_seconds(), cpu_seconds(server.database_pid), cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(worker(connection) for connection in connections))
    for connection in connections:
        await connection.close()
    return Result(
        name,
        latencies,
        time.perf_counter() - started,
        (server.cpu_seconds() - cpu) * 1000,
        (cpu_seconds(server.database_pid) - database_cpu) * 1000,
        (cpu_seconds() - client_cpu) * 1000,
        failures,
    )


async def run(requests: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
        env = app_environment(database, "bench", tmp)
        app = start("app", "app", env, database)
        baseline = start("baseline", "benchmarks.baseline", env, database)
        try:
            await wait_ready(app)
            await wait_ready(baseline)
            setup = await Connection.open(app.url)
            data = await gql(setup, REGISTER, u="bench_user", p=PASSWORD)
            user, token = data["register"]["user"]["id"], data["register"]["session"]
            # One user per client: a username's logins are throttled, and the attempts in
            # flight count (at most THROTTLE_USERNAME_FAILURES at once), as a guesser's would.
            for k in range(concurrency):
                await gql(setup, REGISTER, u=f"login_user_{k}", p=PASSWORD)
            await setup.close()
            logins: dict[int, str] = {}

            async def username_by_id(connection: Connection, _: int) -> object:
                return await gql(connection, USERNAME_BY_ID, token, id=user)

            async def authenticate(connection: Connection, _: int) -> object:
                username = logins.setdefault(id(connection), f"login_user_{len(logins)}")
                data = await gql(connection, AUTHENTICATE, u=username, p=PASSWORD)
                assert data["authenticate"]["__typename"] == "AuthSuccess"
                return data

            async def register(connection: Connection, i: int) -> object:
                data = await gql(connection, REGISTER, u=f"user_{i}", p=PASSWORD)
                assert data["register"]["__typename"] == "AuthSuccess"
                return data

            await drive("warm-up", app, 300, concurrency, username_by_id)
            await drive("warm-up", baseline, 300, concurrency, username_by_id)
            rss_before = app.rss_mb()
            print(f"live server on loopback, {concurrency} concurrent clients, embedded database")
            engine = await drive("usernameById (engine)", app, requests, concurrency, username_by_id)
            print(engine.line())
            plain = await drive("usernameById (baseline)", baseline, requests, concurrency, username_by_id)
            print(plain.line())
            print(f"{'engine/baseline p50':<28} {engine.p50 / plain.p50:.2f}x")
            light = max(requests // 10, 50)
            print((await drive("authenticate", app, light, concurrency, authenticate)).line())
            print((await drive("register", app, light, concurrency, register)).line())
            print(f"app RSS {rss_before:.1f} MB -> {app.rss_mb():.1f} MB")
        finally:
            for server in (app, baseline):
                server.process.terminate()
                server.process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests of the query workloads")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--observability", action="store_true", help="metrics off vs on vs on with tracing")
    parser.add_argument(
        "--durability", action="store_true", help="durable writes vs not: authenticate, register, a read"
    )
    parser.add_argument(
        "--before", type=Path, help="with --durability: also run the app of the checkout in this directory"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="turns each app takes (with --observability, --durability)"
    )
    args = parser.parse_args()
    if args.durability:
        from . import durability

        asyncio.run(durability.run(args.rounds, args.concurrency, args.requests, args.before))
    elif args.observability:
        from . import observability

        asyncio.run(observability.run(args.requests, args.rounds, args.concurrency))
    else:
        asyncio.run(run(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
