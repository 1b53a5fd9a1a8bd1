"""Throttling: attempts are counted before they are made, atomically, so no more than
the limit get through however many arrive at once; a key's limit and a source's
limit, windows that pass, successes that clear."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.concepts.throttling import Limit, Throttling

ATTEMPTS = "Throttling.attempts"
WINDOW = timedelta(minutes=15)


@pytest.fixture
async def throttling(database: Any) -> Throttling:
    return Throttling(
        {
            "login": Limit(3, WINDOW, per_source=5),
            "registration": Limit(2, WINDOW),
        }
    )


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


async def codes(throttling: Throttling, times: int, kind: str, key: str | None, source: str | None = None) -> list:
    return [code(await throttling.attempt(kind=kind, key=key, source=source)) for _ in range(times)]


async def test_attempts_are_allowed_up_to_the_limit_then_rate_limited(throttling: Throttling) -> None:
    assert await codes(throttling, 5, "login", "alice") == [None, None, None, "RATE_LIMITED", "RATE_LIMITED"]


async def test_an_allowed_attempt_says_what_was_counted_and_when(throttling: Throttling) -> None:
    before = datetime.now(UTC)

    output = await throttling.attempt(kind="login", key="alice", source="10.0.0.1")

    assert output["kind"] == "login" and output["key"] == "alice"
    assert before <= output["at"] <= datetime.now(UTC)


async def test_concurrent_attempts_get_through_no_more_than_the_limit(throttling: Throttling, database: Any) -> None:
    for trial in range(5):
        outputs = await asyncio.gather(*(throttling.attempt(kind="login", key=f"user{trial}") for _ in range(40)))

        assert [code(output) for output in outputs].count(None) == 3
        assert (await database[ATTEMPTS].find_one({"_id": f"login:user{trial}"}))["attempts"] == 3


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

    found = await database[ATTEMPTS].find_one({"_id": "login:alice"})
    assert found is not None and found["attempts"] == 0
    assert await codes(throttling, 1, "login", "alice", "10.0.0.2") == [None]


async def test_an_attempt_refused_by_its_key_is_not_counted_against_its_source(
    throttling: Throttling, database: Any
) -> None:
    await codes(throttling, 3, "login", "alice", "10.0.0.1")

    assert await codes(throttling, 4, "login", "alice", "10.0.0.1") == ["RATE_LIMITED"] * 4

    assert (await database[ATTEMPTS].find_one({"_id": "login from 10.0.0.1"}))["attempts"] == 3


async def test_a_kind_without_a_source_limit_ignores_the_source(throttling: Throttling, database: Any) -> None:
    await codes(throttling, 1, "registration", "10.0.0.1", source="10.0.0.9")

    assert await database[ATTEMPTS].count_documents({}) == 1


async def test_a_missing_key_or_source_is_not_counted(throttling: Throttling, database: Any) -> None:
    assert await codes(throttling, 10, "registration", None) == [None] * 10
    assert await codes(throttling, 10, "login", None, None) == [None] * 10

    assert await database[ATTEMPTS].count_documents({}) == 0


async def test_once_the_window_has_passed_a_new_one_starts(throttling: Throttling, database: Any) -> None:
    await codes(throttling, 3, "login", "alice", "10.0.0.1")
    assert await codes(throttling, 1, "login", "alice") == ["RATE_LIMITED"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    await database[ATTEMPTS].update_many({}, {"$set": {"expires": past}})  # as if the window had passed

    assert await codes(throttling, 4, "login", "alice", "10.0.0.1") == [None, None, None, "RATE_LIMITED"]

    found = await database[ATTEMPTS].find_one({"_id": "login:alice"})
    assert found["attempts"] == 3 and found["expires"] > datetime.now(UTC) + WINDOW - timedelta(minutes=1)


async def test_concurrent_attempts_after_the_window_has_passed_open_one_new_window(
    throttling: Throttling, database: Any
) -> None:
    await codes(throttling, 3, "login", "alice")
    await database[ATTEMPTS].update_many({}, {"$set": {"expires": datetime.now(UTC) - timedelta(seconds=1)}})

    outputs = await asyncio.gather(*(throttling.attempt(kind="login", key="alice") for _ in range(20)))

    assert [code(output) for output in outputs].count(None) <= 3
    assert (await database[ATTEMPTS].find_one({"_id": "login:alice"}))["attempts"] <= 3


async def test_a_success_clears_the_key_and_takes_back_the_sources_attempt(
    throttling: Throttling, database: Any
) -> None:
    await codes(throttling, 2, "login", "alice", "10.0.0.1")

    output = await throttling.succeed(kind="login", key="ALICE", source="10.0.0.1")

    assert output == {"kind": "login", "key": "ALICE"}
    assert (await database[ATTEMPTS].find_one({"_id": "login:alice"}))["attempts"] == 0
    assert (await database[ATTEMPTS].find_one({"_id": "login from 10.0.0.1"}))["attempts"] == 1
    assert await codes(throttling, 3, "login", "alice", "10.0.0.1") == [None, None, None]


async def test_a_success_never_takes_a_source_below_zero(throttling: Throttling, database: Any) -> None:
    await codes(throttling, 1, "login", "alice", "10.0.0.1")

    for _ in range(3):
        await throttling.succeed(kind="login", key="alice", source="10.0.0.1")

    assert (await database[ATTEMPTS].find_one({"_id": "login from 10.0.0.1"}))["attempts"] == 0


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
    assert code(await throttling.succeed(**inputs)) == "UNKNOWN_KIND"
    assert await database[ATTEMPTS].count_documents({}) == 0


async def test_attempts_expire_with_their_window(database: Any) -> None:
    indexes = await database[ATTEMPTS].index_information()

    assert any(index.get("expireAfterSeconds") == 0 and index["key"] == [("expires", 1)] for index in indexes.values())
