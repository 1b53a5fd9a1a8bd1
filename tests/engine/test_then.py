"""The `then` clause: actions run in order, each with its cascade, once per frame."""

from __future__ import annotations

from app.engine import Sync, sync

from .concepts import Comment, Requesting, Steps, engine_with


@sync
def FirstThenSecond(request):
    return Sync(
        when=[(Requesting.request, {"path": "/steps"}, {"request": request})],
        then=[(Steps.first, {"tag": "t"}), (Steps.second, {"tag": "t"})],
    )


@sync
def NestedAfterFirst(step):
    return Sync(
        when=[(Steps.first, {}, {"step": step})],
        then=[(Steps.nested, {"tag": "from first"})],
    )


async def test_then_actions_run_in_order_each_with_its_cascade_before_the_next() -> None:
    journal: list[str] = []
    engine = engine_with(Requesting(), Steps(journal), syncs=[FirstThenSecond, NestedAfterFirst])

    flow = await engine.run(Requesting.request, {"path": "/steps"})

    assert journal == ["Steps.first t", "Steps.nested from first", "Steps.second t"]
    assert [(r.seq, r.action.qualname, r.sync) for r in flow.records] == [
        (0, "Requesting.request", None),
        (1, "Steps.first", "FirstThenSecond"),
        (2, "Steps.nested", "NestedAfterFirst"),
        (3, "Steps.second", "FirstThenSecond"),
    ]


@sync
def StepsPerComment(request, post, comment):
    return Sync(
        when=[(Requesting.request, {"path": "/steps-per-comment", "post": post}, {"request": request})],
        where=lambda frames: frames.query(Comment._byPost, {"post": post}, {"comment": comment}),
        then=[(Steps.first, {"tag": comment}), (Steps.second, {"tag": comment})],
    )


async def test_each_frame_runs_the_whole_then_list_before_the_next_frame() -> None:
    journal: list[str] = []
    comment = Comment()
    engine = engine_with(Requesting(), comment, Steps(journal), syncs=[StepsPerComment])
    comment.comments.update({"c1": {"post": "p", "author": "a"}, "c2": {"post": "p", "author": "a"}})

    await engine.run(Requesting.request, {"path": "/steps-per-comment", "post": "p"})

    assert journal == ["Steps.first c1", "Steps.second c1", "Steps.first c2", "Steps.second c2"]


@sync
def LiteralInputs(request):
    return Sync(
        when=[(Requesting.request, {"path": "/literal"}, {"request": request})],
        then=[(Requesting.respond, {"request": request, "status": "ok", "n": 3})],
    )


async def test_then_inputs_mix_bound_variables_and_literals() -> None:
    requesting = Requesting()
    engine = engine_with(requesting, syncs=[LiteralInputs])

    flow = await engine.run(Requesting.request, {"path": "/literal"})

    request = flow.root.output["request"]
    assert flow.records[-1].input == {"request": request, "status": "ok", "n": 3}
    assert requesting.responses == {request: {"status": "ok", "n": 3}}
