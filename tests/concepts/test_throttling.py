"""Throttling: attempts are counted before they are made, atomically, so no more than
the limit get through however many arrive at once; a key's limit and a source's
limit, windows aligned to the clock, successes that clear, and the sweep of the
windows that have passed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import NetworkTimeout

from app.concepts.throttling import Count, Limit, Throttling, concept
from app.concepts.throttling.concept import SWEEP_EVERY

from .helpers import GatedCollection, Held, StillClock

COUNTS = Count.Settings.name
WINDOW = timedelta(minutes=15)
START = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)  # in the window 10:00 to 10:15
END = "2026-12-01T10:15:00Z"


@pytest.fixture
def clock() -> StillClock:
    return StillClock(START)


LIMITS = {"login": Limit(3, WINDOW, per_source=5), "registration": Limit(2, WINDOW)}


@pytest.fixture
async def throttling(database: Any, clock: StillClock) -> Throttling:
    return Throttling(LIMITS, clock)


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


async def codes(throttling: Throttling, times: int, kind: str, key: str | None, source: str | None = None) -> list:
    return [code(await throttling.attempt(kind=kind, key=key, source=source)) for _ in range(times)]


async def stored(database: Any) -> dict[str, int]:
    return {document["_id"]: document["attempts"] async for document in database[COUNTS].find()}


async def test_attempts_are_allowed_up_to_the_limit_then_rate_limited(throttling: Throttling) -> None:
    assert await codes(throttling, 5, "login", "alice") == [None, None, None, "RATE_LIMITED", "RATE_LIMITED"]


async def test_an_allowed_attempt_says_what_was_counted_and_when(throttling: Throttling) -> None:
    output = await throttling.attempt(kind="login", key="alice", source="10.0.0.1")

    assert output == {"kind": "login", "key": "alice", "at": START}


async def test_a_count_is_kept_under_its_windows_end_and_its_key(throttling: Throttling, database: Any) -> None:
    await codes(throttling, 2, "login", "Alice", "10.0.0.1")

    assert await stored(database) == {f"{END} login:alice": 2, f"{END} login from 10.0.0.1": 2}


async def test_concurrent_attempts_get_through_no_more_than_the_limit(throttling: Throttling, database: Any) -> None:
    for trial in range(5):
        outputs = await asyncio.gather(*(throttling.attempt(kind="login", key=f"user{trial}") for _ in range(40)))

        assert [code(output) for output in outputs].count(None) == 3
        assert (await stored(database))[f"{END} login:user{trial}"] == 3


async def test_concurrent_attempts_from_one_source_get_through_no_more_than_its_limit(throttling: Throttling) -> None:
    outputs = await asyncio.gather(
        *(throttling.attempt(kind="login", key=f"user{i}", source="10.0.0.1") for i in range(40))
    )

    assert [code(output) for output in outputs].count(None) == 5


async def test_keys_are_compared_without_regard_to_case(throttling: Throttling) -> None:
    await codes(throttling, 1, "login", "alice")
    await codes(throttling, 1, "login", "ALICE")
    await codes(throttling, 1, "login", "Alice")

    assert await codes(throttling, 1, "login", "aLiCe") == ["RATE_LIMITED"]


async def test_kinds_and_keys_count_apart(throttling: Throttling) -> None:
    await codes(throttling, 3, "login", "alice")

    assert await codes(throttling, 1, "login", "bob") == [None]
    assert await codes(throttling, 1, "registration", "alice") == [None]


async def test_an_attempt_refused_by_its_source_is_not_counted_against_its_key(
    throttling: Throttling, database: Any
) -> None:
    for i in range(5):
        await throttling.attempt(kind="login", key=f"user{i}", source="10.0.0.1")

    assert await codes(throttling, 4, "login", "alice", "10.0.0.1") == ["RATE_LIMITED"] * 4

    assert f"{END} login:alice" not in await stored(database)
    assert await codes(throttling, 1, "login", "alice", "10.0.0.2") == [None]


async def test_an_attempt_refused_by_its_key_is_not_counted_against_its_source(
    throttling: Throttling, database: Any
) -> None:
    await codes(throttling, 3, "login", "alice", "10.0.0.1")

    assert await codes(throttling, 4, "login", "alice", "10.0.0.1") == ["RATE_LIMITED"] * 4

    assert (await stored(database))[f"{END} login from 10.0.0.1"] == 3


async def test_a_kind_without_a_source_limit_ignores_the_source(throttling: Throttling, database: Any) -> None:
    await codes(throttling, 1, "registration", "10.0.0.1", source="10.0.0.9")

    assert await stored(database) == {f"{END} registration:10.0.0.1": 1}


async def test_a_missing_key_or_source_is_not_counted(throttling: Throttling, database: Any) -> None:
    assert await codes(throttling, 10, "registration", None) == [None] * 10
    assert await codes(throttling, 10, "login", None, None) == [None] * 10

    assert await stored(database) == {}


async def test_each_window_counts_afresh(throttling: Throttling, clock: StillClock, database: Any) -> None:
    await codes(throttling, 3, "login", "alice", "10.0.0.1")
    clock.now = datetime(2026, 12, 1, 10, 14, 59, 999999, tzinfo=UTC)  # the last moment of the window
    assert await codes(throttling, 1, "login", "alice") == ["RATE_LIMITED"]

    clock.now = datetime(2026, 12, 1, 10, 15, tzinfo=UTC)

    assert await codes(throttling, 4, "login", "alice", "10.0.0.1") == [None, None, None, "RATE_LIMITED"]
    counts = await stored(database)
    assert counts[f"{END} login:alice"] == 3 and counts["2026-12-01T10:30:00Z login:alice"] == 3


async def test_concurrent_first_attempts_in_a_new_window_open_one_count(
    throttling: Throttling, clock: StillClock, database: Any
) -> None:
    await codes(throttling, 3, "login", "alice")
    clock.now += WINDOW

    outputs = await asyncio.gather(*(throttling.attempt(kind="login", key="alice") for _ in range(20)))

    assert [code(output) for output in outputs].count(None) == 3
    assert (await stored(database))["2026-12-01T10:30:00Z login:alice"] == 3


async def test_a_success_clears_the_key_and_takes_back_the_sources_attempt(
    throttling: Throttling, database: Any
) -> None:
    await codes(throttling, 2, "login", "alice", "10.0.0.1")

    output = await throttling.succeed(kind="login", key="ALICE", at=START, source="10.0.0.1")

    assert output == {"kind": "login", "key": "ALICE"}
    assert await stored(database) == {f"{END} login:alice": 0, f"{END} login from 10.0.0.1": 1}
    assert await codes(throttling, 3, "login", "alice", "10.0.0.1") == [None, None, None]


async def test_a_success_after_its_window_ended_gives_back_to_the_window_it_was_counted_in(
    throttling: Throttling, clock: StillClock, database: Any
) -> None:
    attempt = await throttling.attempt(kind="login", key="alice", source="10.0.0.1")
    clock.now = datetime(2026, 12, 1, 10, 15, 30, tzinfo=UTC)  # the next window; its check took a while
    await codes(throttling, 2, "login", "alice", "10.0.0.1")

    await throttling.succeed(kind="login", key="alice", at=attempt["at"], source="10.0.0.1")

    assert await stored(database) == {
        f"{END} login:alice": 0,
        f"{END} login from 10.0.0.1": 0,
        "2026-12-01T10:30:00Z login:alice": 2,
        "2026-12-01T10:30:00Z login from 10.0.0.1": 2,
    }


async def test_a_success_never_takes_a_source_below_zero(throttling: Throttling, database: Any) -> None:
    await codes(throttling, 1, "login", "alice", "10.0.0.1")

    for _ in range(3):
        await throttling.succeed(kind="login", key="alice", at=START, source="10.0.0.1")

    assert (await stored(database))[f"{END} login from 10.0.0.1"] == 0


@pytest.mark.parametrize(
    "inputs",
    [
        {"kind": "nothing", "key": "alice"},
        {"kind": "login", "key": {"$ne": None}},
        {"kind": "login", "key": "alice", "source": ["10.0.0.1"]},
    ],
)
async def test_an_unknown_kind_or_a_key_that_is_not_text_is_an_error_and_counts_nothing(
    throttling: Throttling, database: Any, inputs: dict[str, Any]
) -> None:
    assert code(await throttling.attempt(**inputs)) == "UNKNOWN_KIND"
    assert code(await throttling.succeed(**inputs, at=START)) == "UNKNOWN_KIND"
    assert await stored(database) == {}


async def test_the_counts_of_a_window_are_swept_a_window_after_it_ended(
    throttling: Throttling, clock: StillClock, database: Any
) -> None:
    await codes(throttling, 1, "login", "alice")  # the first attempt of a process also sweeps: nothing yet
    clock.now = datetime(2026, 12, 1, 10, 29, 59, tzinfo=UTC)
    await codes(throttling, 1, "login", "bob")  # the 10:15 window ended under a window ago
    assert set(await stored(database)) == {f"{END} login:alice", "2026-12-01T10:30:00Z login:bob"}

    clock.now += timedelta(seconds=1) + SWEEP_EVERY
    await codes(throttling, 1, "login", "carol")

    assert set(await stored(database)) == {"2026-12-01T10:30:00Z login:bob", "2026-12-01T10:45:00Z login:carol"}


async def test_a_sweep_deletes_a_batch_and_sweeps_again_at_once_while_batches_are_full(
    throttling: Throttling, clock: StillClock, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(concept, "SWEPT_AT_ONCE", 2)
    for i in range(4):
        await codes(throttling, 1, "login", f"user{i}", "10.0.0.1")
    clock.now += 2 * WINDOW

    ended = []
    for _ in range(5):
        await codes(throttling, 1, "login", "alice")
        ended.append(sum(1 for key in await stored(database) if key.startswith(END)))

    assert ended == [3, 1, 0, 0, 0]  # 4 usernames and the address: 2 at a time, then the last one


async def test_a_process_sweeps_at_most_once_a_minute(throttling: Throttling, clock: StillClock, database: Any) -> None:
    await codes(throttling, 1, "login", "alice")
    clock.now = datetime(2026, 12, 1, 10, 29, 50, tzinfo=UTC)
    await codes(throttling, 1, "login", "bob")  # sweeps: the 10:15 window ended under a window ago
    clock.now = datetime(2026, 12, 1, 10, 30, 30, tzinfo=UTC)
    await codes(throttling, 1, "login", "carol")  # over a window ago, but the last sweep was under a minute ago
    assert f"{END} login:alice" in await stored(database)

    clock.now += timedelta(seconds=20)
    await codes(throttling, 1, "login", "dave")

    assert f"{END} login:alice" not in await stored(database)


async def test_an_attempt_is_counted_before_its_process_sweeps(
    clock: StillClock, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However long a sweep takes, the attempt that runs it has counted already, in the
    window its clock reading fell in (or it would count in a window swept meanwhile)."""
    clock.now = datetime(2026, 12, 1, 10, 14, 59, tzinfo=UTC)
    first, sweeper, other = (Throttling(LIMITS, clock) for _ in range(3))
    assert await codes(first, 3, "login", "alice") == [None] * 3
    sweep = Throttling._sweep

    async def slow_sweep(self: Throttling, now: datetime) -> None:
        await sweep(self, now)
        if self is sweeper:  # meanwhile, the window ends and another server spends the next one
            clock.now = datetime(2026, 12, 1, 10, 31, 1, tzinfo=UTC)
            assert await codes(other, 3, "login", "alice") == [None] * 3

    monkeypatch.setattr(Throttling, "_sweep", slow_sweep)

    assert code(await sweeper.attempt(kind="login", key="alice")) == "RATE_LIMITED"
    assert f"{END} login:alice" not in await stored(database)  # swept by the other, and not begun again


async def test_a_sweep_that_fails_leaves_the_attempt_counted_and_the_sweep_due(
    throttling: Throttling,
    clock: StillClock,
    database: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tried: list[object] = []

    def unreachable(self: AsyncCollection[Any], *args: Any, **kwargs: Any) -> Any:
        tried.append(args)
        raise NetworkTimeout("timed out")

    monkeypatch.setattr(AsyncCollection, "find", unreachable)

    assert await codes(throttling, 2, "login", "alice") == [None, None]
    monkeypatch.undo()

    assert (await stored(database))[f"{END} login:alice"] == 2
    assert len(tried) == 2  # the second attempt tried again
    assert "deleting ended counts failed (NetworkTimeout)" in caplog.text and "alice" not in caplog.text


async def test_a_refused_attempt_leaves_no_count_behind(throttling: Throttling, database: Any) -> None:
    for i in range(5):
        await codes(throttling, 1, "login", f"user{i}", "10.0.0.1")
    await codes(throttling, 3, "login", "alice", "10.0.0.2")
    before = await stored(database)

    for i in range(20):  # the address is at its limit: a spray of new usernames
        assert await codes(throttling, 1, "login", f"spray{i}", "10.0.0.1") == ["RATE_LIMITED"]
    for i in range(20):  # the username is at its limit: a spray of new addresses
        assert await codes(throttling, 1, "login", "alice", f"10.0.1.{i}") == ["RATE_LIMITED"]

    assert await stored(database) == before


async def test_a_count_taken_back_while_another_attempt_counts_on_it_keeps_the_others(
    throttling: Throttling, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await codes(throttling, 3, "login", "alice", "10.0.0.2")  # alice at her limit, from another address
    held = Held()
    GatedCollection.install(monkeypatch, Count, "delete_one", held)
    refused = asyncio.create_task(throttling.attempt(kind="login", key="alice", source="10.0.0.1"))
    await held.reached.wait()  # the address has counted it (1); alice refused it; the take-back waits

    assert code(await throttling.attempt(kind="login", key="bob", source="10.0.0.1")) is None  # the address: 2
    held.released.set()

    assert code(await refused) == "RATE_LIMITED"
    assert (await stored(database))[f"{END} login from 10.0.0.1"] == 1  # bob's, not deleted with alice's


async def test_a_server_whose_clock_runs_ahead_by_under_a_window_sweeps_no_live_count(database: Any) -> None:
    behind, ahead = StillClock(START), StillClock(START)
    behind.now = datetime(2026, 12, 1, 10, 14, 30, tzinfo=UTC)
    ahead.now = behind.now + WINDOW - timedelta(seconds=1)
    slow, fast = Throttling(LIMITS, behind), Throttling(LIMITS, ahead)
    assert await codes(slow, 3, "login", "alice") == [None] * 3

    await codes(fast, 1, "login", "bob")  # its first attempt sweeps

    assert await codes(slow, 1, "login", "alice") == ["RATE_LIMITED"]


async def test_a_sweep_keeps_the_live_counts_of_a_kind_with_a_longer_window(clock: StillClock, database: Any) -> None:
    throttling = Throttling({"short": Limit(3, timedelta(minutes=1)), "long": Limit(3, timedelta(hours=1))}, clock)
    await codes(throttling, 3, "long", "alice")  # the window 10:00 to 11:00

    for minute in range(1, 50, 2):
        clock.now = START + timedelta(minutes=minute)
        await codes(throttling, 1, "short", "bob")

    assert await codes(throttling, 1, "long", "alice") == ["RATE_LIMITED"]
    clock.now = datetime(2026, 12, 1, 12, 0, 1, tzinfo=UTC)
    await codes(throttling, 1, "short", "bob")
    assert "2026-12-01T11:00:00Z long:alice" not in await stored(database)  # kept an hour past its end


@pytest.mark.parametrize("window", [timedelta(0), timedelta(seconds=1.5), timedelta(milliseconds=10)])
def test_a_window_is_a_whole_number_of_seconds(window: timedelta) -> None:
    with pytest.raises(ValueError, match="whole number of seconds"):
        Limit(3, window)
