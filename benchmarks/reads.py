"""Are authenticated reads as fast as in another checkout? The authenticated
`usernameById` query against two live apps on one embedded database: this checkout's
and `--against`'s (a git worktree of an earlier commit, say). The machine is shared,
so the apps take turns, round after round, who goes first alternating; the figures
are the medians over rounds of each app's server CPU per request and throughput, and
of each round's ratios.

    git worktree add --detach /tmp/before <commit>
    .venv/bin/python -m benchmarks.reads --against /tmp/before [--requests 2000] [--rounds 6] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from app.database import EmbeddedDatabase, free_port

from .http_client import Connection
from .live import PASSWORD, Server, app_environment, gql, wait_ready
from .load import drive

ROOT = Path(__file__).resolve().parents[1]
REGISTER = """mutation($u: String!, $p: String!) {
  register(username: $u, password: $p) { __typename ... on AuthSuccess { user { id } session } }
}"""
USERNAME_BY_ID = "query($id: ID!) { usernameById(user: $id) }"


def start(name: str, root: Path, env: dict[str, str], database: EmbeddedDatabase, db_name: str) -> Server:
    """`python -m app` of the checkout at `root`, with this interpreter (same dependencies)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=root,
        env={**env, "PORT": str(port), "MONGODB_DB": db_name, "PYTHONPATH": str(root)},
    )
    return Server(name, process, f"http://127.0.0.1:{port}", database.pid)


Call = Callable[[Connection, int], Awaitable[object]]


async def take_turns(
    servers: dict[str, Server], rounds: int, requests: int, concurrency: int, calls: Callable[[str], Call]
) -> None:
    """The two servers take turns, round after round (who goes first alternates); prints
    each round, each server's medians, and this checkout's over the other's."""
    cpu: dict[str, list[float]] = {name: [] for name in servers}
    throughput: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for i in range(rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            result = await drive(name, servers[name], requests, concurrency, calls(name))
            assert result.failures == 0, f"{name}: {result.failures} failures"
            cpu[name].append(result.cpu_ms / len(result.latencies))
            throughput[name].append(len(result.latencies) / result.seconds)
            print(f"  round {i + 1} {result.line()}")
    for name in servers:
        print(
            f"{name:<14} server CPU {statistics.median(cpu[name]):.3f} ms/req (median), "
            f"{statistics.median(throughput[name]):.0f} req/s"
        )
    this, other = names
    cpu_ratio = statistics.median(a / b for a, b in zip(cpu[this], cpu[other], strict=True))
    rate_ratio = statistics.median(a / b for a, b in zip(throughput[this], throughput[other], strict=True))
    print(
        f"this / --against, median of the rounds' ratios: server CPU per request {cpu_ratio:.3f} "
        f"({cpu_ratio - 1:+.1%}), throughput {rate_ratio:.3f} ({rate_ratio - 1:+.1%})"
    )


async def run(against: Path, requests: int, rounds: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
        env = app_environment(database, "bench", tmp)
        servers = {
            "this checkout": start("this checkout", ROOT, env, database, "bench_this"),
            "--against": start("--against", against, env, database, "bench_against"),
        }
        try:
            sessions: dict[str, tuple[str, str]] = {}
            for name, server in servers.items():
                await wait_ready(server)
                setup = await Connection.open(server.url)
                data = await gql(setup, REGISTER, u="bench_user", p=PASSWORD)
                await setup.close()
                sessions[name] = data["register"]["user"]["id"], data["register"]["session"]

            def reading(name: str):  # type: ignore[no-untyped-def]
                user, token = sessions[name]

                async def username_by_id(connection: Connection, _: int) -> object:
                    return await gql(connection, USERNAME_BY_ID, token, id=user)

                return username_by_id

            for name, server in servers.items():
                await drive("warm-up", server, 300, concurrency, reading(name))
            print(
                f"usernameById, authenticated, {concurrency} clients, {rounds} rounds of {requests}, against {against}"
            )
            await take_turns(servers, rounds, requests, concurrency, reading)
        finally:
            for server in servers.values():
                server.process.terminate()
                server.process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", type=Path, required=True, help="another checkout of this repository")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.against.resolve(), args.requests, args.rounds, args.concurrency))


if __name__ == "__main__":
    main()
