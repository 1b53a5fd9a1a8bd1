"""Trace levels and secrets: secrets are `***` in every line."""

from __future__ import annotations

import logging

import pytest

from app.engine import Sync, sync

from .concepts import Counter, Requesting, engine_with

PASSWORD = "open sesame"


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="app.engine")
    return caplog


def engine_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "app.engine"]


@sync
def UnlockRequest(request, counter, password):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": "/unlock", "counter": counter, "password": password},
                {"request": request},
            )
        ],
        where=lambda frames: frames.filter(lambda frame: bool(frame[password])),
        then=[(Counter.unlock, {"counter": counter, "password": password})],
    )


@sync
def UnlockResponse(request, count):
    return Sync(
        when=[
            (Requesting.request, {"path": "/unlock"}, {"request": request}),
            (Counter.unlock, {}, {"count": count}),
        ],
        then=[(Requesting.respond, {"request": request, "count": count})],
    )


async def unlock(trace: str) -> tuple[Requesting, Counter, str]:
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[UnlockRequest, UnlockResponse], trace=trace)
    flow = await engine.run(Requesting.request, {"path": "/unlock", "counter": "c", "password": PASSWORD})
    return requesting, counter, flow.id


async def test_trace_prints_one_line_per_action_with_flow_id_and_firing_sync(
    debug_log: pytest.LogCaptureFixture,
) -> None:
    _, counter, flow_id = await unlock("trace")

    lines = engine_lines(debug_log)
    assert counter.passwords == [PASSWORD]  # the action itself got the clear value
    assert len(lines) == 3
    assert all(f"[flow {flow_id}]" in line for line in lines)
    assert lines[0].startswith("Requesting.request ")
    assert lines[1].startswith("Counter.unlock ") and lines[1].endswith("<- UnlockRequest")
    assert lines[2].startswith("Requesting.respond ") and lines[2].endswith("<- UnlockResponse")
    assert "{'count': 1}" in lines[1]  # input => output
    assert not any("fires with" in line for line in lines)


async def test_off_prints_nothing(debug_log: pytest.LogCaptureFixture) -> None:
    _, counter, _ = await unlock("off")

    assert counter.counts == {"c": 1}  # the flow did run
    assert engine_lines(debug_log) == []


async def test_a_secret_parameter_is_printed_as_stars_and_never_in_clear(debug_log: pytest.LogCaptureFixture) -> None:
    """`password` is Secret in Counter.unlock; Requesting.request takes it under the same key."""
    await unlock("trace")

    assert PASSWORD not in debug_log.text
    request_line, unlock_line = (
        engine_lines(debug_log)[0],
        next(line for line in engine_lines(debug_log) if line.startswith("Counter.unlock")),
    )
    assert "'password': '***'" in request_line
    assert "'password': '***'" in unlock_line
