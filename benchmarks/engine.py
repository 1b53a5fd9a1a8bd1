"""Engine throughput and memory: request -> action -> respond flows on in-memory concepts.

    .venv/bin/python -m benchmarks.engine [--flows 100000] [--warmup 10000] [--other-syncs 50]
                                          [--chunks 10] [--profile]

Each flow is the shape of one API call: `Requesting.request` fires `Counter.increment`
(sync CountRequest), which completes the request/response pair (sync CountResponse,
matching both records, responds), and a third sync (CountMilestone) matches every
increment but its `where` lets only every 1000th one through. The second run adds
syncs on `Requesting.request` for other literal paths (`/other/0` ...), which the
engine's literal index should never even try for `/count`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TypedDict

import psutil

from app.engine import Engine, Sync, sync

# -- concepts -------------------------------------------------------------------------------


class RequestOut(TypedDict):
    request: str


class Requesting:
    """Requests and their responses; the driver takes each response away, as the API would."""

    def __init__(self) -> None:
        self.next_id = 0
        self.responses: dict[str, dict[str, Any]] = {}

    async def request(self, path: str, **inputs: Any) -> RequestOut:
        self.next_id += 1
        return {"request": f"r{self.next_id}"}

    async def respond(self, request: str, **response: Any) -> RequestOut:
        self.responses.setdefault(request, response)
        return {"request": request}


class CountOut(TypedDict):
    count: int


class Counter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def increment(self, counter: str) -> CountOut:
        self.counts[counter] = self.counts.get(counter, 0) + 1
        return {"count": self.counts[counter]}


class NotificationOut(TypedDict):
    notification: int


class Notification:
    def __init__(self) -> None:
        self.sent = 0

    async def notify(self, message: str, count: int) -> NotificationOut:
        self.sent += 1
        return {"notification": self.sent}


# -- syncs -----------------------------------------------------------------------------------


@sync
def CountRequest(request, counter):
    return Sync(
        when=[(Requesting.request, {"path": "/count", "counter": counter}, {"request": request})],
        then=[(Counter.increment, {"counter": counter})],
    )


@sync
def CountResponse(request, count):
    return Sync(
        when=[
            (Requesting.request, {"path": "/count"}, {"request": request}),
            (Counter.increment, {}, {"count": count}),
        ],
        then=[(Requesting.respond, {"request": request, "count": count})],
    )


@sync
def CountMilestone(count):
    return Sync(
        when=[(Counter.increment, {}, {"count": count})],
        where=lambda frames: frames.filter(lambda frame: frame[count] % 1000 == 0),
        then=[(Notification.notify, {"message": "milestone", "count": count})],
    )


def other_syncs(n: int) -> list[Sync]:
    """`n` request syncs, each for its own literal path, none of which /count can match."""

    def one(i: int) -> Sync:
        @sync(name=f"Other{i}")
        def other(request, counter):
            return Sync(
                when=[(Requesting.request, {"path": f"/other/{i}", "counter": counter}, {"request": request})],
                then=[(Counter.increment, {"counter": counter})],
            )

        return other

    return [one(i) for i in range(n)]


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Setup:
    """One engine under test, and what was measured on it."""

    label: str
    engine: Engine
    requesting: Requesting
    flows: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    chunk_cpu: list[float] = field(default_factory=list)
    rss_before: int = 0
    rss_after: int = 0

    @property
    def per_second(self) -> float:
        return self.flows / self.cpu

    @property
    def us_per_flow(self) -> float:
        return self.cpu / self.flows * 1e6

    @property
    def growth_mb(self) -> float:
        return (self.rss_after - self.rss_before) / 2**20


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def build(label: str, other: int) -> Setup:
    requesting = Requesting()
    engine = Engine(trace="off", recent_flows=100)
    engine.register(requesting, Counter(), Notification())
    engine.add_syncs([*other_syncs(other), CountRequest, CountResponse, CountMilestone])
    return Setup(label, engine, requesting)


async def run_flows(engine: Engine, requesting: Requesting, n: int) -> None:
    responses = requesting.responses
    run = engine.run
    request = Requesting.request
    for i in range(n):
        flow = await run(request, {"path": "/count", "counter": "c"})
        if responses.pop(flow.root.output["request"], None) is None:
            raise AssertionError(f"flow {i} got no response; syncs fired: {flow.fired()}")


async def measure(setups: list[Setup], flows: int, warmup: int, chunks: int) -> None:
    """Warm each setup up, then run `flows` flows on each in `chunks` interleaved chunks,
    so that noise from the machine (other processes, frequency scaling) hits both alike.
    Time is the process's CPU time; wall-clock time is shown alongside."""
    for setup in setups:
        await run_flows(setup.engine, setup.requesting, warmup)
    rss_before = rss()
    for setup in setups:
        setup.rss_before = rss_before
    size = flows // chunks
    for _ in range(chunks):
        for setup in setups:
            wall, cpu = time.perf_counter(), time.process_time()
            await run_flows(setup.engine, setup.requesting, size)
            cpu = time.process_time() - cpu
            setup.wall += time.perf_counter() - wall
            setup.cpu += cpu
            setup.chunk_cpu.append(cpu)
            setup.flows += size
    rss_after = rss()
    for setup in setups:
        setup.rss_after = rss_after
        assert len(setup.engine.recent) == 100


def report(setup: Setup) -> None:
    print(f"[{setup.label}]")
    print(f"  flows:                 {setup.flows:,}")
    print(f"  CPU time:              {setup.cpu:.2f} s  (wall {setup.wall:.2f} s)")
    print(f"  throughput:            {setup.per_second:,.0f} flows/s  (wall {setup.flows / setup.wall:,.0f} flows/s)")
    print(f"  latency:               {setup.us_per_flow:.1f} µs/flow")


def profile(other: int, flows: int) -> None:
    setup = build("profile", other)
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(run_flows(setup.engine, setup.requesting, flows))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=100_000, help="timed flows per setup (default 100000)")
    parser.add_argument("--warmup", type=int, default=10_000, help="untimed flows first (default 10000)")
    parser.add_argument("--other-syncs", type=int, default=50, help="extra syncs on other paths (default 50)")
    parser.add_argument("--chunks", type=int, default=10, help="interleaved chunks per setup (default 10)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the base setup instead")
    args = parser.parse_args(argv)

    if args.profile:
        profile(0, args.flows)
        return 0

    base = build("3 syncs", 0)
    other = build(f"3 syncs + {args.other_syncs} on other paths", args.other_syncs)
    print(f"Python {sys.version.split()[0]}; {args.flows:,} flows per setup after {args.warmup:,} warm-up flows")
    print("flow: Requesting.request -> Counter.increment -> Requesting.respond (syncs: 3)")
    print()
    asyncio.run(measure([base, other], args.flows, args.warmup, args.chunks))
    report(base)
    report(other)
    print(f"RSS before:              {base.rss_before / 2**20:.1f} MB  (after {2 * args.warmup:,} warm-up flows)")
    print(f"RSS after:               {base.rss_after / 2**20:.1f} MB  (after {base.flows + other.flows:,} more flows)")
    growth = base.growth_mb
    print(f"RSS growth:              {growth:+.2f} MB")

    # Slowdown from the median chunk of each setup: robust to a few chunks hit by noise.
    ratio = statistics.median(other.chunk_cpu) / statistics.median(base.chunk_cpu)
    checks = [
        ("throughput >= 10,000 flows/s", base.per_second >= 10_000, f"{base.per_second:,.0f} flows/s"),
        (f"slowdown with {args.other_syncs} other syncs < 20%", ratio - 1 < 0.20, f"{ratio - 1:+.1%}"),
        ("RSS growth < 5 MB", growth < 5, f"{growth:+.2f} MB"),
    ]
    print()
    print(f"slowdown ratio ({other.label} / {base.label}, median chunk CPU time): {ratio:.3f}")
    for name, ok, value in checks:
        print(f"target {name:42s} {'PASS' if ok else 'FAIL'}  ({value})")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
