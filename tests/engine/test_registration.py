"""Start-up checks: a broken sync is refused with a message naming it."""

from __future__ import annotations

import pytest

from app.engine import Engine, Sync, SyncDeclarationError, sync

from .concepts import Counter, Notification, NotRegistered, Requesting, engine_with


def refuse(*syncs: Sync) -> str:
    """Register the concepts and `syncs`; return the message of the error that must follow."""
    engine = Engine()
    engine.register(Requesting(), Counter(), Notification())
    with pytest.raises(SyncDeclarationError) as refused:
        engine.add_syncs(syncs)
    return str(refused.value)


@sync
def Fine(request, counter):
    return Sync(
        when=[(Requesting.request, {"path": "/fine", "counter": counter}, {"request": request})],
        then=[(Counter.increment, {"counter": counter})],
    )


def test_a_well_formed_sync_is_accepted() -> None:
    engine = engine_with(Requesting(), Counter(), syncs=[Fine])
    assert [c.name for c in engine.syncs] == ["Fine"]


def test_a_query_used_as_a_when_action_is_refused() -> None:
    @sync
    def WhenQuery(request):
        return Sync(
            when=[
                (Requesting.request, {"path": "/q"}, {"request": request}),
                (Requesting._awaitResponse, {"request": request}, {}),
            ],
            then=[(Notification.notify, {"message": "never"})],
        )

    message = refuse(WhenQuery)
    assert "WhenQuery" in message
    assert "when pattern 2" in message
    assert "Requesting._awaitResponse" in message
    assert "query" in message


def test_a_query_used_as_a_then_action_is_refused() -> None:
    @sync
    def ThenQuery(request):
        return Sync(
            when=[(Requesting.request, {"path": "/q"}, {"request": request})],
            then=[(Counter._getCount, {"counter": "c"})],
        )

    message = refuse(ThenQuery)
    assert "ThenQuery" in message
    assert "then action 1" in message
    assert "Counter._getCount" in message
    assert "query" in message


def test_an_unknown_input_key_is_refused() -> None:
    @sync
    def BadInputKey(count):
        return Sync(
            when=[(Counter.increment, {"countr": "c"}, {"count": count})],
            then=[(Notification.notify, {"message": "never"})],
        )

    message = refuse(BadInputKey)
    assert "BadInputKey" in message
    assert "when pattern 1 (Counter.increment)" in message
    assert "'countr'" in message


def test_an_unknown_input_key_in_then_is_refused() -> None:
    @sync
    def BadThenKey(count):
        return Sync(
            when=[(Counter.increment, {}, {"count": count})],
            then=[(Counter.unlock, {"counter": "c", "password": "x", "pasword": "y"})],
        )

    message = refuse(BadThenKey)
    assert "BadThenKey" in message
    assert "then action 1 (Counter.unlock)" in message
    assert "'pasword'" in message


def test_any_input_key_is_accepted_for_an_action_with_arbitrary_inputs() -> None:
    @sync
    def AnyKeys(request, anything):
        return Sync(
            when=[(Requesting.request, {"path": "/any", "whatever": anything}, {"request": request})],
            then=[(Requesting.respond, {"request": request, "echo": anything})],
        )

    engine = engine_with(Requesting(), syncs=[AnyKeys])
    assert [c.name for c in engine.syncs] == ["AnyKeys"]


def test_an_unknown_output_key_is_refused() -> None:
    @sync
    def BadOutputKey(request):
        return Sync(
            when=[
                (Requesting.request, {"path": "/x"}, {"request": request}),
                (Counter.unlock, {}, {"errror": "boom"}),
            ],
            then=[(Notification.notify, {"message": "never"})],
        )

    message = refuse(BadOutputKey)
    assert "BadOutputKey" in message
    assert "when pattern 2 (Counter.unlock)" in message
    assert "'errror'" in message


def test_an_output_key_of_any_declared_output_is_accepted() -> None:
    @sync
    def UnlockFailed(error):
        return Sync(
            when=[(Counter.unlock, {}, {"error": error})],
            then=[(Notification.notify, {"message": "unlock failed", "error": error})],
        )

    engine = engine_with(Counter(), Notification(), syncs=[UnlockFailed])
    assert [c.name for c in engine.syncs] == ["UnlockFailed"]


def test_a_then_variable_bound_by_neither_when_nor_where_is_refused() -> None:
    @sync
    def Unbound(request, user):
        return Sync(
            when=[(Requesting.request, {"path": "/unbound"}, {"request": request})],
            where=lambda frames: frames.filter(lambda frame: True),
            then=[(Notification.notify, {"message": "hello", "to": user})],
        )

    message = refuse(Unbound)
    assert "Unbound" in message
    assert "then action 1 (Notification.notify)" in message
    assert "'to'" in message
    assert "'user'" in message


def test_a_then_variable_bound_by_a_where_query_is_accepted() -> None:
    @sync
    def BoundByWhere(request, counter, count):
        return Sync(
            when=[(Requesting.request, {"path": "/bw", "counter": counter}, {"request": request})],
            where=lambda frames: frames.query(Counter._getCount, {"counter": counter}, {"count": count}),
            then=[(Requesting.respond, {"request": request, "count": count})],
        )

    engine = engine_with(Requesting(), Counter(), syncs=[BoundByWhere])
    assert [c.name for c in engine.syncs] == ["BoundByWhere"]


def test_a_missing_required_then_input_is_refused() -> None:
    @sync
    def MissingInput(count):
        return Sync(
            when=[(Counter.increment, {}, {"count": count})],
            then=[(Notification.notify, {"count": count})],
        )

    message = refuse(MissingInput)
    assert "MissingInput" in message
    assert "then action 1 (Notification.notify)" in message
    assert "message" in message


def test_a_duplicate_sync_name_is_refused() -> None:
    @sync(name="Fine")
    def Again(request, counter):
        return Sync(
            when=[(Requesting.request, {"path": "/again", "counter": counter}, {"request": request})],
            then=[(Counter.increment, {"counter": counter})],
        )

    message = refuse(Fine, Again)
    assert "Fine" in message
    assert "already registered" in message


def test_a_duplicate_sync_name_in_a_later_call_is_refused() -> None:
    engine = engine_with(Requesting(), Counter(), syncs=[Fine])
    with pytest.raises(SyncDeclarationError, match="sync Fine"):
        engine.add_syncs([Fine])


def test_an_action_of_an_unregistered_concept_is_refused() -> None:
    @sync
    def Unregistered(request):
        return Sync(
            when=[(Requesting.request, {"path": "/u"}, {"request": request})],
            then=[(NotRegistered.act, {"x": "1"})],
        )

    message = refuse(Unregistered)
    assert "Unregistered" in message
    assert "then action 1" in message
    assert "NotRegistered.act" in message
    assert "not an action of a registered concept" in message


def test_a_when_action_of_an_unregistered_concept_is_refused() -> None:
    @sync
    def UnregisteredWhen(step):
        return Sync(
            when=[(NotRegistered.act, {}, {"step": step})],
            then=[(Notification.notify, {"message": "never"})],
        )

    message = refuse(UnregisteredWhen)
    assert "UnregisteredWhen" in message
    assert "when pattern 1" in message
    assert "NotRegistered.act" in message


def test_a_where_query_of_an_unregistered_concept_is_refused() -> None:
    @sync
    def UnregisteredQuery(request, x):
        return Sync(
            when=[(Requesting.request, {"path": "/uq"}, {"request": request})],
            where=lambda frames: frames.query(NotRegistered._look, {"x": "1"}, {"x": x}),
            then=[(Notification.notify, {"message": "never", "x": x})],
        )

    message = refuse(UnregisteredQuery)
    assert "UnregisteredQuery" in message
    assert "NotRegistered._look" in message
    assert "not a query of a registered concept" in message


def test_a_where_without_on_a_query_of_an_unregistered_concept_is_refused() -> None:
    @sync
    def UnregisteredWithout(request):
        return Sync(
            when=[(Requesting.request, {"path": "/uw"}, {"request": request})],
            where=lambda frames: frames.without(NotRegistered._look, {"x": "1"}),
            then=[(Notification.notify, {"message": "never"})],
        )

    message = refuse(UnregisteredWithout)
    assert "UnregisteredWithout" in message
    assert "NotRegistered._look" in message


def test_a_sync_without_when_patterns_is_refused() -> None:
    @sync
    def NoWhen():
        return Sync(when=[], then=[(Notification.notify, {"message": "never"})])

    message = refuse(NoWhen)
    assert "NoWhen" in message
    assert "when" in message


# -- where is a plan, declared once ---------------------------------------------------------------


def test_a_where_written_as_a_comprehension_is_refused_naming_the_sync() -> None:
    @sync
    def CountEach(request, counter):
        return Sync(
            when=[(Requesting.request, {"path": "/count", "counter": counter}, {"request": request})],
            where=lambda frames: [frame for frame in frames if frame[counter]],
            then=[(Counter.increment, {"counter": counter})],
        )

    with pytest.raises(SyncDeclarationError) as refused:
        engine_with(Requesting(), Counter(), syncs=[CountEach])

    assert str(refused.value) == (
        "sync CountEach: `where` is not a pipeline of steps: a where clause is a plan of steps, declared once "
        "and run on each match's frames: chain steps (frames.query(...).filter(...)) instead of iterating"
    )


def test_a_where_that_returns_something_else_than_its_plan_is_refused() -> None:
    @sync
    def CountNothing(request, counter):
        return Sync(
            when=[(Requesting.request, {"path": "/count", "counter": counter}, {"request": request})],
            where=lambda frames: None,
            then=[(Counter.increment, {"counter": counter})],
        )

    with pytest.raises(SyncDeclarationError) as refused:
        engine_with(Requesting(), Counter(), syncs=[CountNothing])

    assert str(refused.value) == (
        "sync CountNothing: `where` returned NoneType, not the plan it was given with steps chained on "
        "(frames.query(...).filter(...))"
    )
