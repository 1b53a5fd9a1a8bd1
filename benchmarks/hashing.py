"""Password hashing cost with the configured argon2id parameters, and what it does to the event loop.

    .venv/bin/python -m benchmarks.hashing [--runs 20] [--logins 8] [--tick-ms 10]

Reads ARGON2_MEMORY_KIB / ARGON2_TIME_COST / ARGON2_PARALLELISM like the server
(`app.settings.Settings()`; defaults 19 MiB, t=2, p=1). Prints the median time of
one hash and of one verification, a wrong password against an unknown user's dummy
verification (about equal, so timing does not reveal who exists), then runs `--logins` verifications at once
through `PasswordHasher` (as concurrent logins would) while a ticker sleeps
`--tick-ms` at a time, and prints how late the ticker woke at worst: the time the
event loop could not serve anyone else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

from app.concepts.user_authentication import PasswordHasher
from app.settings import Settings

PASSWORD = "correct horse battery staple"


async def median_ms(runs: int, action: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def loop_lag(hasher: PasswordHasher, hashed: str, logins: int, tick: float) -> tuple[float, float, int, float]:
    """(worst lag ms, median lag ms, ticks, wall ms) of a ticker while `logins` verifications run at once."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(tick)
            lags.append((time.perf_counter() - before - tick) * 1000)

    async def verify_all() -> None:
        try:
            results = await asyncio.gather(*(hasher.verify(PASSWORD, hashed) for _ in range(logins)))
            assert all(matches for matches, _ in results)
        finally:
            done.set()

    started = time.perf_counter()
    await asyncio.gather(ticker(), verify_all())
    wall = (time.perf_counter() - started) * 1000
    return max(lags), statistics.median(lags), len(lags), wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="runs per median (default 20)")
    parser.add_argument("--logins", type=int, default=8, help="concurrent verifications (default 8)")
    parser.add_argument("--tick-ms", type=float, default=10.0, help="ticker period in ms (default 10)")
    args = parser.parse_args()

    settings = Settings()
    hasher = PasswordHasher(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    hashed = await hasher.hash(PASSWORD)  # warm-up, and the hash to verify
    print(
        f"parameters: argon2id m={settings.argon2_memory_kib} KiB t={settings.argon2_time_cost} "
        f"p={settings.argon2_parallelism}; cpus={os.cpu_count()}"
    )
    print(f"hash format: {hashed.rsplit('$', 2)[0]}$...")

    hash_ms = await median_ms(args.runs, lambda: hasher.hash(PASSWORD))
    verify_ms = await median_ms(args.runs, lambda: hasher.verify(PASSWORD, hashed))
    print(f"hash (median of {args.runs}):   {hash_ms:8.1f} ms")
    print(f"verify (median of {args.runs}): {verify_ms:8.1f} ms")
    await hasher.verify_nothing("warm up the dummy hash")
    wrong_ms = await median_ms(args.runs, lambda: hasher.verify("wrong password", hashed))
    unknown_ms = await median_ms(args.runs, lambda: hasher.verify_nothing("wrong password"))
    print(
        f"wrong password {wrong_ms:.1f} ms, unknown user {unknown_ms:.1f} ms (median of {args.runs}): "
        f"ratio {unknown_ms / wrong_ms:.2f} (about 1: a login does not tell whether the user exists)"
    )

    worst, median, ticks, wall = await loop_lag(hasher, hashed, args.logins, args.tick_ms / 1000)
    print(f"{args.logins} concurrent logins: {wall:8.1f} ms wall ({wall / args.logins:.1f} ms per login)")
    print(f"event loop lag, {args.tick_ms:g} ms ticker during them: worst {worst:.1f} ms, median {median:.1f} ms")
    print(f"  ({ticks} ticks; a hash on the loop would stall it ~{verify_ms:.0f} ms per login)")


if __name__ == "__main__":
    asyncio.run(main())
