"""A realistic mix at 64 concurrent clients against the live app on loopback.

Each client plays users' journeys: register, a run of authenticated queries, now and
then a password change, log out, authenticate again, more queries, log out. Prints
requests/s and p50/p99 per operation, the 5xx count, whether the users in the
database equal the successful registrations, the app's RSS before and after, and
the CPU milliseconds per request of the app, the database and the load client.

    .venv/bin/python -m benchmarks.mix [--requests 20000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pymongo import MongoClient

from app.database import EmbeddedDatabase

from .http_client import Connection
from .live import PASSWORD, app_environment, cpu_seconds, percentiles, start, wait_ready

QUERIES = {
    "register": "mutation($u: String!, $p: String!) { register(username: $u, password: $p) "
    "{ __typename ... on AuthSuccess { user { id } session } } }",
    "authenticate": "mutation($u: String!, $p: String!) { authenticate(username: $u, password: $p) "
    "{ __typename ... on AuthSuccess { session } } }",
    "me": "{ me { id username } }",
    "usernameById": "query($id: ID!) { usernameById(user: $id) }",
    "checkUserExists": "query($id: ID!) { checkUserExists(user: $id) }",
    "allUsers": "{ allUsers(first: 20) { id username } }",
    "changePassword": "mutation($o: String!, $n: String!) { changePassword(oldPassword: $o, newPassword: $n) "
    "{ __typename } }",
    "logout": "mutation { logout { ok } }",
}
QUERY_KINDS = ["me"] * 7 + ["usernameById"] * 7 + ["checkUserExists"] * 4 + ["allUsers"] * 2
"""Authenticated queries, weighted: listing all users is the rare one."""


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.server_errors = 0
        self.failures: dict[str, int] = defaultdict(int)
        self.registered = 0
        self.count = 0


async def call(connection: Connection, stats: Stats, kind: str, token: str | None = None, **variables: object) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    status, body = await connection.post_json("/graphql", {"query": QUERIES[kind], "variables": variables}, headers)
    stats.latencies[kind].append((time.perf_counter() - started) * 1000)
    stats.count += 1
    if status >= 500:
        stats.server_errors += 1
    if status != 200 or body.get("errors"):
        stats.failures[kind] += 1
        return {}
    return body["data"]  # type: ignore[no-any-return]


async def journey(connection: Connection, stats: Stats, name: str, rng: random.Random) -> None:
    data = await call(connection, stats, "register", u=name, p=PASSWORD)
    if data.get("register", {}).get("__typename") != "AuthSuccess":
        return
    stats.registered += 1
    user, token = data["register"]["user"]["id"], data["register"]["session"]
    password = PASSWORD
    for _ in range(rng.randint(4, 10)):
        await call(connection, stats, rng.choice(QUERY_KINDS), token, id=user)
    if rng.random() < 0.25:
        changed = await call(connection, stats, "changePassword", token, o=password, n=password + "!")
        if changed.get("changePassword", {}).get("__typename") == "ChangePasswordSuccess":
            password += "!"
    await call(connection, stats, "logout", token)
    data = await call(connection, stats, "authenticate", u=name, p=password)
    token = data.get("authenticate", {}).get("session")
    if token:
        for _ in range(rng.randint(2, 6)):
            await call(connection, stats, rng.choice(QUERY_KINDS), token, id=user)
        await call(connection, stats, "logout", token)


async def run(requests: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
        env = app_environment(database, "mix", tmp)
        app = start("app", "app", env, database)
        try:
            await wait_ready(app)
            stats = Stats()
            names = itertools.count()
            connections = [await Connection.open(app.url) for _ in range(concurrency)]

            async def client(connection: Connection, seed: int) -> None:
                rng = random.Random(seed)
                while stats.count < requests:
                    await journey(connection, stats, f"mix_{next(names)}", rng)

            rss_before = app.rss_mb()
            cpu, database_cpu, client_cpu = app.cpu_seconds(), cpu_seconds(database.pid), cpu_seconds()
            started = time.perf_counter()
            await asyncio.gather(*(client(connection, seed) for seed, connection in enumerate(connections)))
            elapsed = time.perf_counter() - started
            app_ms = (app.cpu_seconds() - cpu) * 1000 / stats.count
            database_ms = (cpu_seconds(database.pid) - database_cpu) * 1000 / stats.count
            client_ms = (cpu_seconds() - client_cpu) * 1000 / stats.count
            for connection in connections:
                await connection.close()
            with MongoClient(database.url) as mongo:
                users = mongo["mix"]["UserAuthentication.users"].count_documents({})

            print(f"mix at {concurrency} concurrent clients: {stats.count} requests in {elapsed:.1f} s")
            print(f"{'operation':<16} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'failed':>6}")
            for kind, latencies in sorted(stats.latencies.items()):
                p50, p99 = percentiles(latencies)
                print(
                    f"{kind:<16} {len(latencies):>8} {len(latencies) / elapsed:>7.0f} {p50:>8.1f} "
                    f"{p99:>8.1f} {stats.failures[kind]:>6}"
                )
            print(f"{'all':<16} {stats.count:>8} {stats.count / elapsed:>7.0f}")
            print(f"5xx responses: {stats.server_errors}")
            print(f"users in the database: {users}; successful registrations: {stats.registered}")
            print(f"app RSS: {rss_before:.1f} MB -> {app.rss_mb():.1f} MB")
            print(f"CPU ms/request: app {app_ms:.2f}, database {database_ms:.2f}, load client {client_ms:.2f}")
        finally:
            app.process.terminate()
            app.process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
