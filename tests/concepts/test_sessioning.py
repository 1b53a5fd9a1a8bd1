"""Sessioning: creating, resolving and revoking sessions, and every token it must refuse."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from app.concepts.sessioning import Session, Sessioning, TokenCodec

from .helpers import OTHER_SECRET, SECRET, GatedCollection, StillClock, ticking_clock

SESSIONS = "Sessioning.sessions"
ISSUER = "concept-auth"
TTL = timedelta(hours=1)


@pytest.fixture
async def sessioning(database: Any) -> Sessioning:
    return Sessioning(TokenCodec([SECRET], ISSUER), ttl=TTL)


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def user_of(sessioning: Sessioning, token: Any) -> str | None:
    """The user `_getUser` resolves the token to, or None for no row."""
    rows = await sessioning._getUser(session=token)
    assert len(rows) <= 1, rows
    return rows[0]["user"] if rows else None


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# -- create -------------------------------------------------------------------------------------


async def test_create_returns_a_signed_jwt_and_its_expiry(database: Any, sessioning: Sessioning) -> None:
    before = datetime.now(UTC)

    out = await sessioning.create(user="u1")

    assert set(out) == {"session", "expiresAt"}
    token, expires = out["session"], out["expiresAt"]
    assert isinstance(token, str) and len(token.split(".")) == 3
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert expires.tzinfo is not None and expires.utcoffset() == timedelta(0)
    assert before + TTL - timedelta(seconds=1) <= expires <= datetime.now(UTC) + TTL
    claims = claims_of(token)
    assert claims["sub"] == "u1" and claims["iss"] == ISSUER
    assert claims["exp"] == int(expires.timestamp())
    # The database holds the session's id, never the token.
    document = await database[SESSIONS].find_one({"_id": claims["sid"]})
    assert document is not None and document["user"] == "u1"
    assert token not in str(document)


async def test_each_session_is_distinct(sessioning: Sessioning) -> None:
    tokens = {(await sessioning.create(user="u1"))["session"] for _ in range(5)}

    assert len(tokens) == 5
    assert len({claims_of(token)["sid"] for token in tokens}) == 5


@pytest.mark.parametrize("user", ["", None, 5, {"$ne": None}], ids=repr)
async def test_create_without_a_user_is_invalid_user(database: Any, sessioning: Sessioning, user: Any) -> None:
    assert code(await sessioning.create(user=user)) == "INVALID_USER"
    assert await database[SESSIONS].count_documents({}) == 0


# -- _getUser -----------------------------------------------------------------------------------


async def test_get_user_of_a_live_session(sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]

    assert await user_of(sessioning, token) == "u1"


async def test_get_user_refuses_a_tampered_signature(sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    assert await user_of(sessioning, f"{header}.{payload}.{flipped}") is None
    assert await user_of(sessioning, f"{header}.{payload}.") is None


async def test_get_user_refuses_a_tampered_payload(sessioning: Sessioning) -> None:
    victim = (await sessioning.create(user="victim"))["session"]
    mine = (await sessioning.create(user="me"))["session"]
    header, _, signature = mine.split(".")
    payload = b64({**claims_of(mine), "sid": claims_of(victim)["sid"], "sub": "victim"})

    assert await user_of(sessioning, f"{header}.{payload}.{signature}") is None


async def test_get_user_refuses_an_unsigned_alg_none_token(sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    claims = claims_of(token)

    by_pyjwt = jwt.encode(claims, None, algorithm="none")
    by_hand = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{token.split('.')[1]}."
    by_hand_signed = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{token.split('.')[1]}.{token.split('.')[2]}"

    for forged in [by_pyjwt, by_hand, by_hand_signed]:
        assert await user_of(sessioning, forged) is None


async def test_get_user_refuses_another_algorithm_even_with_the_right_key(sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]

    forged = jwt.encode(claims_of(token), SECRET, algorithm="HS512")

    assert await user_of(sessioning, forged) is None


async def test_get_user_refuses_a_token_signed_with_another_key(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]

    forged = jwt.encode(claims_of(token), OTHER_SECRET, algorithm="HS256")

    assert await user_of(sessioning, forged) is None


async def test_get_user_refuses_a_token_of_another_issuer(database: Any) -> None:
    theirs = Sessioning(TokenCodec([SECRET], "another-service"), ttl=TTL)
    ours = Sessioning(TokenCodec([SECRET], ISSUER), ttl=TTL)
    token = (await theirs.create(user="u1"))["session"]

    assert await user_of(theirs, token) == "u1"
    assert await user_of(ours, token) is None


@pytest.mark.parametrize("missing", ["sid", "sub", "iat", "exp", "iss"])
async def test_get_user_refuses_a_token_missing_a_claim(sessioning: Sessioning, missing: str) -> None:
    claims = claims_of((await sessioning.create(user="u1"))["session"])
    del claims[missing]

    assert await user_of(sessioning, jwt.encode(claims, SECRET, algorithm="HS256")) is None


@pytest.mark.parametrize("claim", ["sid", "sub"])
@pytest.mark.parametrize("value", [{"$ne": None}, 1, None, ["x"]], ids=repr)
async def test_get_user_refuses_signed_claims_that_are_not_strings(
    sessioning: Sessioning, claim: str, value: Any
) -> None:
    claims = claims_of((await sessioning.create(user="u1"))["session"])
    claims[claim] = value

    assert await user_of(sessioning, jwt.encode(claims, SECRET, algorithm="HS256")) is None


async def test_get_user_refuses_a_token_whose_user_is_not_the_sessions(sessioning: Sessioning) -> None:
    claims = claims_of((await sessioning.create(user="u1"))["session"])
    claims["sub"] = "u2"  # signed with the right key: only the session's own record can refuse it

    assert await user_of(sessioning, jwt.encode(claims, SECRET, algorithm="HS256")) is None


async def test_get_user_refuses_an_expired_token(database: Any, sessioning: Sessioning) -> None:
    claims = claims_of((await sessioning.create(user="u1"))["session"])
    claims["exp"] = int((datetime.now(UTC) - timedelta(seconds=5)).timestamp())

    assert await user_of(sessioning, jwt.encode(claims, SECRET, algorithm="HS256")) is None


async def test_a_session_expires_after_its_ttl(database: Any) -> None:
    clock = StillClock(datetime.now(UTC).replace(microsecond=0))
    sessioning = Sessioning(TokenCodec([SECRET], ISSUER), ttl=timedelta(seconds=2), clock=clock)
    out = await sessioning.create(user="u1")
    clock.advance(timedelta(seconds=1))
    assert await user_of(sessioning, out["session"]) == "u1"

    clock.advance(timedelta(seconds=1))  # the token's exp and the session's expiry, on the concept's clock

    assert await user_of(sessioning, out["session"]) is None


async def test_get_user_refuses_a_session_expired_in_the_database(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    await database[SESSIONS].update_one({"_id": claims_of(token)["sid"]}, {"$set": {"expires": past}})

    assert await user_of(sessioning, token) is None


async def test_get_user_refuses_a_deleted_session(sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    other = (await sessioning.create(user="u1"))["session"]

    assert await sessioning.delete(session=token) == {"session": token}

    assert await user_of(sessioning, token) is None
    assert await user_of(sessioning, other) == "u1"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "a.b.c",
        "a.b",
        "....",
        "Bearer x.y.z",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig",
        "\x00",
        "é" * 1000,
        None,
        0,
        42,
        3.5,
        True,
        {},
        {"$ne": None},
        {"session": "x"},
        [],
        ["a.b.c"],
        b"a.b.c",
    ],
    ids=repr,
)
async def test_get_user_answers_nothing_for_garbage_and_never_raises(sessioning: Sessioning, garbage: Any) -> None:
    await sessioning.create(user="u1")

    assert await user_of(sessioning, garbage) is None


# -- delete ------------------------------------------------------------------------------------


async def test_delete_twice_is_unauthenticated_the_second_time(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]

    assert await sessioning.delete(session=token) == {"session": token}
    assert code(await sessioning.delete(session=token)) == "UNAUTHENTICATED"
    assert await database[SESSIONS].count_documents({}) == 0


@pytest.mark.parametrize("token", ["garbage", "", None, {"$ne": None}, 1], ids=repr)
async def test_delete_of_a_bad_token_is_unauthenticated_and_deletes_nothing(
    database: Any, sessioning: Sessioning, token: Any
) -> None:
    await sessioning.create(user="u1")

    assert code(await sessioning.delete(session=token)) == "UNAUTHENTICATED"
    assert await database[SESSIONS].count_documents({}) == 1


async def test_delete_of_a_forged_token_deletes_nothing(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]

    forged = jwt.encode(claims_of(token), OTHER_SECRET, algorithm="HS256")

    assert code(await sessioning.delete(session=forged)) == "UNAUTHENTICATED"
    assert await user_of(sessioning, token) == "u1"


# -- deleteByUser --------------------------------------------------------------------------------


async def test_delete_by_user_revokes_every_session_of_the_user(database: Any, sessioning: Sessioning) -> None:
    tokens = [(await sessioning.create(user="u1"))["session"] for _ in range(3)]
    bystander = (await sessioning.create(user="u2"))["session"]

    assert await sessioning.deleteByUser(user="u1") == {"user": "u1", "count": 3}

    for token in tokens:
        assert await user_of(sessioning, token) is None
    assert await user_of(sessioning, bystander) == "u2"
    assert await sessioning.deleteByUser(user="u1") == {"user": "u1", "count": 0}


async def test_delete_by_user_keeps_the_session_it_is_told_to(database: Any, sessioning: Sessioning) -> None:
    kept, *revoked = [(await sessioning.create(user="u1"))["session"] for _ in range(3)]

    assert await sessioning.deleteByUser(user="u1", keep=kept) == {"user": "u1", "count": 2}

    assert await user_of(sessioning, kept) == "u1"
    for token in revoked:
        assert await user_of(sessioning, token) is None


async def test_delete_by_user_with_an_invalid_keep_revokes_all(database: Any, sessioning: Sessioning) -> None:
    for _ in range(2):
        await sessioning.create(user="u1")

    assert await sessioning.deleteByUser(user="u1", keep="garbage") == {"user": "u1", "count": 2}


@pytest.mark.parametrize("user", [None, 1, {"$ne": None}, ["u1"]], ids=repr)
async def test_delete_by_user_needs_a_string_user(database: Any, sessioning: Sessioning, user: Any) -> None:
    await sessioning.create(user="u1")

    assert code(await sessioning.deleteByUser(user=user)) == "INVALID_USER"
    assert await database[SESSIONS].count_documents({}) == 1


# -- keys --------------------------------------------------------------------------------------


async def test_key_rotation_accepts_the_previous_key_and_signs_with_the_new(database: Any) -> None:
    old = Sessioning(TokenCodec([OTHER_SECRET], ISSUER), ttl=TTL)
    rotated = Sessioning(TokenCodec([SECRET, OTHER_SECRET], ISSUER), ttl=TTL)
    dropped = Sessioning(TokenCodec([SECRET], ISSUER), ttl=TTL)
    old_token = (await old.create(user="u1"))["session"]

    assert await user_of(rotated, old_token) == "u1"
    new_token = (await rotated.create(user="u2"))["session"]
    jwt.decode(new_token, SECRET, algorithms=["HS256"], issuer=ISSUER)  # signed with the new key
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new_token, OTHER_SECRET, algorithms=["HS256"], issuer=ISSUER)
    assert await user_of(old, new_token) is None
    assert await user_of(dropped, old_token) is None  # once the old key is dropped
    assert await user_of(dropped, new_token) == "u2"
    assert await rotated.delete(session=old_token) == {"session": old_token}


def test_a_codec_needs_a_key() -> None:
    with pytest.raises(ValueError, match="key"):
        TokenCodec([], ISSUER)


# -- what a user sees of their sessions ------------------------------------------------------------


async def stored(database: Any, token: str) -> dict[str, Any]:
    document = await database[SESSIONS].find_one({"_id": claims_of(token)["sid"]})
    assert document is not None
    return dict(document)


async def test_a_session_has_a_public_id_that_is_not_its_token(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1", client="203.0.113.7", userAgent="Firefox/140"))["session"]

    [row] = await sessioning._getUser(session=token)

    handle = row["id"]
    assert isinstance(handle, str) and len(handle) >= 16
    assert handle not in token and handle not in json.dumps(claims_of(token))
    assert handle != claims_of(token)["sid"]
    assert (await stored(database, token))["handle"] == handle


async def test_create_notes_where_the_session_comes_from(sessioning: Sessioning) -> None:
    await sessioning.create(user="u1", client="203.0.113.7", userAgent="Firefox/140")

    [row] = await sessioning._getSessions(user="u1")

    assert row["client"] == "203.0.113.7" and row["userAgent"] == "Firefox/140"
    assert row["lastUsedAt"] == row["createdAt"]
    assert row["expiresAt"] == row["createdAt"] + TTL


async def test_create_notes_how_the_session_was_made_and_old_sessions_read_as_a_password(
    database: Any, sessioning: Sessioning
) -> None:
    await sessioning.create(user="u1", method="password+totp")
    await sessioning.create(user="u2")
    await sessioning.create(user="u3", method="passkey")
    await database["Sessioning.sessions"].update_many({"user": "u3"}, {"$unset": {"method": ""}})  # made before

    [totp] = await sessioning._getSessions(user="u1")
    [unsaid] = await sessioning._getSessions(user="u2")
    [old] = await sessioning._getSessions(user="u3")

    assert (totp["method"], unsaid["method"], old["method"]) == ("password+totp", "password", "password")


async def test_create_cuts_the_user_agent_to_256_characters(sessioning: Sessioning) -> None:
    await sessioning.create(user="u1", userAgent="A" * 300)
    await sessioning.create(user="u2")

    [long] = await sessioning._getSessions(user="u1")
    [none] = await sessioning._getSessions(user="u2")

    assert long["userAgent"] == "A" * 256
    assert none["userAgent"] is None and none["client"] is None


async def test_get_sessions_lists_the_users_live_sessions_newest_first(database: Any, sessioning: Sessioning) -> None:
    tokens = [(await sessioning.create(user="u1"))["session"] for _ in range(3)]
    await sessioning.create(user="u2")
    for age, token in enumerate(reversed(tokens)):  # the last created is the newest
        created = datetime.now(UTC) - timedelta(minutes=age)
        await database[SESSIONS].update_one({"_id": claims_of(token)["sid"]}, {"$set": {"created": created}})
    expired = (await sessioning.create(user="u1"))["session"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    await database[SESSIONS].update_one({"_id": claims_of(expired)["sid"]}, {"$set": {"expires": past}})

    rows = await sessioning._getSessions(user="u1")

    handles = [(await sessioning._getUser(session=token))[0]["id"] for token in reversed(tokens)]
    assert [row["id"] for row in rows] == handles
    assert await sessioning._getSessions(user="nobody") == []


async def test_touch_writes_at_most_once_a_minute(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    created = (await stored(database, token))["created"]

    assert await sessioning.touch(session=token) == {"touched": False}  # just created: used now
    assert (await stored(database, token))["last_used"] == created

    almost = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=50)
    await database[SESSIONS].update_one({"_id": claims_of(token)["sid"]}, {"$set": {"last_used": almost}})
    assert await sessioning.touch(session=token) == {"touched": False}
    assert (await stored(database, token))["last_used"] == almost

    stale = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=61)
    await database[SESSIONS].update_one({"_id": claims_of(token)["sid"]}, {"$set": {"last_used": stale}})
    assert await sessioning.touch(session=token) == {"touched": True}
    touched = (await stored(database, token))["last_used"]
    assert touched > stale + timedelta(seconds=60)
    assert (await sessioning._getUser(session=token))[0]["lastUsedAt"] == touched
    assert await sessioning.touch(session=token) == {"touched": False}


async def test_concurrent_touches_of_a_stale_session_write_once(
    database: Any, sessioning: Sessioning, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    stale = datetime.now(UTC) - timedelta(minutes=5)
    await database[SESSIONS].update_one({"_id": claims_of(token)["sid"]}, {"$set": {"last_used": stale}})
    sessioning.clock = ticking_clock()
    GatedCollection.install(monkeypatch, Session, "update_one", parties=10)  # all read the clock, then all write

    outs = await asyncio.gather(*(sessioning.touch(session=token) for _ in range(10)))

    assert sorted(out["touched"] for out in outs) == [False] * 9 + [True]


async def test_touch_of_a_session_from_before_last_use_was_kept(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    await database[SESSIONS].update_one({"_id": claims_of(token)["sid"]}, {"$unset": {"last_used": ""}})

    assert (await sessioning._getUser(session=token))[0]["lastUsedAt"] == (await stored(database, token))["created"]
    assert await sessioning.touch(session=token) == {"touched": True}
    assert "last_used" in await stored(database, token)


@pytest.mark.parametrize("token", ["garbage", "", None, {"$ne": None}], ids=repr)
async def test_touch_of_a_bad_token_writes_nothing(database: Any, sessioning: Sessioning, token: Any) -> None:
    assert await sessioning.touch(session=token) == {"touched": False}


# -- revoke --------------------------------------------------------------------------------------


async def handle_of(sessioning: Sessioning, token: str) -> str:
    return str((await sessioning._getUser(session=token))[0]["id"])


async def test_revoke_ends_one_of_the_users_sessions(sessioning: Sessioning) -> None:
    kept, revoked = [(await sessioning.create(user="u1"))["session"] for _ in range(2)]
    handle = await handle_of(sessioning, revoked)

    assert await sessioning.revoke(user="u1", id=handle) == {"id": handle}

    assert await user_of(sessioning, revoked) is None
    assert await user_of(sessioning, kept) == "u1"
    assert code(await sessioning.revoke(user="u1", id=handle)) == "SESSION_NOT_FOUND"


async def test_revoke_of_another_users_session_is_not_found_like_an_unknown_one(
    database: Any, sessioning: Sessioning
) -> None:
    theirs = (await sessioning.create(user="u2"))["session"]
    await sessioning.create(user="u1")

    other = await sessioning.revoke(user="u1", id=await handle_of(sessioning, theirs))
    unknown = await sessioning.revoke(user="u1", id="no-such-session-id")

    assert other == unknown and code(other) == "SESSION_NOT_FOUND"
    assert await user_of(sessioning, theirs) == "u2"
    assert await database[SESSIONS].count_documents({}) == 2


@pytest.mark.parametrize("handle", ["", "x", "x" * 5000, None, 5, {"$ne": None}, ["a"], {"$gt": ""}], ids=repr)
async def test_revoke_of_a_malformed_id_is_not_found_and_deletes_nothing(
    database: Any, sessioning: Sessioning, handle: Any
) -> None:
    token = (await sessioning.create(user="u1"))["session"]

    assert code(await sessioning.revoke(user="u1", id=handle)) == "SESSION_NOT_FOUND"
    assert code(await sessioning.revoke(user="u1", id=token)) == "SESSION_NOT_FOUND"  # the token is no id
    assert await database[SESSIONS].count_documents({}) == 1


async def test_revoke_of_an_expired_session_is_not_found(database: Any, sessioning: Sessioning) -> None:
    token = (await sessioning.create(user="u1"))["session"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    await database[SESSIONS].update_one({"_id": claims_of(token)["sid"]}, {"$set": {"expires": past}})

    assert code(await sessioning.revoke(user="u1", id=(await stored(database, token))["handle"])) == (
        "SESSION_NOT_FOUND"
    )


async def test_of_two_concurrent_revokes_of_one_session_exactly_one_succeeds(
    database: Any, sessioning: Sessioning, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = await handle_of(sessioning, (await sessioning.create(user="u1"))["session"])
    GatedCollection.install(monkeypatch, Session, "delete_one", parties=2)  # both check before either deletes

    outs = await asyncio.gather(sessioning.revoke(user="u1", id=handle), sessioning.revoke(user="u1", id=handle))

    assert [out for out in outs if "error" not in out] == [{"id": handle}]
    assert [code(out) for out in outs if "error" in out] == ["SESSION_NOT_FOUND"]
    assert await database[SESSIONS].count_documents({}) == 0


# -- at most so many sessions per user -------------------------------------------------------------


PAST = timedelta(minutes=10)


async def live(sessioning: Sessioning, tokens: list[str]) -> list[bool]:
    return [await user_of(sessioning, token) is not None for token in tokens]


async def test_a_session_beyond_the_limit_ends_the_users_least_recently_used(database: Any) -> None:
    sessioning = Sessioning(TokenCodec([SECRET], ISSUER), ttl=TTL, clock=ticking_clock(PAST), per_user=3)
    first, second, third = [(await sessioning.create(user="u1"))["session"] for _ in range(3)]
    others = [(await sessioning.create(user="u2"))["session"] for _ in range(3)]
    stale = datetime.now(UTC) - timedelta(hours=1)
    await database[SESSIONS].update_many({}, {"$set": {"last_used": stale}})
    assert await sessioning.touch(session=first) == {"touched": True}  # used again: now the most recent

    fourth = (await sessioning.create(user="u1"))["session"]
    fifth = (await sessioning.create(user="u1"))["session"]

    assert await live(sessioning, [first, second, third, fourth, fifth]) == [True, False, False, True, True]
    assert await live(sessioning, others) == [True] * 3  # another user's are theirs
    assert await database[SESSIONS].count_documents({"user": "u1"}) == 3


async def test_the_default_limit_is_a_hundred() -> None:
    assert Sessioning(TokenCodec([SECRET], ISSUER), ttl=TTL).per_user == 100


@pytest.mark.parametrize("gated", ["find_one", "delete_many"])
async def test_concurrent_sessions_beyond_the_limit_leave_the_most_recent_few(
    database: Any, monkeypatch: pytest.MonkeyPatch, gated: str
) -> None:
    """Twelve logins at once for a user with a limit of four. `find_one`: every session
    is inserted before any create looks for sessions beyond the limit; `delete_many`:
    every create has read what to delete before any deletes. Either way the four most
    recent remain, and every other is revoked."""
    sessioning = Sessioning(TokenCodec([SECRET], ISSUER), ttl=TTL, clock=ticking_clock(PAST), per_user=4)
    old = [(await sessioning.create(user="u1"))["session"] for _ in range(4)]
    GatedCollection.install(monkeypatch, Session, gated, parties=12)

    outs = await asyncio.gather(*(sessioning.create(user="u1") for _ in range(12)))
    monkeypatch.undo()  # the checks below read through the collection too

    created = sorted([(claims_of(out["session"])["iat"], out["session"]) for out in outs], key=lambda pair: pair[0])
    newest = [token for _, token in created[-4:]]
    assert await database[SESSIONS].count_documents({"user": "u1"}) == 4
    assert await live(sessioning, newest) == [True] * 4
    assert await live(sessioning, [token for _, token in created[:-4]] + old) == [False] * 12
