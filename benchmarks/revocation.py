"""How long a revoked session is still accepted: two instances of the app (`python -m
app`, WORKERS each) on one database, the session cache on.

Each trial signs a user in, then uses the session over many keep-alive connections to
both instances (each connection is served by one worker, so every worker caches the
session), logs it out over one connection of the first instance, and from the moment
the logout is answered asks `{ me }` over every connection, again and again, until each
has refused the session. A connection's delay is the time from the logout's answer to
its first refusal (0: refused at once). Printed: the distribution over every
connection of every trial, the same for the connections of the instance that revoked
it, and how many were accepted past the bound (100 ms).

    .venv/bin/python -m benchmarks.revocation [--workers 3] [--connections 8] [--trials 50] [--cache-off]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from app.database import EmbeddedDatabase, free_port
from app.database.changes import BOUND

from .http_client import Connection
from .live import PASSWORD, app_environment, gql
from .peer import ready

ME = "{ me { id } }"
LOGOUT = "mutation { logout { ok } }"
AUTHENTICATE = """mutation($u: String!, $p: String!) {
  authenticate(username: $u, password: $p) { __typename ... on AuthSuccess { session } }
}"""
REGISTER = """mutation($u: String!, $p: String!) { register(username: $u, password: $p) { __typename } }"""


@contextmanager
def instance(name: str, env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "app"], env={**env, "PORT": str(port), "WORKERS": str(workers)})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def accepted(connection: Connection, token: str) -> bool:
    status, body = await connection.post_json("/graphql", {"query": ME}, {"Authorization": f"Bearer {token}"})
    assert status == 200, body
    return body["data"]["me"] is not None


async def refused_after(connection: Connection, token: str, since: float, patience: float = 5.0) -> float:
    """Seconds from `since` to the sending of the first request that refused `token`
    over `connection` (about 0 for one refused at once)."""
    while True:
        asked = time.perf_counter()
        if not await accepted(connection, token):
            return max(asked - since, 0.0)
        if asked - since > patience:
            raise RuntimeError(f"a revoked session was still accepted after {patience} s")


def summary(delays: list[float]) -> str:
    ms = sorted(d * 1000 for d in delays)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    late = sum(1 for d in ms if d > BOUND * 1000)
    return (
        f"{len(ms)} refusals: p50 {cuts[49]:.1f} ms, p90 {cuts[89]:.1f} ms, p99 {cuts[98]:.1f} ms, "
        f"max {ms[-1]:.1f} ms; past the bound ({BOUND * 1000:.0f} ms): {late}"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-revocation-") as tmp, ExitStack() as stack:
        database = stack.enter_context(EmbeddedDatabase(Path(tmp) / "db"))
        env = app_environment(database, "revocation", tmp)
        env["SESSION_CACHE"] = "off" if args.cache_off else "on"
        urls = [stack.enter_context(instance(name, env, args.workers)) for name in ("a", "b")]
        for url in urls:
            await ready(url)
        setup = await Connection.open(urls[0])
        await gql(setup, REGISTER, u="revoked", p=PASSWORD)
        connections = [[await Connection.open(url) for _ in range(args.connections)] for url in urls]
        revoker = connections[0][0]
        here: list[float] = []
        elsewhere: list[float] = []
        worst: list[float] = []
        print(
            f"revocation: 2 instances x {args.workers} workers on one database, {args.connections} connections "
            f"each, {args.trials} trials, session cache {'off' if args.cache_off else 'on'}"
        )
        for _ in range(args.trials):
            token = (await gql(setup, AUTHENTICATE, u="revoked", p=PASSWORD))["authenticate"]["session"]
            for _ in range(3):  # every connection (and so every worker) uses it, and caches it
                for connection in [c for group in connections for c in group]:
                    assert await accepted(connection, token)
            status, body = await revoker.post_json("/graphql", {"query": LOGOUT}, {"Authorization": f"Bearer {token}"})
            since = time.perf_counter()
            assert status == 200 and body["data"]["logout"]["ok"], body
            delays = await asyncio.gather(*(refused_after(c, token, since) for group in connections for c in group))
            here += delays[: args.connections]
            elsewhere += delays[args.connections :]
            worst.append(max(delays))
        print(f"the instance that revoked it:  {summary(here)}")
        print(f"the other instance:            {summary(elsewhere)}")
        print(f"the last refusal of each trial: {summary(worst)}")
        for group in connections:
            for connection in group:
                await connection.close()
        await setup.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3, help="WORKERS of each instance")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections to each instance")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--cache-off", action="store_true", help="SESSION_CACHE=off (every refusal at once)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
