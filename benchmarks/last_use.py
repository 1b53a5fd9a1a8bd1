"""What marking sessions as used costs an authenticated query.

Every authenticated request runs the SessionUsed sync (its `where` reuses the flow's
`Sessioning._getUser` row and lets through only a session last used a minute ago or
more), so `lastUsedAt` costs one write a minute per session. This runs the real app's
request handler twice in one process on one embedded database, with and without that
sync, and interleaves rounds of `usernameById` so a busy machine slows both alike;
it prints this process's CPU per request for each, and their ratio.

    .venv/bin/python -m benchmarks.last_use [--rounds 10] [--requests 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from app.database import EmbeddedDatabase
from app.parts import discover
from app.server import services
from app.settings import Settings

ORIGIN = {"client": "203.0.113.7", "userAgent": "benchmark/1.0"}
PATH = "/UserAuthentication/_getUsernameById"


async def run(rounds: int, requests: int) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        mongodb_db="bench",
        jwt_secret=secrets.token_urlsafe(48),
        argon2_memory_kib=1024,
        argon2_time_cost=1,
    )
    with tempfile.TemporaryDirectory() as tmp, EmbeddedDatabase(Path(tmp) / "db") as database:
        parts = discover()
        marking = await services.start(settings, database.url, services.assemble(settings, parts))
        unused = replace(parts, syncs=tuple(sync for sync in parts.syncs if sync.name != "SessionUsed"))
        unmarked = await services.start(settings, database.url, services.assemble(settings, unused))
        sides = {"without SessionUsed": unmarked, "with SessionUsed": marking}
        try:
            credentials = {"username": "bench", "password": "password123", **ORIGIN}
            registered = (await marking.handler.handle("/UserAuthentication/register", credentials)).body
            inputs = {"session": registered["session"], "user": registered["user"], **ORIGIN}
            for side in sides.values():
                for _ in range(300):
                    assert (await side.handler.handle(PATH, inputs)).body["username"] == "bench"
            cpu: dict[str, list[float]] = {name: [] for name in sides}
            for round in range(rounds):
                for name in sorted(sides, reverse=round % 2 == 1):
                    started = time.process_time()
                    for _ in range(requests):
                        await sides[name].handler.handle(PATH, inputs)
                    cpu[name].append((time.process_time() - started) / requests * 1000)
        finally:
            await marking.close()  # first: Beanie is bound to the client started last
            await unmarked.close()
    print(f"usernameById through the app's handler, {rounds} interleaved rounds of {requests} requests")
    for name, figures in cpu.items():
        print(f"{name:<22} CPU ms/req median {statistics.median(figures):.3f} (min {min(figures):.3f})")
    ratio = statistics.median(cpu["with SessionUsed"]) / statistics.median(cpu["without SessionUsed"])
    print(f"with/without {ratio:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=1500)
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.requests))


if __name__ == "__main__":
    main()
