"""Which requests the journal (`Requesting.requests`) keeps under each REQUESTING_JOURNAL,
through the app and a real database, and that every record it keeps is free of secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bson import json_util

from app.api.journal import FailureSampler
from tests.api.helpers import USERNAME

from .helpers import AUTHENTICATE, CHANGE_OWN_PASSWORD, REQUESTS, SESSIONS, Api, StartApi

PASSWORD, NEW_PASSWORD, WRONG_PASSWORD = "first Pa55word", "second Pa55word", "wrong Pa55word"

READ, WRITE, FAILURE = "read", "write", "failure"
TRAFFIC = [  # what `traffic` makes, in order
    ("/UserAuthentication/register", "OK", WRITE),
    ("/me", "OK", READ),
    ("/me", "OK", READ),
    ("/UserAuthentication/_getUsernameById", "OK", READ),
    ("/logout", "OK", WRITE),
    ("/UserAuthentication/_getUsernameById", "UNAUTHENTICATED", FAILURE),
    ("/UserAuthentication/authenticate", "INVALID_CREDENTIALS", FAILURE),
    ("/UserAuthentication/register", "INVALID_USERNAME", FAILURE),
]


async def traffic(api: Api) -> None:
    """Reads, writes and failures (a read's among them), over GraphQL and REST."""
    user, token = await api.register("alice", PASSWORD)
    assert (await api.me(token)) == {"id": user, "username": "alice"}
    assert (await api.rest("/me", {"session": token})).json()["username"] == "alice"
    assert (await api.gql(USERNAME, {"user": user}, token=token))["data"] == {"usernameById": "alice"}
    assert (await api.gql("mutation { logout { ok } }", token=token))["data"] == {"logout": {"ok": True}}
    assert (await api.gql(USERNAME, {"user": user}))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = await api.gql(AUTHENTICATE, {"username": "alice", "password": WRONG_PASSWORD})
    assert wrong["data"]["authenticate"]["code"] == "INVALID_CREDENTIALS"
    assert (await api.rest("/UserAuthentication/register", {"username": "x", "password": PASSWORD})).status_code == 400


async def kept(api: Api) -> list[tuple[str, str]]:
    await api.flush()
    records = await api.mongo[api.db_name][REQUESTS].find({}, sort=[("time", 1)]).to_list()
    return [(record["path"], record["status"]) for record in records]


def of(*kinds: str) -> list[tuple[str, str]]:
    """The requests of `traffic` of these kinds, in the order they were made."""
    return [(path, status) for path, status, kind in TRAFFIC if kind in kinds]


@pytest.mark.parametrize(
    ("setting", "sample", "expected"),
    [
        ("all", 0.0, of(READ, WRITE, FAILURE)),
        ("default", 0.0, of(WRITE, FAILURE)),
        ("default", 1.0, of(READ, WRITE, FAILURE)),
        ("off", 1.0, []),
    ],
    ids=["all", "default, no reads sampled", "default, every read sampled", "off"],
)
async def test_the_requests_kept_under_each_setting(
    start_api: StartApi, setting: str, sample: float, expected: list[tuple[str, str]]
) -> None:
    async with start_api(requesting_journal=setting, requesting_sample_queries=sample) as api:
        await traffic(api)

        assert await kept(api) == expected
        assert (api.services.journal is None) == (setting == "off")


async def test_the_default_keeps_writes_and_failures_and_a_sample_of_reads(start_api: StartApi) -> None:
    """The setting as shipped (1% of reads sampled): every write and failure is kept
    among the reads, whichever of the reads the sample takes."""
    async with start_api(requesting_journal="default") as api:
        user, token = await api.register("alice", PASSWORD)
        for _ in range(20):
            await api.me(token)
        assert (await api.gql(USERNAME, {"user": user}))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        records = await kept(api)
        assert [r for r in records if r[0] != "/me"] == [
            ("/UserAuthentication/register", "OK"),
            ("/UserAuthentication/_getUsernameById", "UNAUTHENTICATED"),
        ]
        assert api.services.journal.policy.sample_queries == 0.01


async def test_a_read_that_marks_its_session_used_is_still_a_read(start_api: StartApi) -> None:
    """`me` on a session last used over a minute ago also records its use (a write of
    bookkeeping); the journal still counts it a read, or with many sessions every read
    would be kept."""
    async with start_api(requesting_journal="default", requesting_sample_queries=0.0) as api:
        user, token = await api.register("alice", PASSWORD)
        sessions = api.mongo[api.db_name][SESSIONS]
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        await sessions.update_many({}, {"$set": {"last_used": long_ago}})

        assert (await api.me(token)) == {"id": user, "username": "alice"}

        assert (await sessions.find_one({}) or {})["last_used"] > long_ago  # the read did mark the use
        assert await kept(api) == [("/UserAuthentication/register", "OK")]


@pytest.mark.parametrize(("setting", "sample"), [("all", 0.0), ("default", 0.0), ("default", 1.0)])
async def test_no_record_kept_holds_a_secret(start_api: StartApi, setting: str, sample: float) -> None:
    async with start_api(requesting_journal=setting, requesting_sample_queries=sample) as api:
        tokens = [(await api.register("alice", PASSWORD))[1], await api.authenticate("alice", PASSWORD)]
        await api.me(tokens[0])
        changed = await api.gql(CHANGE_OWN_PASSWORD, {"old": PASSWORD, "new": NEW_PASSWORD}, token=tokens[0])
        assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess", changed
        wrong = await api.rest("/login", {"username": "alice", "password": WRONG_PASSWORD})
        assert wrong.json()["code"] == "INVALID_CREDENTIALS"
        tokens.append((await api.rest("/login", {"username": "alice", "password": NEW_PASSWORD})).json()["session"])
        assert (await api.rest("/logout", {"session": tokens[1]})).json()["code"] == "UNAUTHENTICATED"
        assert (await api.rest("/logout", {})).status_code == 401

        await api.flush()
        records = await api.mongo[api.db_name][REQUESTS].find({}).to_list()

    assert len(records) >= 7
    for record in records:
        raw = json_util.dumps(record)
        for secret in [PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, *tokens]:
            assert secret not in raw, record
        for part in (record["inputs"], record["response"]):
            for key in {"password", "oldPassword", "newPassword", "session"} & set(part):
                assert part[key] in ("***", None), record


# -- a flood of failures ------------------------------------------------------------------------


class StillTime:
    """A monotonic clock that stands still until moved."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_of_failures_from_one_address_is_kept_in_full_up_to_the_burst_then_sampled() -> None:
    clock = StillTime()
    sampler = FailureSampler(clock)

    flood = sum(sampler.keeps("198.51.100.7") for _ in range(3000))
    other = sum(sampler.keeps("198.51.100.8") for _ in range(100))

    assert flood == FailureSampler.BURST + (3000 - FailureSampler.BURST) // FailureSampler.ONE_IN  # 129
    assert flood <= 300
    assert other == 100  # another address is not affected


def test_the_full_rate_comes_back_as_the_hour_passes() -> None:
    clock = StillTime()
    sampler = FailureSampler(clock)
    assert sum(sampler.keeps("a") for _ in range(FailureSampler.BURST)) == FailureSampler.BURST
    assert not sampler.keeps("a")

    clock.now += 36  # a hundredth of an hour: one failure's worth
    assert [sampler.keeps("a"), sampler.keeps("a")] == [True, False]

    clock.now += 3600
    assert sum(sampler.keeps("a") for _ in range(FailureSampler.BURST)) == FailureSampler.BURST


def test_the_table_of_addresses_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FailureSampler, "ADDRESSES", 3)
    sampler = FailureSampler(StillTime())
    for address in ("a", "b", "c", "d"):
        sampler.keeps(address)

    assert len(sampler._buckets) == 3
    assert "a" not in sampler._buckets  # the one seen longest ago goes first


async def test_under_default_a_failure_is_kept_per_address_and_under_all_every_one(start_api: StartApi) -> None:
    for setting, expected in (("default", 1 + 10 // FailureSampler.ONE_IN), ("all", 10)):
        async with start_api(requesting_journal=setting) as api:
            monkeypatch_burst(api, 1)
            for _ in range(10):
                assert (await api.rest("/logout", {"session": "nope"})).status_code == 401
            await api.flush()
            assert await api.count(REQUESTS, {"path": "/logout"}) == expected, setting
            await api.mongo[api.db_name][REQUESTS].delete_many({})


def monkeypatch_burst(api: Api, burst: int) -> None:
    """This app's sampler with a smaller burst (its bucket is made on the first failure)."""
    api.services.journal.failures.BURST = burst
