"""Are password logins of users without a second factor as fast as in another checkout?
`authenticate` (each client signing in as its own user, who has no authenticator app)
against two live apps on one embedded database: this checkout's and `--against`'s (a
git worktree of an earlier commit, say: the one before the second factor's guard joined
every password sign-in's session gate). The machine is shared, so the apps take turns,
round after round, who goes first alternating; the figures are the medians over rounds
of each app's server CPU per request and throughput, and of each round's ratios.

    git worktree add --detach /tmp/before <commit>
    .venv/bin/python -m benchmarks.logins --against /tmp/before [--requests 600] [--rounds 6] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from app.database import EmbeddedDatabase

from .http_client import Connection
from .live import PASSWORD, gql, wait_ready
from .live import app_environment as environment
from .load import drive
from .reads import ROOT, start, take_turns

REGISTER = """mutation($u: String!, $p: String!) {
  register(username: $u, password: $p) { __typename }
}"""
AUTHENTICATE = """mutation($u: String!, $p: String!) {
  authenticate(username: $u, password: $p) { __typename ... on AuthSuccess { session } }
}"""


async def run(against: Path, requests: int, rounds: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
        env = environment(database, "bench", tmp)
        servers = {
            "this checkout": start("this checkout", ROOT, env, database, "bench_this"),
            "--against": start("--against", against, env, database, "bench_against"),
        }
        try:
            for server in servers.values():
                await wait_ready(server)
                setup = await Connection.open(server.url)
                for k in range(concurrency):
                    await gql(setup, REGISTER, u=f"login_user_{k}", p=PASSWORD)
                await setup.close()

            def logging_in():  # type: ignore[no-untyped-def]
                logins: dict[int, str] = {}

                async def authenticate(connection: Connection, _: int) -> object:
                    username = logins.setdefault(id(connection), f"login_user_{len(logins)}")
                    data = await gql(connection, AUTHENTICATE, u=username, p=PASSWORD)
                    assert data["authenticate"]["__typename"] == "AuthSuccess", data
                    return data

                return authenticate

            for server in servers.values():
                await drive("warm-up", server, 100, concurrency, logging_in())
            print(f"authenticate, no second factor, {concurrency} clients, {rounds} rounds of {requests}, vs {against}")
            await take_turns(servers, rounds, requests, concurrency, lambda _: logging_in())
        finally:
            for server in servers.values():
                server.process.terminate()
                server.process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", type=Path, required=True, help="another checkout of this repository")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.against.resolve(), args.requests, args.rounds, args.concurrency))


if __name__ == "__main__":
    main()
