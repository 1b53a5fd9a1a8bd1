"""TwoFactor against the real database, on a clock the tests move: setup and its
confirmation, TOTP codes (drift, replay), recovery codes, disabling, key rotation, the
races that matter, and the secrets never stored in clear."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from app.concepts.two_factor import Factor, TwoFactor
from app.sealing import Sealer, derive_key

from .helpers import GatedCollection, StillClock
from .indexes import assert_served_by_indexes, recording, winning_stages

FACTORS = "TwoFactor.factors"
ADA, BOB = "6b0000000000000000000001", "6b0000000000000000000002"
START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)  # the start of a 30-second step


def two_factor(clock: StillClock, *keys: str) -> TwoFactor:
    keys = keys or ("the current key, long enough for the tests",)
    return TwoFactor(
        Sealer.for_purpose(keys, "totp secrets"), [derive_key(k, "recovery codes") for k in keys], "Tests", clock
    )


@pytest.fixture
def clock() -> StillClock:
    return StillClock(START)


@pytest.fixture
async def factors(database: Any, clock: StillClock) -> TwoFactor:
    return two_factor(clock)


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


async def enable(factors: TwoFactor, clock: StillClock, user: str = ADA) -> tuple[str, list[str]]:
    """A confirmed setup; (its secret, its recovery codes). The clock moves past the confirming code's step."""
    setup = await factors.beginSetup(user=user, username="ada")
    confirmed = await factors.confirmSetup(user=user, code=code_at(setup["secret"], clock()))
    assert code(confirmed) is None, confirmed
    clock.advance(timedelta(seconds=30))
    return setup["secret"], confirmed["recoveryCodes"]


async def verify(factors: TwoFactor, given: str, user: str = ADA) -> dict[str, Any]:
    return await factors.verify(user=user, code=given, proven="password", version=3)  # type: ignore[return-value]


# -- setup ------------------------------------------------------------------------------------------


async def test_a_setup_answers_a_secret_its_uri_and_a_qr_code_and_is_pending_until_confirmed(
    factors: TwoFactor, clock: StillClock
) -> None:
    setup = await factors.beginSetup(user=ADA, username="ada")

    uri = urlparse(setup["uri"])
    query = parse_qs(uri.query)
    assert uri.scheme == "otpauth" and uri.netloc == "totp" and uri.path == "/Tests:ada"
    assert query["secret"] == [setup["secret"]] and query["issuer"] == ["Tests"]
    assert len(setup["secret"]) == 32  # 160 bits, as RFC 4226 recommends
    assert setup["qrCodeSvg"].startswith("<svg") and setup["qrCodeSvg"].endswith("</svg>")
    assert await factors._getStatus(user=ADA) == [{"totp": False, "recoveryCodesLeft": 0}]
    assert await factors._isEnabled(user=ADA) == []
    assert code(await verify(factors, code_at(setup["secret"], clock()))) == "INVALID_CODE"  # not in force yet


async def test_a_setup_is_confirmed_by_a_code_of_its_secret_and_answers_ten_recovery_codes(
    factors: TwoFactor, clock: StillClock
) -> None:
    setup = await factors.beginSetup(user=ADA, username="ada")
    wrong = await factors.confirmSetup(
        user=ADA, code="000000" if code_at(setup["secret"], clock()) != "000000" else "1"
    )

    confirmed = await factors.confirmSetup(user=ADA, code=code_at(setup["secret"], clock()))

    assert code(wrong) == "INVALID_CODE"
    codes = confirmed["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    assert await factors._getStatus(user=ADA) == [{"totp": True, "recoveryCodesLeft": 10}]
    assert await factors._isEnabled(user=ADA) == [{"user": ADA}]


async def test_confirming_without_a_pending_setup_is_an_invalid_code(factors: TwoFactor, clock: StillClock) -> None:
    assert code(await factors.confirmSetup(user=ADA, code="123456")) == "INVALID_CODE"
    secret, _ = await enable(factors, clock)

    again = await factors.confirmSetup(user=ADA, code=code_at(secret, clock()))  # confirmed already

    assert code(again) == "INVALID_CODE"


async def test_a_new_setup_leaves_the_old_secret_in_force_until_it_is_confirmed(
    factors: TwoFactor, clock: StillClock
) -> None:
    old, _ = await enable(factors, clock)
    new = (await factors.beginSetup(user=ADA, username="ada"))["secret"]

    assert (await verify(factors, code_at(old, clock())))["method"] == "password+totp"
    assert code(await verify(factors, code_at(new, clock()))) == "INVALID_CODE" or code_at(new, clock()) == code_at(
        old, clock()
    )
    clock.advance(timedelta(seconds=30))
    assert code(await factors.confirmSetup(user=ADA, code=code_at(new, clock()))) is None
    clock.advance(timedelta(seconds=30))
    assert code(await verify(factors, code_at(old, clock()))) == "INVALID_CODE"
    assert code(await verify(factors, code_at(new, clock()))) is None


# -- TOTP codes -----------------------------------------------------------------------------------


async def test_a_current_code_is_accepted_once_and_answers_what_was_proven(
    factors: TwoFactor, clock: StillClock
) -> None:
    secret, _ = await enable(factors, clock)
    current = code_at(secret, clock())

    first = await verify(factors, current)
    replay = await verify(factors, current)

    assert first == {"user": ADA, "version": 3, "method": "password+totp"}
    assert code(replay) == "INVALID_CODE"


async def test_the_codes_of_the_steps_next_to_the_current_one_are_accepted_and_no_others(
    factors: TwoFactor, clock: StillClock
) -> None:
    secret, _ = await enable(factors, clock)
    clock.advance(timedelta(minutes=10))
    now = clock()
    step = timedelta(seconds=30)

    two_behind = await verify(factors, code_at(secret, now - 2 * step))
    two_ahead = await verify(factors, code_at(secret, now + 2 * step))
    one_behind = await verify(factors, code_at(secret, now - step))
    one_ahead = await verify(factors, code_at(secret, now + step))

    assert code(two_behind) == "INVALID_CODE" and code(two_ahead) == "INVALID_CODE"
    assert code(one_behind) is None and code(one_ahead) is None


async def test_a_code_older_than_the_last_accepted_one_is_refused(factors: TwoFactor, clock: StillClock) -> None:
    secret, _ = await enable(factors, clock)
    clock.advance(timedelta(minutes=5))
    ahead = await verify(factors, code_at(secret, clock() + timedelta(seconds=30)))

    behind = await verify(factors, code_at(secret, clock()))  # a step before the one accepted

    assert code(ahead) is None and code(behind) == "INVALID_CODE"


async def test_the_confirming_code_is_not_accepted_again(factors: TwoFactor, clock: StillClock) -> None:
    setup = await factors.beginSetup(user=ADA, username="ada")
    confirming = code_at(setup["secret"], clock())
    await factors.confirmSetup(user=ADA, code=confirming)

    assert code(await verify(factors, confirming)) == "INVALID_CODE"


async def test_codes_of_other_shapes_and_other_users_are_invalid(factors: TwoFactor, clock: StillClock) -> None:
    secret, _ = await enable(factors, clock)
    current = code_at(secret, clock())

    for given in ["", "12345", "1234567", "abcdef", "x" * 100, current + " "[:0] + "0"]:
        assert code(await verify(factors, given)) == "INVALID_CODE", given
    assert code(await verify(factors, current, user=BOB)) == "INVALID_CODE"
    assert code(await verify(factors, f" {current[:3]} {current[3:]} ")) is None  # spaces are ignored


async def test_of_concurrent_uses_of_one_code_exactly_one_is_accepted(
    factors: TwoFactor, clock: StillClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, _ = await enable(factors, clock)
    current = code_at(secret, clock())
    # Every use has read the secret and matched the code before any of them writes.
    GatedCollection.install(monkeypatch, Factor, "update_one", 8)

    outs = await asyncio.gather(*(verify(factors, current) for _ in range(8)))

    assert sorted(str(code(out)) for out in outs) == ["INVALID_CODE"] * 7 + ["None"]


# -- recovery codes --------------------------------------------------------------------------------


async def test_a_recovery_code_works_once_in_any_case_and_the_count_drops(
    factors: TwoFactor, clock: StillClock
) -> None:
    _, codes = await enable(factors, clock)

    first = await verify(factors, codes[0].lower())
    again = await verify(factors, codes[0])
    other = await verify(factors, codes[1].replace("-", ""))

    assert first == {"user": ADA, "version": 3, "method": "password+recovery"}
    assert code(again) == "INVALID_CODE" and code(other) is None
    assert await factors._getStatus(user=ADA) == [{"totp": True, "recoveryCodesLeft": 8}]
    assert code(await verify(factors, codes[2], user=BOB)) == "INVALID_CODE"


async def test_regenerating_voids_the_old_recovery_codes(factors: TwoFactor, clock: StillClock) -> None:
    _, old = await enable(factors, clock)
    await verify(factors, old[0])

    new = await factors.regenerateRecoveryCodes(user=ADA)

    assert set(new["recoveryCodes"]).isdisjoint(old)
    assert code(await verify(factors, old[1])) == "INVALID_CODE"
    assert code(await verify(factors, new["recoveryCodes"][0])) is None
    assert await factors._getStatus(user=ADA) == [{"totp": True, "recoveryCodesLeft": 9}]
    assert code(await factors.regenerateRecoveryCodes(user=BOB)) == "TOTP_NOT_ENABLED"


async def test_of_concurrent_uses_of_one_recovery_code_exactly_one_is_accepted(
    factors: TwoFactor, clock: StillClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, codes = await enable(factors, clock)
    GatedCollection.install(monkeypatch, Factor, "update_one", 8)

    outs = await asyncio.gather(*(verify(factors, codes[0]) for _ in range(8)))

    assert sorted(str(code(out)) for out in outs) == ["INVALID_CODE"] * 7 + ["None"]
    assert await factors._getStatus(user=ADA) == [{"totp": True, "recoveryCodesLeft": 9}]


# -- disabling, removing ------------------------------------------------------------------------------


async def test_disabling_removes_the_secret_and_the_recovery_codes(factors: TwoFactor, clock: StillClock) -> None:
    secret, codes = await enable(factors, clock)

    assert await factors.disable(user=ADA) == {"user": ADA}

    assert await factors._getStatus(user=ADA) == [{"totp": False, "recoveryCodesLeft": 0}]
    assert code(await verify(factors, code_at(secret, clock()))) == "INVALID_CODE"
    assert code(await verify(factors, codes[0])) == "INVALID_CODE"
    assert code(await factors.disable(user=ADA)) == "TOTP_NOT_ENABLED"


async def test_removing_forgets_a_users_factor(database: Any, factors: TwoFactor, clock: StillClock) -> None:
    await enable(factors, clock)
    await factors.beginSetup(user=BOB, username="bob")

    await factors.remove(user=ADA)
    await factors.remove(user=BOB)

    assert await database[FACTORS].count_documents({}) == 0


# -- secrets at rest, keys -------------------------------------------------------------------------


async def test_neither_secrets_nor_recovery_codes_are_stored_in_clear(
    database: Any, factors: TwoFactor, clock: StillClock
) -> None:
    old, codes = await enable(factors, clock)
    pending = (await factors.beginSetup(user=ADA, username="ada"))["secret"]

    stored = repr(await database[FACTORS].find_one({"_id": ADA}))

    for secret in [old, pending, *codes, *(c.replace("-", "") for c in codes)]:
        assert secret not in stored and secret.lower() not in stored
    assert pyotp.TOTP(old).secret.encode() not in stored.encode()


async def test_a_sealed_secret_opens_only_for_its_user(database: Any, factors: TwoFactor, clock: StillClock) -> None:
    secret, _ = await enable(factors, clock)
    ada = await database[FACTORS].find_one({"_id": ADA})
    await database[FACTORS].insert_one({**ada, "_id": BOB})  # copied to another user's record

    assert code(await verify(factors, code_at(secret, clock()), user=BOB)) == "INVALID_CODE"


async def test_after_a_key_rotation_secrets_and_codes_made_under_the_previous_key_still_work(
    database: Any, clock: StillClock
) -> None:
    before = two_factor(clock, "the key before the rotation, long enough")
    secret, codes = await enable(before, clock)
    after = two_factor(clock, "the key after the rotation, long enough too", "the key before the rotation, long enough")
    forgotten = two_factor(clock, "the key after the rotation, long enough too")

    assert code(await verify(forgotten, code_at(secret, clock()))) == "INVALID_CODE"
    assert code(await verify(forgotten, codes[0])) == "INVALID_CODE"
    assert code(await verify(after, code_at(secret, clock()))) is None
    assert code(await verify(after, codes[0])) is None


async def test_every_query_is_served_by_an_index(database_url: str, db_name: str) -> None:
    async with recording(database_url, db_name) as (database, recorder):
        clock = StillClock(START)
        factors = two_factor(clock)
        secret, codes = await enable(factors, clock)
        await verify(factors, code_at(secret, clock()))
        await verify(factors, codes[0])
        await verify(factors, "nothing-like-a-code")
        await factors._getStatus(user=ADA)
        await factors._isEnabled(user=ADA)
        await factors.regenerateRecoveryCodes(user=ADA)
        await factors.beginSetup(user=ADA, username="ada")
        await factors.disable(user=ADA)
        await factors.remove(user=ADA)

        assert {query.collection for query in recorder.issued} == {FACTORS}
        await assert_served_by_indexes(database, recorder.issued)
        for query in recorder.issued:  # whole, as the server plans it (a conjunction needs its hint)
            found = await winning_stages(database, query.collection, query.query, **query.options)
            assert "IXSCAN" in found and "COLLSCAN" not in found, (query, found)
