"""Matching `when` patterns against the completed records of one flow."""

from __future__ import annotations

import pytest

from app.engine import Sync, sync

from .concepts import Button, Counter, Notification, Post, Requesting, engine_with


@sync
def ClickAB(request):
    """A request to /ab clicks button a, then button b (in one flow)."""
    return Sync(
        when=[(Requesting.request, {"path": "/ab"}, {"request": request})],
        then=[(Button.clicked, {"button": "a"}), (Button.clicked, {"button": "b"})],
    )


@sync
def ClickXXX(request):
    """A request to /xxx clicks button x three times (in one flow)."""
    return Sync(
        when=[(Requesting.request, {"path": "/xxx"}, {"request": request})],
        then=[(Button.clicked, {"button": "x"})] * 3,
    )


# -- request / response --------------------------------------------------------


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


async def test_response_sync_matches_the_request_and_the_action_of_the_same_flow() -> None:
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[CountRequest, CountResponse])
    counter.counts["c"] = 41

    flow = await engine.run(Requesting.request, {"path": "/count", "counter": "c"})

    request = flow.root.output["request"]
    assert requesting.responses == {request: {"count": 42}}
    assert [r.action.qualname for r in flow.records] == [
        "Requesting.request",
        "Counter.increment",
        "Requesting.respond",
    ]
    assert flow.fired() == ["CountRequest", "CountResponse"]


async def test_response_sync_does_not_match_an_action_of_an_earlier_flow() -> None:
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[CountResponse])  # no CountRequest
    await engine.run(Counter.increment, {"counter": "c"})

    flow = await engine.run(Requesting.request, {"path": "/count", "counter": "c"})

    assert requesting.responses == {}
    assert flow.fired() == []


# -- literals, variables, aliases --------------------------------------------------


@sync
def NotifyDoubleClick(button):
    return Sync(
        when=[(Button.clicked, {"kind": "double"}, {"button": button})],
        then=[(Notification.notify, {"message": "double click", "button": button})],
    )


async def test_a_literal_in_a_pattern_must_equal_the_record_value() -> None:
    notification = Notification()
    engine = engine_with(Button(), notification, syncs=[NotifyDoubleClick])

    await engine.run(Button.clicked, {"button": "b1", "kind": "single"})
    await engine.run(Button.clicked, {"button": "b2", "kind": "double"})

    assert notification.sent == [{"message": "double click", "button": "b2"}]


@sync
def NotifyNewPost(post, user):
    return Sync(
        when=[(Post.create, {"author": user}, {"post": post})],
        then=[(Notification.notify, {"message": "new post", "user": user, "post": post})],
    )


async def test_an_aliased_parameter_binds_the_variable_to_that_key() -> None:
    notification = Notification()
    engine = engine_with(Post(), notification, syncs=[NotifyNewPost])

    await engine.run(Post.create, {"post": "p1", "author": "alice"})

    assert notification.sent == [{"message": "new post", "user": "alice", "post": "p1"}]


@sync
def CountTwoCounters(request, counter):
    """A request increments the counter it names and counter "other"."""
    return Sync(
        when=[(Requesting.request, {"path": "/two", "counter": counter}, {"request": request})],
        then=[(Counter.increment, {"counter": counter}), (Counter.increment, {"counter": "other"})],
    )


@sync
def NotifyRequestedCounter(request, counter, count):
    """`counter` appears in both patterns: the increment must be of the requested counter."""
    return Sync(
        when=[
            (Requesting.request, {"path": "/two", "counter": counter}, {"request": request}),
            (Counter.increment, {"counter": counter}, {"count": count}),
        ],
        then=[(Notification.notify, {"message": "requested counter", "counter": counter, "count": count})],
    )


async def test_a_variable_used_in_two_patterns_must_bind_the_same_value_in_both() -> None:
    counter, notification = Counter(), Notification()
    engine = engine_with(Requesting(), counter, notification, syncs=[CountTwoCounters, NotifyRequestedCounter])

    await engine.run(Requesting.request, {"path": "/two", "counter": "mine"})

    assert counter.counts == {"mine": 1, "other": 1}
    assert notification.sent == [{"message": "requested counter", "counter": "mine", "count": 1}]


@sync
def RespondToPathOnly(request):
    return Sync(
        when=[(Requesting.request, {"path": "/partial"}, {})],
        then=[(Notification.notify, {"message": "partial"})],
    )


async def test_keys_a_pattern_does_not_mention_are_ignored() -> None:
    notification = Notification()
    engine = engine_with(Requesting(), notification, syncs=[RespondToPathOnly])

    await engine.run(Requesting.request, {"path": "/partial", "extra": 1, "more": [1, 2]})
    await engine.run(Requesting.request, {"path": "/elsewhere", "extra": 1})

    assert notification.sent == [{"message": "partial"}]


@sync
def NotifyKind(button, kind):
    return Sync(
        when=[(Button.clicked, {"kind": kind}, {"button": button})],
        then=[(Notification.notify, {"message": "kind", "kind": kind})],
    )


async def test_a_pattern_key_absent_from_the_record_does_not_match_even_with_a_default() -> None:
    notification = Notification()
    engine = engine_with(Button(), notification, syncs=[NotifyKind])

    await engine.run(Button.clicked, {"button": "b"})  # `kind` takes its default: not in the record
    assert notification.sent == []

    await engine.run(Button.clicked, {"button": "b", "kind": "plain"})
    assert notification.sent == [{"message": "kind", "kind": "plain"}]


@sync
def NotifyTaggedRequest(request):
    return Sync(
        when=[(Requesting.request, {"path": "/tags", "tags": ["a", "b"]}, {"request": request})],
        then=[(Notification.notify, {"message": "tagged"})],
    )


async def test_an_unhashable_literal_matches_by_equality() -> None:
    notification = Notification()
    engine = engine_with(Requesting(), notification, syncs=[NotifyTaggedRequest])

    await engine.run(Requesting.request, {"path": "/tags", "tags": ["a"]})
    await engine.run(Requesting.request, {"path": "/tags", "tags": ["a", "b"]})

    assert notification.sent == [{"message": "tagged"}]


# -- distinct records, the trigger, no double firing --------------------------------


@sync
def NotifyAThenAnother(other):
    """Two patterns on Button.clicked: a click of "a" and some click (any button)."""
    return Sync(
        when=[(Button.clicked, {"button": "a"}, {}), (Button.clicked, {}, {"button": other})],
        then=[(Notification.notify, {"message": "a and another", "other": other})],
    )


@sync
def ClickA(request):
    return Sync(
        when=[(Requesting.request, {"path": "/a"}, {"request": request})],
        then=[(Button.clicked, {"button": "a"})],
    )


async def test_two_patterns_on_one_action_need_two_different_records() -> None:
    notification = Notification()
    engine = engine_with(Requesting(), Button(), notification, syncs=[ClickA, NotifyAThenAnother])

    await engine.run(Requesting.request, {"path": "/a"})

    assert notification.sent == []


async def test_two_patterns_on_one_action_match_two_records_of_the_flow() -> None:
    notification = Notification()
    engine = engine_with(Requesting(), Button(), notification, syncs=[ClickAB, NotifyAThenAnother])

    await engine.run(Requesting.request, {"path": "/ab"})

    assert notification.sent == [{"message": "a and another", "other": "b"}]


@sync
def NotifyEachClickOfRequest(request, button):
    return Sync(
        when=[
            (Requesting.request, {"path": "/ab"}, {"request": request}),
            (Button.clicked, {}, {"button": button}),
        ],
        then=[(Notification.notify, {"message": "click", "button": button})],
    )


async def test_the_record_that_just_completed_must_be_one_of_the_matched_records() -> None:
    """On the second click, the first click (already matched) must not match again."""
    notification = Notification()
    engine = engine_with(Requesting(), Button(), notification, syncs=[ClickAB, NotifyEachClickOfRequest])

    await engine.run(Requesting.request, {"path": "/ab"})

    assert [n["button"] for n in notification.sent] == ["a", "b"]


@sync
def NotifyPair(button):
    """Two identical patterns: any two clicks of the same button."""
    return Sync(
        when=[(Button.clicked, {"button": button}, {}), (Button.clicked, {"button": button}, {})],
        then=[(Notification.notify, {"message": "pair", "button": button})],
    )


async def test_two_identical_patterns_fire_once_per_pair_of_records() -> None:
    """Three clicks make three pairs, each pair matched when its later click completes.

    A pair {c1, c2} can be assigned to the two identical patterns in two orders;
    both give the same frame from the same records, which must fire once
    ("never twice for the same records").
    """
    notification = Notification()
    engine = engine_with(Requesting(), Button(), notification, syncs=[ClickXXX, NotifyPair])

    await engine.run(Requesting.request, {"path": "/xxx"})

    assert len(notification.sent) == 3


@sync
def ClickOnRequest(request):
    return Sync(
        when=[(Requesting.request, {"path": "/cascade"}, {"request": request})],
        then=[(Button.clicked, {"button": "c"})],
    )


@sync
def CountOnRequest(request):
    return Sync(
        when=[(Requesting.request, {"path": "/cascade"}, {"request": request})],
        then=[(Counter.increment, {"counter": "c"})],
    )


@sync
def NotifyRequestAndClick(request, button):
    """Over the request (a trigger of several syncs) and the click a cascade adds."""
    return Sync(
        when=[
            (Requesting.request, {"path": "/cascade"}, {"request": request}),
            (Button.clicked, {}, {"button": button}),
        ],
        then=[(Notification.notify, {"message": "request and click", "button": button})],
    )


@pytest.mark.parametrize(
    "order",
    [
        [ClickOnRequest, CountOnRequest, NotifyRequestAndClick],
        [NotifyRequestAndClick, CountOnRequest, ClickOnRequest],
        [CountOnRequest, NotifyRequestAndClick, ClickOnRequest],
    ],
    ids=["sync-after-cascade", "sync-first", "sync-between"],
)
async def test_a_sync_over_two_records_fires_once_when_a_cascade_adds_the_second(order: list[Sync]) -> None:
    notification = Notification()
    engine = engine_with(Requesting(), Button(), Counter(), notification, syncs=order)

    flow = await engine.run(Requesting.request, {"path": "/cascade"})

    assert notification.sent == [{"message": "request and click", "button": "c"}]
    assert sorted(r.sync or "" for r in flow.records) == [
        "",
        "ClickOnRequest",
        "CountOnRequest",
        "NotifyRequestAndClick",
    ]


@sync
def ClickTwiceThenCount(request):
    return Sync(
        when=[(Requesting.request, {"path": "/clicks-then-count"}, {"request": request})],
        then=[
            (Button.clicked, {"button": "x"}),
            (Button.clicked, {"button": "y"}),
            (Counter.increment, {"counter": "c"}),
        ],
    )


@sync
def NotifyEachEarlierClick(button, count):
    return Sync(
        when=[(Counter.increment, {}, {"count": count}), (Button.clicked, {}, {"button": button})],
        then=[(Notification.notify, {"message": "counted after click", "button": button})],
    )


async def test_one_completion_matching_several_ways_fires_once_per_frame() -> None:
    notification = Notification()
    engine = engine_with(
        Requesting(), Button(), Counter(), notification, syncs=[ClickTwiceThenCount, NotifyEachEarlierClick]
    )

    await engine.run(Requesting.request, {"path": "/clicks-then-count"})

    assert sorted(n["button"] for n in notification.sent) == ["x", "y"]


@sync
def ClickThenCount(request):
    return Sync(
        when=[(Requesting.request, {"path": "/click-then-count"}, {"request": request})],
        then=[(Button.clicked, {"button": "a"}), (Counter.increment, {"counter": "c"})],
    )


@sync
def ClickAClickBThenCount(request):
    return Sync(
        when=[(Requesting.request, {"path": "/click-click-then-count"}, {"request": request})],
        then=[
            (Button.clicked, {"button": "a"}),
            (Button.clicked, {"button": "b"}),
            (Counter.increment, {"counter": "c"}),
        ],
    )


@sync
def NotifyCountAfterTwoClicks(count, first, second):
    """Three patterns; the two click patterns must match two different earlier clicks."""
    return Sync(
        when=[
            (Counter.increment, {}, {"count": count}),
            (Button.clicked, {}, {"button": first}),
            (Button.clicked, {}, {"button": second}),
        ],
        where=lambda frames: frames.filter(lambda frame: frame[first] <= frame[second]),
        then=[(Notification.notify, {"message": "two clicks", "first": first, "second": second})],
    )


async def test_one_earlier_record_cannot_fill_two_patterns() -> None:
    notification = Notification()
    engine = engine_with(
        Requesting(), Button(), Counter(), notification, syncs=[ClickThenCount, NotifyCountAfterTwoClicks]
    )

    await engine.run(Requesting.request, {"path": "/click-then-count"})

    assert notification.sent == []


async def test_three_patterns_match_three_distinct_records() -> None:
    notification = Notification()
    engine = engine_with(
        Requesting(), Button(), Counter(), notification, syncs=[ClickAClickBThenCount, NotifyCountAfterTwoClicks]
    )

    await engine.run(Requesting.request, {"path": "/click-click-then-count"})

    assert notification.sent == [{"message": "two clicks", "first": "a", "second": "b"}]
