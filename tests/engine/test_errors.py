"""Exceptions end the flow and reach the caller as FlowError."""

from __future__ import annotations

from typing import Annotated, TypedDict

import pytest

from app.engine import FlowError, Sync, sync

from .concepts import Counter, Notification, Requesting, engine_with


@sync
def ExplodeOnRequest(request):
    return Sync(
        when=[(Requesting.request, {"path": "/explode"}, {"request": request})],
        then=[(Counter.explode, {"counter": "c"}), (Notification.notify, {"message": "never sent"})],
    )


async def test_an_exception_in_a_fired_action_reaches_the_caller_with_flow_id_and_sync() -> None:
    notification = Notification()
    engine = engine_with(Requesting(), Counter(), notification, syncs=[ExplodeOnRequest])

    with pytest.raises(FlowError) as raised:
        await engine.run(Requesting.request, {"path": "/explode"})

    error = raised.value
    assert error.sync == "ExplodeOnRequest"
    assert isinstance(error.cause, RuntimeError)
    assert str(error.cause) == "counter c exploded"
    assert "Counter.explode" in str(error)
    flow = engine.recent[-1]
    assert error.flow_id == flow.id
    assert error.flow is flow
    assert flow.quiescent
    assert flow.error is error
    assert [r.action.qualname for r in flow.records] == ["Requesting.request", "Counter.explode"]
    assert flow.records[-1].output is None  # never completed
    assert notification.sent == []  # the flow ended: the next then action did not run


async def test_an_exception_in_the_top_level_action_names_no_sync() -> None:
    engine = engine_with(Counter())

    with pytest.raises(FlowError) as raised:
        await engine.run(Counter.explode, {"counter": "top"})

    assert raised.value.sync is None
    assert raised.value.flow_id == engine.recent[-1].id
    assert engine.recent[-1].quiescent


@sync
def WhereExplodes(count):
    return Sync(
        when=[(Counter.increment, {}, {"count": count})],
        where=lambda frames: frames.filter(lambda frame: 1 / (frame[count] - 1) > 0),
        then=[(Notification.notify, {"message": "never", "count": count})],
    )


async def test_an_exception_in_a_where_reaches_the_caller_with_flow_id_and_sync() -> None:
    notification = Notification()
    engine = engine_with(Counter(), notification, syncs=[WhereExplodes])

    with pytest.raises(FlowError) as raised:
        await engine.run(Counter.increment, {})

    error = raised.value
    assert error.sync == "WhereExplodes"
    assert isinstance(error.cause, ZeroDivisionError)
    flow = engine.recent[-1]
    assert error.flow_id == flow.id
    assert flow.quiescent
    assert notification.sent == []


async def test_a_failed_flow_does_not_stop_the_next_one() -> None:
    notification = Notification()
    engine = engine_with(Counter(), notification, syncs=[WhereExplodes])
    with pytest.raises(FlowError):
        await engine.run(Counter.increment, {})

    flow = await engine.run(Counter.increment, {})

    assert flow.error is None
    assert notification.sent == [{"message": "never", "count": 2}]
    assert [f.error is None for f in engine.recent] == [False, True]


@sync
def MapForgetsToBind(count, doubled):
    return Sync(
        when=[(Counter.increment, {}, {"count": count})],
        where=lambda frames: frames.map(lambda frame: dict(frame), binds=[doubled]),  # claims, does not bind
        then=[(Notification.notify, {"message": "doubled", "doubled": doubled})],
    )


async def test_a_then_variable_left_unbound_at_run_time_is_a_flow_error_naming_it() -> None:
    notification = Notification()
    engine = engine_with(Counter(), notification, syncs=[MapForgetsToBind])

    with pytest.raises(FlowError) as raised:
        await engine.run(Counter.increment, {})

    error = raised.value
    assert error.sync == "MapForgetsToBind"
    assert error.flow_id == engine.recent[-1].id
    assert "doubled" in str(error.cause)
    assert "MapForgetsToBind" in str(error.cause)
    assert notification.sent == []


async def test_an_instrumented_method_raises_the_flow_error_too() -> None:
    requesting = Requesting()
    engine = engine_with(requesting, Counter(), Notification(), syncs=[ExplodeOnRequest])

    with pytest.raises(FlowError) as raised:
        await requesting.request(path="/explode")

    assert raised.value.sync == "ExplodeOnRequest"
    assert raised.value.flow_id == engine.recent[-1].id


class Vault:
    """A concept whose action declares the codes it answers, and answers another."""

    async def open(self, code: str) -> OpenedOut | Annotated[ErrorOut, "LOCKED", "JAMMED"]:
        return {"error": "No.", "code": code}


class OpenedOut(TypedDict):
    opened: bool


class ErrorOut(TypedDict):
    error: str
    code: str


async def test_an_action_that_answers_a_code_it_does_not_declare_fails_its_flow_naming_it() -> None:
    engine = engine_with(Vault())

    locked = await engine.run(Vault.open, {"code": "LOCKED"})
    with pytest.raises(FlowError) as raised:
        await engine.run(Vault.open, {"code": "MELTED"})

    assert locked.root.output == {"error": "No.", "code": "LOCKED"}
    assert (
        str(raised.value.cause)
        == "Vault.open answered code 'MELTED', which it does not declare (declares: JAMMED, LOCKED)"
    )
