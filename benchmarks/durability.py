"""What durable writes cost: `authenticate`, `register` and an authenticated read
(`usernameById`) against live apps on one database (SecantusDB on disk, as the
embedded one), with durable writes (the default) and without (`w=1&journal=false` in
MONGODB_URL), argon2 at its default cost. The machine is shared, so the apps take
turns, round after round (who goes first rotates), and the figures are the medians
over rounds and of each round's ratios.

    .venv/bin/python -m benchmarks.load --durability [--rounds 5] [--concurrency 16] [--requests 2000]
        [--before DIR]   # a third app: the checkout in DIR (e.g. main before durable writes)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from app.database import EmbeddedDatabase, free_port

from .http_client import Connection
from .live import PASSWORD, Server, app_environment, gql, wait_ready

REGISTER = """mutation($u: String!, $p: String!) {
  register(username: $u, password: $p) { __typename ... on AuthSuccess { user { id } session } }
}"""
AUTHENTICATE = """mutation($u: String!, $p: String!) {
  authenticate(username: $u, password: $p) { __typename ... on AuthSuccess { session } }
}"""
USERNAME_BY_ID = "query($id: ID!) { usernameById(user: $id) }"

DURABLE, FAST = "durable (default)", "not durable"
WORKLOADS = ("authenticate", "register", "usernameById")


def not_durable(url: str) -> str:
    return f"{url}{'&' if '?' in url else '/?'}w=1&journal=false"


def start(name: str, env: dict[str, str], database: EmbeddedDatabase, root: Path | None = None) -> Server:
    """`python -m app` (from the checkout in `root`, if given) on a free port."""
    port = free_port()
    env = {**env, "PORT": str(port)}
    if root is not None:
        env["PYTHONPATH"] = str(root)
    process = subprocess.Popen([sys.executable, "-m", "app"], env=env, cwd=root)
    return Server(name, process, f"http://127.0.0.1:{port}", database.pid)


@dataclass
class Workloads:
    """The calls of each workload against one app, ready to drive."""

    calls: dict[str, Callable[[Connection, int], Awaitable[object]]]


async def prepare(server: Server, concurrency: int, tag: str) -> Workloads:
    setup = await Connection.open(server.url)
    data = await gql(setup, REGISTER, u=f"reader_{tag}", p=PASSWORD)
    user, token = data["register"]["user"]["id"], data["register"]["session"]
    # One user per client: a username's logins are throttled, and the attempts in flight count.
    for k in range(concurrency):
        await gql(setup, REGISTER, u=f"login_{tag}_{k}", p=PASSWORD)
    await setup.close()
    registered = iter(range(10**9))

    async def authenticate(connection: Connection, i: int) -> object:
        data = await gql(connection, AUTHENTICATE, u=f"login_{tag}_{i % concurrency}", p=PASSWORD)
        assert data["authenticate"]["__typename"] == "AuthSuccess", data
        return data

    async def register(connection: Connection, _: int) -> object:
        data = await gql(connection, REGISTER, u=f"new_{tag}_{next(registered)}", p=PASSWORD)
        assert data["register"]["__typename"] == "AuthSuccess", data
        return data

    async def username_by_id(connection: Connection, _: int) -> object:
        return await gql(connection, USERNAME_BY_ID, token, id=user)

    return Workloads({"authenticate": authenticate, "register": register, "usernameById": username_by_id})


async def measure(
    rounds: int, concurrency: int, requests: int, before: Path | None = None, show: Callable[[str], None] = print
) -> dict[str, dict[str, list[float]]]:
    """Requests per second of each workload against each app, one figure per round."""
    from .load import drive  # the load benchmark's client

    counts = {"authenticate": max(requests // 10, 50), "register": max(requests // 10, 50), "usernameById": requests}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
        base = app_environment(database, "bench", tmp)
        for name in ("ARGON2_MEMORY_KIB", "ARGON2_TIME_COST", "ARGON2_PARALLELISM"):
            base.pop(name, None)  # the default cost: a login's real work
        configs = {
            DURABLE: {**base, "MONGODB_DB": "durable"},
            FAST: {**base, "MONGODB_DB": "fast", "MONGODB_URL": not_durable(database.url)},
        }
        servers = {name: start(name, env, database) for name, env in configs.items()}
        if before is not None:
            env = {**base, "MONGODB_DB": "before", "DATA_DIR": os.path.join(tmp, "before")}
            servers[f"before ({before.name})"] = start("before", env, database, before)
        try:
            workloads = {}
            for tag, (name, server) in enumerate(servers.items()):
                await wait_ready(server)
                workloads[name] = await prepare(server, concurrency, f"a{tag}")
                await drive("warm-up", server, 200, concurrency, workloads[name].calls["usernameById"])
            throughput: dict[str, dict[str, list[float]]] = {name: {w: [] for w in WORKLOADS} for name in servers}
            names = list(servers)
            for i in range(rounds):
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    for workload in WORKLOADS:
                        call = workloads[name].calls[workload]
                        result = await drive(f"{name} {workload}", servers[name], counts[workload], concurrency, call)
                        assert result.failures == 0, f"{name} {workload}: {result.failures} failures"
                        throughput[name][workload].append(len(result.latencies) / result.seconds)
                    show(
                        f"  round {i + 1} {name:<24} "
                        + "  ".join(f"{w} {throughput[name][w][-1]:>6.0f}/s" for w in WORKLOADS)
                    )
            return throughput
        finally:
            for server in servers.values():
                server.process.terminate()
                server.process.wait(timeout=15)


def report(throughput: dict[str, dict[str, list[float]]], show: Callable[[str], None] = print) -> None:
    show(f"{'requests/s (median of rounds)':<32}" + "".join(f"{w:>16}" for w in WORKLOADS))
    for name, figures in throughput.items():
        show(f"{name:<32}" + "".join(f"{statistics.median(figures[w]):>16.1f}" for w in WORKLOADS))
    for name in throughput:
        if name == FAST:
            continue
        ratios = {
            w: statistics.median(a / b for a, b in zip(throughput[name][w], throughput[FAST][w], strict=True))
            for w in WORKLOADS
        }
        show(
            f"{name} / {FAST}, median of the rounds' ratios: "
            + ", ".join(f"{w} {ratio:.3f} ({ratio - 1:+.1%})" for w, ratio in ratios.items())
        )


async def run(rounds: int, concurrency: int, requests: int, before: Path | None) -> None:
    print(
        f"durable writes: {', '.join(WORKLOADS)} against apps taking turns, {rounds} rounds, "
        f"{concurrency} concurrent clients, argon2 at its default cost, SecantusDB on disk"
    )
    report(await measure(rounds, concurrency, requests, before))
