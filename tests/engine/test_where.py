"""The `where` clause: a pipeline of steps over the frames of each match."""

from __future__ import annotations

import asyncio

from app.engine import Sync, sync

from .concepts import Comment, Counter, Notification, Post, Requesting, engine_with

# -- filter ------------------------------------------------------------------------


@sync
def NotifyEveryThirdCount(count):
    return Sync(
        when=[(Counter.increment, {}, {"count": count})],
        where=lambda frames: frames.filter(lambda frame: frame[count] % 3 == 0),
        then=[(Notification.notify, {"message": "count is a multiple of 3", "count": count})],
    )


async def test_counter_notification_fires_only_when_the_where_filter_holds() -> None:
    counter, notification = Counter(), Notification()
    engine = engine_with(counter, notification, syncs=[NotifyEveryThirdCount])

    fired = [(await engine.run(Counter.increment, {})).fired() for _ in range(7)]

    assert [n["count"] for n in notification.sent] == [3, 6]
    assert fired == [[], [], ["NotifyEveryThirdCount"], [], [], ["NotifyEveryThirdCount"], []]


@sync
def NotifyOddCountAsync(count):
    async def odd(frame):
        await asyncio.sleep(0)
        return frame[count] % 2 == 1

    return Sync(
        when=[(Counter.increment, {}, {"count": count})],
        where=lambda frames: frames.filter(odd),
        then=[(Notification.notify, {"message": "odd", "count": count})],
    )


async def test_an_async_filter_is_awaited() -> None:
    notification = Notification()
    engine = engine_with(Counter(), notification, syncs=[NotifyOddCountAsync])

    for _ in range(4):
        await engine.run(Counter.increment, {})

    assert [n["count"] for n in notification.sent] == [1, 3]


# -- query: one frame per row --------------------------------------------------------


@sync
def DeleteCommentsOfPost(post, comment):
    return Sync(
        when=[(Post.delete, {}, {"post": post})],
        where=lambda frames: frames.query(Comment._byPost, {"post": post}, {"comment": comment}),
        then=[(Comment.delete, {"comment": comment})],
    )


async def test_deleting_a_post_with_three_comments_fires_three_deletions() -> None:
    post, comment = Post(), Comment()
    engine = engine_with(post, comment, syncs=[DeleteCommentsOfPost])
    post.posts.update({"p1": "alice", "p2": "bob"})
    comment.comments.update(
        {
            "c1": {"post": "p1", "author": "bob"},
            "c2": {"post": "p1", "author": "carol"},
            "c3": {"post": "p1", "author": "bob"},
            "c4": {"post": "p2", "author": "alice"},
        }
    )

    flow = await engine.run(Post.delete, {"post": "p1"})

    deletions = [r.input["comment"] for r in flow.records if r.action.qualname == "Comment.delete"]
    assert deletions == ["c1", "c2", "c3"]
    assert list(comment.comments) == ["c4"]


async def test_a_query_with_no_rows_drops_the_frame_so_the_sync_does_not_fire() -> None:
    post, comment = Post(), Comment()
    engine = engine_with(post, comment, syncs=[DeleteCommentsOfPost])
    comment.comments["c1"] = {"post": "other", "author": "bob"}

    flow = await engine.run(Post.delete, {"post": "p-without-comments"})

    assert flow.fired() == []
    assert [r.action.qualname for r in flow.records] == ["Post.delete"]


@sync
def NotifySelfComments(request, post, author, comment):
    """The second query binds `author`, already bound by the first: its rows must agree."""
    return Sync(
        when=[(Requesting.request, {"path": "/self-comments", "post": post}, {"request": request})],
        where=lambda frames: frames.query(Post._getAuthor, {"post": post}, {"author": author}).query(
            Comment._byPost, {"post": post}, {"comment": comment, "author": author}
        ),
        then=[(Notification.notify, {"message": "self comment", "comment": comment})],
    )


async def test_a_query_row_disagreeing_with_an_already_bound_variable_is_dropped() -> None:
    post, comment, notification = Post(), Comment(), Notification()
    engine = engine_with(Requesting(), post, comment, notification, syncs=[NotifySelfComments])
    post.posts["p1"] = "alice"
    comment.comments.update(
        {
            "c1": {"post": "p1", "author": "alice"},
            "c2": {"post": "p1", "author": "bob"},
            "c3": {"post": "p1", "author": "alice"},
        }
    )

    await engine.run(Requesting.request, {"path": "/self-comments", "post": "p1"})

    assert [n["comment"] for n in notification.sent] == ["c1", "c3"]


# -- zero matches: default and into ---------------------------------------------------


@sync
def CountOf(request, counter, count):
    return Sync(
        when=[(Requesting.request, {"path": "/count-of", "counter": counter}, {"request": request})],
        where=lambda frames: frames.query(
            Counter._getCount, {"counter": counter}, {"count": count}, default={"count": 0}
        ),
        then=[(Requesting.respond, {"request": request, "count": count})],
    )


async def test_a_query_with_a_default_answers_with_the_default_when_there_are_no_rows() -> None:
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[CountOf])
    counter.counts["known"] = 5

    unknown = await engine.run(Requesting.request, {"path": "/count-of", "counter": "unknown"})
    known = await engine.run(Requesting.request, {"path": "/count-of", "counter": "known"})

    assert requesting.responses[unknown.root.output["request"]] == {"count": 0}
    assert requesting.responses[known.root.output["request"]] == {"count": 5}


@sync
def CommentsOf(request, post, comments):
    return Sync(
        when=[(Requesting.request, {"path": "/comments-of", "post": post}, {"request": request})],
        where=lambda frames: frames.query(Comment._byPost, {"post": post}, into=comments),
        then=[(Requesting.respond, {"request": request, "comments": comments})],
    )


async def test_a_query_into_a_variable_binds_an_empty_list_when_there_are_no_rows() -> None:
    requesting, comment = Requesting(), Comment()
    engine = engine_with(requesting, comment, syncs=[CommentsOf])

    flow = await engine.run(Requesting.request, {"path": "/comments-of", "post": "p1"})

    assert requesting.responses == {flow.root.output["request"]: {"comments": []}}


async def test_a_query_into_a_variable_binds_all_rows_as_one_list_keyed_by_the_querys_keys() -> None:
    requesting, comment = Requesting(), Comment()
    engine = engine_with(requesting, comment, syncs=[CommentsOf])
    comment.comments.update({"c1": {"post": "p1", "author": "a"}, "c2": {"post": "p1", "author": "b"}})

    flow = await engine.run(Requesting.request, {"path": "/comments-of", "post": "p1"})

    assert flow.fired() == ["CommentsOf"]  # one frame, one response
    assert requesting.responses[flow.root.output["request"]] == {
        "comments": [{"comment": "c1", "author": "a"}, {"comment": "c2", "author": "b"}]
    }


# -- collect_as -----------------------------------------------------------------------


@sync
def DigestByAuthor(request, post, comment, author, comments):
    """One notification per comment author, listing that author's comments on the post."""
    return Sync(
        when=[(Requesting.request, {"path": "/digest", "post": post}, {"request": request})],
        where=lambda frames: frames.query(
            Comment._byPost, {"post": post}, {"comment": comment, "author": author}
        ).collect_as([comment], comments),
        then=[(Notification.notify, {"message": "digest", "author": author, "comments": comments})],
    )


async def test_collect_as_groups_by_the_variables_it_does_not_collect() -> None:
    comment, notification = Comment(), Notification()
    engine = engine_with(Requesting(), comment, notification, syncs=[DigestByAuthor])
    comment.comments.update(
        {
            "c1": {"post": "p1", "author": "bob"},
            "c2": {"post": "p1", "author": "carol"},
            "c3": {"post": "p1", "author": "bob"},
            "c4": {"post": "p2", "author": "bob"},
        }
    )

    flow = await engine.run(Requesting.request, {"path": "/digest", "post": "p1"})

    assert sorted(notification.sent, key=lambda n: n["author"]) == [
        {"message": "digest", "author": "bob", "comments": [{"comment": "c1"}, {"comment": "c3"}]},
        {"message": "digest", "author": "carol", "comments": [{"comment": "c2"}]},
    ]
    assert [r.sync for r in flow.records] == [None, "DigestByAuthor", "DigestByAuthor"]


# -- map --------------------------------------------------------------------------------


@sync
def NotifyDoubledCount(count, doubled):
    async def double(frame):
        await asyncio.sleep(0)
        return {**frame, doubled: frame[count] * 2}

    return Sync(
        when=[(Counter.increment, {}, {"count": count})],
        where=lambda frames: frames.map(double, binds=[doubled]),
        then=[(Notification.notify, {"message": "doubled", "doubled": doubled})],
    )


async def test_a_map_step_binds_the_variables_then_uses() -> None:
    counter, notification = Counter(), Notification()
    engine = engine_with(counter, notification, syncs=[NotifyDoubledCount])
    counter.counts["main"] = 20

    await engine.run(Counter.increment, {})

    assert notification.sent == [{"message": "doubled", "doubled": 42}]


async def test_the_where_function_is_called_once_at_registration_not_per_match() -> None:
    calls = []

    @sync
    def CountedWhere(count):
        def where(frames):
            calls.append(frames)
            return frames.filter(lambda frame: frame[count] > 0)

        return Sync(
            when=[(Counter.increment, {}, {"count": count})],
            where=where,
            then=[(Notification.notify, {"message": "counted"})],
        )

    notification = Notification()
    engine = engine_with(Counter(), notification, syncs=[CountedWhere])
    for _ in range(3):
        await engine.run(Counter.increment, {})

    assert len(calls) == 1
    assert len(notification.sent) == 3


# -- without ----------------------------------------------------------------------------------


@sync
def RespondUnknownCounter(request, counter):
    return Sync(
        when=[(Requesting.request, {"path": "/unknown-counter", "counter": counter}, {"request": request})],
        where=lambda frames: frames.without(Counter._getCount, {"counter": counter}),
        then=[(Requesting.respond, {"request": request, "unknown": counter})],
    )


async def test_without_keeps_only_the_frames_for_which_the_query_has_no_rows() -> None:
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[RespondUnknownCounter])
    counter.counts["known"] = 1

    known = await engine.run(Requesting.request, {"path": "/unknown-counter", "counter": "known"})
    unknown = await engine.run(Requesting.request, {"path": "/unknown-counter", "counter": "nope"})

    assert known.fired() == []
    assert requesting.responses == {unknown.root.output["request"]: {"unknown": "nope"}}


# -- queries see the state left by earlier actions --------------------------------------------


@sync
def IncrementTwice(request, counter):
    return Sync(
        when=[(Requesting.request, {"path": "/twice", "counter": counter}, {"request": request})],
        then=[(Counter.increment, {"counter": counter}), (Counter.increment, {"counter": counter})],
    )


@sync
def NotifyCountReadBack(counter, count, stored):
    """Reads the count back with a query after each increment (same query, same inputs)."""
    return Sync(
        when=[(Counter.increment, {"counter": counter}, {"count": count})],
        where=lambda frames: frames.query(Counter._getCount, {"counter": counter}, {"count": stored}),
        then=[(Notification.notify, {"message": "stored", "stored": stored})],
    )


async def test_a_where_query_sees_the_state_left_by_the_actions_completed_before_it() -> None:
    notification = Notification()
    engine = engine_with(Requesting(), Counter(), notification, syncs=[IncrementTwice, NotifyCountReadBack])

    await engine.run(Requesting.request, {"path": "/twice", "counter": "c"})

    assert [n["stored"] for n in notification.sent] == [1, 2]


# -- the syncs one completion triggers all judge the same state ------------------------------


@sync
def IncrementOnRequest(request, counter):
    return Sync(
        when=[(Requesting.request, {"path": "/judge", "counter": counter}, {"request": request})],
        then=[(Counter.increment, {"counter": counter})],
    )


@sync
def RespondWhileCounterIsZero(request, counter):
    return Sync(
        when=[(Requesting.request, {"path": "/judge", "counter": counter}, {"request": request})],
        where=lambda frames: frames.without(Counter._getCount, {"counter": counter}),
        then=[(Requesting.respond, {"request": request, "fresh": True})],
    )


async def test_syncs_triggered_by_one_completion_see_the_state_before_any_of_them_fires() -> None:
    requesting, counter = Requesting(), Counter()
    engine = engine_with(requesting, counter, syncs=[IncrementOnRequest, RespondWhileCounterIsZero])

    flow = await engine.run(Requesting.request, {"path": "/judge", "counter": "new"})

    assert counter.counts["new"] == 1
    assert flow.fired() == ["IncrementOnRequest", "RespondWhileCounterIsZero"]
    assert requesting.responses == {flow.root.output["request"]: {"fresh": True}}
