"""Flows: isolation, ids, memory, cost, and instrumented concept methods."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from types import SimpleNamespace
from typing import Any

import pytest

from app.engine import Flow, Sync, sync
from app.engine import engine as engine_module
from app.engine import records as records_module

from .concepts import Counter, Requesting, engine_with


@sync
def CountRequest(request, counter):
    return Sync(
        when=[(Requesting.request, {"path": "/count", "counter": counter}, {"request": request})],
        then=[(Counter.increment, {"counter": counter})],
    )


@sync
def CountResponse(request, counter, count):
    return Sync(
        when=[
            (Requesting.request, {"path": "/count"}, {"request": request}),
            (Counter.increment, {"counter": counter}, {"count": count}),
        ],
        then=[(Requesting.respond, {"request": request, "counter": counter, "count": count})],
    )


# -- concurrency ------------------------------------------------------------------------


async def test_concurrent_flows_do_not_match_each_others_records() -> None:
    n = 8
    requesting, counter = Requesting(delay=0.001), Counter(barrier=asyncio.Barrier(n), delay=0.001)
    engine = engine_with(requesting, counter, syncs=[CountRequest, CountResponse])

    # Every increment waits at the barrier until all n are under way: the flows interleave.
    flows = await asyncio.gather(
        *(engine.run(Requesting.request, {"path": "/count", "counter": f"c{i}"}) for i in range(n))
    )

    assert requesting.ignored == []  # no request got a second (crossed) response
    for i, flow in enumerate(flows):
        request = flow.root.output["request"]
        assert requesting.responses[request] == {"counter": f"c{i}", "count": 1}
        assert [r.input.get("counter") for r in flow.records] == [f"c{i}"] * 3
    assert len({flow.id for flow in flows}) == n


# -- instrumented methods -----------------------------------------------------------------


async def test_calling_an_instrumented_method_runs_a_flow_and_fires_syncs() -> None:
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[CountRequest, CountResponse])

    output = await requesting.request(path="/count", counter="direct")

    assert output == {"request": "req-1"}
    assert counter.counts == {"direct": 1}
    assert requesting.responses == {"req-1": {"counter": "direct", "count": 1}}
    flow = engine.recent[-1]
    assert flow.quiescent
    assert flow.fired() == ["CountRequest", "CountResponse"]
    assert flow.root.input == {"path": "/count", "counter": "direct"}


async def test_a_flow_passed_in_can_be_watched_while_it_runs() -> None:
    gate = asyncio.Barrier(2)  # the increment waits here until the test has looked
    requesting, counter = Requesting(), Counter(barrier=gate)
    engine = engine_with(requesting, counter, syncs=[CountRequest, CountResponse])
    flow = Flow()

    running = asyncio.ensure_future(engine.run(Requesting.request, {"path": "/count", "counter": "w"}, flow=flow))
    for _ in range(100):
        if gate.n_waiting:
            break
        await asyncio.sleep(0)
    assert not flow.quiescent
    assert [r.action.qualname for r in flow.records] == ["Requesting.request", "Counter.increment"]
    assert flow.records[-1].output is None  # still running
    await gate.wait()

    assert await running is flow
    assert flow.quiescent
    assert engine.recent[-1] is flow
    assert requesting.responses == {"req-1": {"counter": "w", "count": 1}}


# -- flow ids --------------------------------------------------------------------------------


async def test_later_flows_have_larger_ids() -> None:
    engine = engine_with(Counter())
    ids = []
    for i in range(300):
        ids.append((await engine.run(Counter.increment, {})).id)
        if i % 100 == 99:
            await asyncio.sleep(0.002)  # cross a millisecond boundary too

    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


async def test_flow_ids_stay_sorted_when_the_counter_wraps_within_one_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The per-process counter in a flow id has 24 bits; it wraps every 16,777,216 flows.
    Two flows in the same millisecond on either side of the wrap must still sort in order."""
    frozen_clock = SimpleNamespace(
        time_ns=lambda: 1_750_000_000_000_000_000, time=time.time, perf_counter=time.perf_counter
    )
    monkeypatch.setattr(records_module, "time", frozen_clock)
    monkeypatch.setattr(records_module, "_counter", itertools.count(0xFFFFFF), raising=False)
    engine = engine_with(Counter())

    first = await engine.run(Counter.increment, {})
    second = await engine.run(Counter.increment, {})

    assert first.id < second.id


# -- memory ----------------------------------------------------------------------------------


def live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


async def test_only_the_recent_flows_stay_in_memory_after_ten_thousand_flows() -> None:
    keep = 50
    engine = engine_with(Requesting(), Counter(), syncs=[CountRequest, CountResponse], recent_flows=keep)
    flows_before, records_before = live(Flow), live(records_module.ActionRecord)

    last_id = ""
    for i in range(10_000):
        last_id = (await engine.run(Requesting.request, {"path": "/count", "counter": f"c{i % 7}"})).id

    assert live(Flow) - flows_before <= keep
    assert live(records_module.ActionRecord) - records_before <= keep * 3
    assert len(engine.recent) == keep
    assert engine.recent[-1].id == last_id
    assert engine.find_flow(last_id) is engine.recent[-1]


# -- cost: literal index -----------------------------------------------------------------


def other_path_syncs(n: int) -> list[Sync]:
    def one(i: int) -> Sync:
        @sync(name=f"Other{i}")
        def other(request, counter):
            return Sync(
                when=[(Requesting.request, {"path": f"/other/{i}", "counter": counter}, {"request": request})],
                then=[(Counter.increment, {"counter": counter})],
            )

        return other

    return [one(i) for i in range(n)]


async def test_a_completion_only_tries_the_syncs_whose_literal_inputs_equal_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried: list[str] = []
    real_match_all = engine_module.match_all

    def spy(patterns: Any, trigger: Any, flow: Any) -> Any:
        tried.append(trigger.action.qualname)
        return real_match_all(patterns, trigger, flow)

    monkeypatch.setattr(engine_module, "match_all", spy)
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[*other_path_syncs(50), CountRequest, CountResponse])

    await engine.run(Requesting.request, {"path": "/count", "counter": "c"})
    assert tried.count("Requesting.request") == 2  # CountRequest and CountResponse, not Other0..49
    assert counter.counts == {"c": 1}

    tried.clear()
    await engine.run(Requesting.request, {"path": "/other/7", "counter": "d"})
    assert tried.count("Requesting.request") == 1  # Other7 only
    assert counter.counts == {"c": 1, "d": 1}
