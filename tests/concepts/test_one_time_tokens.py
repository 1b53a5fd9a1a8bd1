"""OneTimeTokens: random single-use tokens, stored only as their hash, each for one
purpose and subject and only for a while; redeemed once however many try at once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.concepts.one_time_tokens import OneTimeToken, OneTimeTokens
from app.engine import Engine, Trace

from .helpers import GatedCollection, Held, StillClock
from .indexes import assert_served_by_indexes, recording

TOKENS = OneTimeToken.Settings.name
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LIFETIMES = {"reset": timedelta(hours=1), "verify": timedelta(hours=24)}


@pytest.fixture
def clock() -> StillClock:
    return StillClock(START)


@pytest.fixture
async def tokens(database: Any, clock: StillClock) -> OneTimeTokens:
    return OneTimeTokens(LIFETIMES, clock)


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


async def issue(tokens: OneTimeTokens, purpose: str = "reset", subject: str | None = "u1", **data: Any) -> str:
    out = await tokens.issue(purpose=purpose, subject=subject, data=data or None)
    assert code(out) is None, out
    return str(out["token"])


# -- issue --------------------------------------------------------------------------------------


async def test_a_token_is_256_random_bits_and_lasts_its_purposes_lifetime(tokens: OneTimeTokens) -> None:
    out = await tokens.issue(purpose="reset", subject="u1")

    assert set(out) == {"token", "expiresAt"}
    raw = base64.urlsafe_b64decode(out["token"] + "=")
    assert len(raw) == 32 and len(out["token"]) == 43
    assert out["expiresAt"] == START + timedelta(hours=1)
    assert (await tokens.issue(purpose="verify", subject="u1"))["expiresAt"] == START + timedelta(hours=24)


async def test_the_database_holds_only_the_tokens_sha256(database: Any, tokens: OneTimeTokens) -> None:
    token = await issue(tokens, address="ada@example.com")

    [stored] = await database[TOKENS].find().to_list()
    assert stored["_id"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored)
    assert {k: stored[k] for k in ("purpose", "subject", "data")} == {
        "purpose": "reset",
        "subject": "u1",
        "data": {"address": "ada@example.com"},
    }


async def test_every_token_is_different(tokens: OneTimeTokens) -> None:
    issued = {await issue(tokens) for _ in range(20)}

    assert len(issued) == 20


async def test_an_unknown_purpose_is_a_mistake_of_ours_and_stores_nothing(database: Any, tokens: OneTimeTokens) -> None:
    out = await tokens.issue(purpose="nope", subject="u1")

    assert code(out) == "UNKNOWN_PURPOSE"
    assert await database[TOKENS].count_documents({}) == 0


@pytest.mark.parametrize("data", [["a"], {"nested": {"a": 1}}, {"list": [1]}, {1: "a"}, {"big": "x" * 5000}], ids=repr)
async def test_data_that_is_not_a_small_flat_object_is_refused_and_stores_nothing(
    database: Any, tokens: OneTimeTokens, data: Any
) -> None:
    with pytest.raises(ValueError, match="flat JSON object"):
        await tokens.issue(purpose="reset", subject="u1", data=data)

    assert await database[TOKENS].count_documents({}) == 0


async def test_a_token_may_have_no_subject(tokens: OneTimeTokens) -> None:
    token = await issue(tokens, subject=None, challenge="abc")

    assert await tokens.redeem(purpose="reset", token=token) == {"subject": None, "data": {"challenge": "abc"}}


# -- redeem -------------------------------------------------------------------------------------


async def test_a_token_is_redeemed_once_for_its_subject_and_data(database: Any, tokens: OneTimeTokens) -> None:
    token = await issue(tokens, address="ada@example.com")

    first = await tokens.redeem(purpose="reset", token=token)
    second = await tokens.redeem(purpose="reset", token=token)

    assert first == {"subject": "u1", "data": {"address": "ada@example.com"}}
    assert code(second) == "INVALID_TOKEN"
    assert await database[TOKENS].count_documents({}) == 0


async def test_a_token_of_one_purpose_does_nothing_for_another_and_stays_usable(tokens: OneTimeTokens) -> None:
    token = await issue(tokens, purpose="verify")

    assert code(await tokens.redeem(purpose="reset", token=token)) == "INVALID_TOKEN"
    assert await tokens._getSubject(purpose="reset", token=token) == []
    assert (await tokens.redeem(purpose="verify", token=token))["subject"] == "u1"


async def test_an_expired_token_is_refused_before_the_database_drops_it(
    database: Any, tokens: OneTimeTokens, clock: StillClock
) -> None:
    token = await issue(tokens)
    clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    assert len(await tokens._getSubject(purpose="reset", token=token)) == 1

    clock.advance(timedelta(seconds=1))

    assert await tokens._getSubject(purpose="reset", token=token) == []
    assert code(await tokens.redeem(purpose="reset", token=token)) == "INVALID_TOKEN"
    assert await database[TOKENS].count_documents({}) == 1  # the TTL index's business


@pytest.mark.parametrize(
    "token",
    ["", None, 5, {"$ne": None}, ["x"], "x" * 1000, "tökén", "not-a-token-we-issued-xxxxxxxxxxxxxxxxxxxxxx"],
    ids=repr,
)
async def test_anything_but_a_live_token_is_invalid_and_changes_nothing(
    database: Any, tokens: OneTimeTokens, token: Any
) -> None:
    kept = await issue(tokens)

    assert code(await tokens.redeem(purpose="reset", token=token)) == "INVALID_TOKEN"
    assert await tokens._getSubject(purpose="reset", token=token) == []
    assert (await tokens.redeem(purpose="reset", token=kept))["subject"] == "u1"


async def test_looking_a_token_up_does_not_use_it(tokens: OneTimeTokens) -> None:
    token = await issue(tokens, challenge="c")

    rows = await tokens._getSubject(purpose="reset", token=token)
    again = await tokens._getSubject(purpose="reset", token=token)

    assert rows == again == [{"subject": "u1", "data": {"challenge": "c"}, "expiresAt": START + timedelta(hours=1)}]
    assert (await tokens.redeem(purpose="reset", token=token))["subject"] == "u1"


# -- void ---------------------------------------------------------------------------------------


async def test_void_ends_the_subjects_tokens_of_that_purpose_only(tokens: OneTimeTokens) -> None:
    mine = [await issue(tokens, "reset", "u1") for _ in range(3)]
    my_verify = await issue(tokens, "verify", "u1")
    theirs = await issue(tokens, "reset", "u2")

    assert await tokens.void(purpose="reset", subject="u1") == {"subject": "u1", "count": 3}

    assert [code(await tokens.redeem(purpose="reset", token=token)) for token in mine] == ["INVALID_TOKEN"] * 3
    assert (await tokens.redeem(purpose="verify", token=my_verify))["subject"] == "u1"
    assert (await tokens.redeem(purpose="reset", token=theirs))["subject"] == "u2"


async def test_deleting_a_subjects_tokens_ends_all_of_them_and_no_one_elses(tokens: OneTimeTokens) -> None:
    mine = [await issue(tokens, "reset", "u1"), await issue(tokens, "verify", "u1")]
    theirs = await issue(tokens, "reset", "u2")
    nobodys = await issue(tokens, "reset", None)

    assert await tokens.deleteBySubject(subject="u1") == {"subject": "u1", "count": 2}

    assert [code(await tokens.redeem(purpose=p, token=t)) for p, t in zip(["reset", "verify"], mine, strict=True)] == [
        "INVALID_TOKEN",
        "INVALID_TOKEN",
    ]
    assert (await tokens.redeem(purpose="reset", token=theirs))["subject"] == "u2"
    assert (await tokens.redeem(purpose="reset", token=nobodys))["subject"] is None


@pytest.mark.parametrize("subject", [None, {"$ne": None}, 5], ids=repr)
async def test_voiding_names_a_subject_never_a_pattern(tokens: OneTimeTokens, subject: Any) -> None:
    """Tokens without a subject (a passkey login ticket) are never voided wholesale."""
    nobodys = await issue(tokens, "reset", None)
    someones = await issue(tokens, "reset", "u1")

    assert (await tokens.void(purpose="reset", subject=subject))["count"] == 0
    assert (await tokens.deleteBySubject(subject=subject))["count"] == 0

    assert (await tokens.redeem(purpose="reset", token=nobodys))["subject"] is None
    assert (await tokens.redeem(purpose="reset", token=someones))["subject"] == "u1"


# -- races --------------------------------------------------------------------------------------


async def test_of_concurrent_redeems_of_one_token_exactly_one_wins(
    tokens: OneTimeTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await issue(tokens)
    # Every redeem reaches the database before any of them is let through.
    GatedCollection.install(monkeypatch, OneTimeToken, "find_one_and_delete", 8)

    outs = await asyncio.gather(*(tokens.redeem(purpose="reset", token=token) for _ in range(8)))

    assert sorted(str(code(out)) for out in outs) == ["INVALID_TOKEN"] * 7 + ["None"]


async def test_checking_first_then_redeeming_gives_one_winner_when_two_checked_at_once(
    tokens: OneTimeTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pattern of a second factor: look the ticket up, check the code, then redeem.
    Both checks pass before either redeems; only one redeem wins."""
    token = await issue(tokens)
    both_checked = asyncio.Barrier(2)

    async def check_then_redeem() -> dict[str, Any]:
        assert await tokens._getSubject(purpose="reset", token=token) != []
        await both_checked.wait()
        return dict(await tokens.redeem(purpose="reset", token=token))

    outs = await asyncio.gather(check_then_redeem(), check_then_redeem())

    assert sorted(str(code(out)) for out in outs) == ["INVALID_TOKEN", "None"]


async def test_a_token_voided_while_its_redeem_waits_is_not_redeemed(
    tokens: OneTimeTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await issue(tokens)
    held = Held()
    GatedCollection.install(monkeypatch, OneTimeToken, "find_one_and_delete", held)
    redeeming = asyncio.create_task(tokens.redeem(purpose="reset", token=token))
    await held.reached.wait()

    await tokens.void(purpose="reset", subject="u1")
    held.released.set()

    assert code(await redeeming) == "INVALID_TOKEN"


# -- secrets ------------------------------------------------------------------------------------


async def test_the_engines_trace_never_shows_a_token(database: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="app.engine")
    engine = Engine(trace=Trace.TRACE)
    tokens = OneTimeTokens(LIFETIMES)
    engine.register(tokens)

    token = str((await tokens.issue(purpose="reset", subject="u1"))["token"])
    await tokens.redeem(purpose="reset", token=token)
    await tokens.redeem(purpose="reset", token=token)

    assert "OneTimeTokens.issue" in caplog.text and "OneTimeTokens.redeem" in caplog.text
    assert token not in caplog.text and token[:16] not in caplog.text


# -- storage ------------------------------------------------------------------------------------


async def test_the_tokens_expire_by_a_ttl_index_and_are_found_by_subject(database: Any) -> None:
    indexes = await database[TOKENS].index_information()

    assert indexes["expires_1"]["key"] == [("expires", 1)] and indexes["expires_1"]["expireAfterSeconds"] == 0
    assert indexes["subject_1_purpose_1"]["key"] == [("subject", 1), ("purpose", 1)]


async def test_every_query_is_served_by_an_index(database_url: str, db_name: str) -> None:
    async with recording(database_url, db_name) as (database, recorder):
        tokens = OneTimeTokens(LIFETIMES)
        token = str((await tokens.issue(purpose="reset", subject="u1"))["token"])
        await tokens._getSubject(purpose="reset", token=token)
        await tokens.redeem(purpose="reset", token=token)
        await tokens.void(purpose="verify", subject="u1")
        await tokens.deleteBySubject(subject="u1")

        assert {(q.collection, tuple(sorted(q.query))) for q in recorder.issued} == {
            (TOKENS, ("_id", "expires", "purpose")),
            (TOKENS, ("purpose", "subject")),
            (TOKENS, ("subject",)),
        }
        await assert_served_by_indexes(database, recorder.issued)
