"""UserAuthentication: every action and query, each of their errors, and how passwords are hashed.

Run against the real (embedded) database; hashing is real argon2id, cheap where the
cost does not matter.
"""

from __future__ import annotations

import asyncio
import threading
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from app.concepts.user_authentication import PasswordHasher, User, UserAuthentication
from tests.api.races import Gate

from .helpers import CountingHasher, StillClock, fast_hasher

USERS = "UserAuthentication.users"
PASSWORD = "password123"


@pytest.fixture
async def ua(database: Any) -> UserAuthentication:
    return UserAuthentication(fast_hasher())


async def stored(database: Any, username: str) -> dict[str, Any]:
    document = await database[USERS].find_one({"key": username.lower()})
    assert document is not None
    return dict(document)


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


# -- register -------------------------------------------------------------------------


async def test_register_creates_a_user_with_its_name_as_typed(database: Any, ua: UserAuthentication) -> None:
    out = await ua.register(username="Alice.B-c_9", password=PASSWORD)

    assert set(out) == {"user", "version"}
    assert ObjectId.is_valid(out["user"]) and out["version"] == 0
    document = await stored(database, "alice.b-c_9")
    assert str(document["_id"]) == out["user"]
    assert document["username"] == "Alice.B-c_9"
    assert document["created"].tzinfo is not None


@pytest.mark.parametrize("username", ["abc", "a" * 32, "A.b", "x_-.9"])
async def test_register_accepts_usernames_of_3_to_32_allowed_characters(ua: UserAuthentication, username: str) -> None:
    assert "user" in await ua.register(username=username, password=PASSWORD)


@pytest.mark.parametrize(
    "username",
    [
        "ab",  # too short
        "a" * 33,  # too long
        "",
        "al ice",
        "alice!",
        "ålice",  # a letter, but not ASCII
        "\u212aelvin",  # KELVIN SIGN, which lower() folds to an ASCII "k"
        "alice\n",  # a trailing newline that `$` would accept
        {"$gt": ""},
        {"$ne": None},
        ["alice"],
        12345,
        None,
    ],
    ids=repr,
)
async def test_register_rejects_an_invalid_username(database: Any, ua: UserAuthentication, username: Any) -> None:
    out = await ua.register(username=username, password=PASSWORD)

    assert code(out) == "INVALID_USERNAME"
    assert isinstance(out["error"], str) and out["error"]
    assert await database[USERS].count_documents({}) == 0


@pytest.mark.parametrize(
    "password", ["x" * 8, "x" * 256, "🔑" * 8, "é" * 256], ids=["8", "256", "8-emoji", "256-accents"]
)
async def test_register_accepts_passwords_of_8_to_256_code_points(ua: UserAuthentication, password: str) -> None:
    assert "user" in await ua.register(username="alice", password=password)
    assert "user" in await ua.authenticate(username="alice", password=password)


@pytest.mark.parametrize(
    "password", ["x" * 7, "", "x" * 257, "🔑" * 257, None, 12345678, {"$gt": ""}, ["password123"]], ids=repr
)
async def test_register_rejects_a_weak_or_non_string_password(
    database: Any, ua: UserAuthentication, password: Any
) -> None:
    out = await ua.register(username="alice", password=password)

    assert code(out) == "WEAK_PASSWORD"
    assert await database[USERS].count_documents({}) == 0


@pytest.mark.parametrize("again", ["alice", "ALICE", "Alice", "aLiCe"])
async def test_register_rejects_a_username_taken_in_any_ascii_case(
    database: Any, ua: UserAuthentication, again: str
) -> None:
    assert "user" in await ua.register(username="alice", password=PASSWORD)

    out = await ua.register(username=again, password="another password")

    assert code(out) == "USERNAME_TAKEN"
    assert await database[USERS].count_documents({}) == 1
    assert (await stored(database, "alice"))["username"] == "alice"


@pytest.mark.parametrize("cases", [False, True], ids=["same-case", "mixed-case"])
async def test_concurrent_registrations_of_one_name_create_exactly_one_user(
    database: Any, ua: UserAuthentication, cases: bool
) -> None:
    names = [["bob", "BOB", "Bob", "bOb"][i % 4] if cases else "bob" for i in range(20)]

    outs = await asyncio.gather(*(ua.register(username=name, password=PASSWORD) for name in names))

    assert sum("user" in out for out in outs) == 1
    assert sorted(code(out) for out in outs if "error" in out) == ["USERNAME_TAKEN"] * 19
    assert await database[USERS].count_documents({}) == 1
    winner = next(out["user"] for out in outs if "user" in out)
    assert (await ua.authenticate(username="bob", password=PASSWORD))["user"] == winner


# -- authenticate -----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Carol", "carol", "CAROL", "cArOl"])
async def test_authenticate_accepts_the_username_in_any_case(ua: UserAuthentication, typed: str) -> None:
    user = (await ua.register(username="Carol", password=PASSWORD))["user"]

    assert await ua.authenticate(username=typed, password=PASSWORD) == {"user": user, "version": 0}


async def test_authenticate_gives_one_identical_error_for_wrong_password_and_unknown_user(
    ua: UserAuthentication,
) -> None:
    await ua.register(username="dave", password=PASSWORD)

    wrong_password = await ua.authenticate(username="dave", password="not the password")
    unknown_user = await ua.authenticate(username="nobody", password=PASSWORD)
    invalid_name = await ua.authenticate(username="no", password=PASSWORD)

    assert wrong_password == {"error": "Invalid username or password.", "code": "INVALID_CREDENTIALS"}
    assert unknown_user == wrong_password
    assert invalid_name == wrong_password


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ({"$gt": ""}, PASSWORD),
        ({"$regex": ".*"}, PASSWORD),
        ({"$ne": None}, {"$ne": None}),
        ("eve", {"$gt": ""}),
        ("eve", None),
        (None, PASSWORD),
        (42, PASSWORD),
        ("eve", "x" * 257),
    ],
    ids=repr,
)
async def test_authenticate_with_operators_or_non_strings_matches_nobody(
    database: Any, username: Any, password: Any
) -> None:
    hasher = CountingHasher(memory_kib=1024, time_cost=1)
    ua = UserAuthentication(hasher)
    await ua.register(username="eve", password=PASSWORD)
    before = await stored(database, "eve")

    out = await ua.authenticate(username=username, password=password)

    assert out == {"error": "Invalid username or password.", "code": "INVALID_CREDENTIALS"}
    assert before["password_hash"] not in hasher.verified  # no user's hash was ever tried
    assert await stored(database, "eve") == before


async def test_authenticate_spends_one_verification_whether_or_not_the_user_exists(database: Any) -> None:
    hasher = CountingHasher(memory_kib=1024, time_cost=1)
    ua = UserAuthentication(hasher)
    await ua.register(username="frank", password=PASSWORD)
    real_hash = (await stored(database, "frank"))["password_hash"]

    hasher.reset()
    await ua.authenticate(username="frank", password="wrong password")
    assert (hasher.verified, hasher.verified_nothing) == ([real_hash], 0)

    for unknown in ["nobody", "no", {"$gt": ""}]:
        hasher.reset()
        await ua.authenticate(username=unknown, password="wrong password")
        assert hasher.verified_nothing == 1
        assert len(hasher.verified) == 1  # the dummy hash, verified like a real one
        assert hasher.verified[0] != real_hash
        assert hasher.verified[0].startswith("$argon2id$")


# -- hashing ----------------------------------------------------------------------------------


async def test_the_stored_hash_is_argon2id_and_never_the_password(database: Any) -> None:
    ua = UserAuthentication(PasswordHasher())  # the default parameters
    await ua.register(username="heidi", password=PASSWORD)

    document = await stored(database, "heidi")

    assert document["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in str(document)
    assert set(document) == {"_id", "username", "key", "password_hash", "normalized", "version", "created", "updated"}


async def test_same_password_gives_different_hashes(database: Any, ua: UserAuthentication) -> None:
    await ua.register(username="ivan", password=PASSWORD)
    await ua.register(username="judy", password=PASSWORD)

    assert (await stored(database, "ivan"))["password_hash"] != (await stored(database, "judy"))["password_hash"]


async def test_authenticate_rehashes_a_hash_made_with_outdated_parameters(database: Any) -> None:
    old = UserAuthentication(PasswordHasher(memory_kib=8192, time_cost=1))
    new = UserAuthentication(PasswordHasher(memory_kib=9216, time_cost=1))
    user = (await old.register(username="kim", password=PASSWORD))["user"]
    before = await stored(database, "kim")
    assert "m=8192," in before["password_hash"]

    assert await new.authenticate(username="kim", password="wrong password") != {"user": user, "version": 0}
    assert (await stored(database, "kim"))["password_hash"] == before["password_hash"]  # a failure changes nothing

    assert await new.authenticate(username="kim", password=PASSWORD) == {"user": user, "version": 0}
    after = await stored(database, "kim")
    assert after["password_hash"] != before["password_hash"]
    assert after["password_hash"].startswith("$argon2id$v=19$m=9216,t=1,p=1$")
    assert after["updated"] > before["updated"]

    assert await new.authenticate(username="kim", password=PASSWORD) == {"user": user, "version": 0}
    assert (await stored(database, "kim"))["password_hash"] == after["password_hash"]  # current: left alone
    assert await old.authenticate(username="kim", password=PASSWORD) == {"user": user, "version": 0}  # still verifies


class GatedContext:
    """The hasher's passlib context, with `hash` held at a gate until the test opens it."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.threads: list[int] = []
        self.passed: list[bool] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.get_ident())
        self.entered.set()
        # On the event loop's thread this would wait in vain: the loop could not run
        # the task that opens the gate. The wait ends anyway so the test fails, not hangs.
        self.passed.append(self.opened.wait(GATE_PATIENCE))
        return self.real.hash(password)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


GATE_PATIENCE = 30.0


async def test_hashing_does_not_block_the_event_loop(database: Any) -> None:
    """While a hash is in progress the event loop runs other tasks: here the one
    that lets the hash finish. Proven by order of events, not by a clock."""
    hasher = PasswordHasher(memory_kib=8192, time_cost=1)
    gate = GatedContext(hasher._context)
    hasher._context = gate  # type: ignore[assignment]
    ua = UserAuthentication(hasher)

    registering = asyncio.create_task(ua.register(username="olivia", password=PASSWORD))
    await asyncio.to_thread(gate.entered.wait, GATE_PATIENCE)
    gate.opened.set()  # the loop runs this while the hash waits at the gate
    out = await registering

    assert "user" in out, out
    assert gate.passed == [True]
    assert gate.threads and threading.get_ident() not in gate.threads


async def test_a_password_with_a_lone_surrogate_is_refused_as_data_not_an_exception(
    database: Any, ua: UserAuthentication
) -> None:
    """A JSON string may hold a lone UTF-16 surrogate ("\\ud800"), which json.loads keeps and
    UTF-8 cannot encode: argon2 raises UnicodeEncodeError. Such a password must be an
    expected failure (data), not an exception that becomes INTERNAL_SERVER_ERROR."""
    lone = "\ud800" * 8
    user = (await ua.register(username="zoe", password=PASSWORD))["user"]

    outcomes = {}
    for name, call in {
        "register": lambda: ua.register(username="yan", password=lone),
        "authenticate": lambda: ua.authenticate(username="zoe", password=lone),
        "authenticate unknown": lambda: ua.authenticate(username="nobody", password=lone),
        "new password": lambda: ua.changePassword(user=user, oldPassword=PASSWORD, newPassword=lone),
        "old password": lambda: ua.changePassword(user=user, oldPassword=lone, newPassword="new password"),
    }.items():
        try:
            outcomes[name] = code(await call())
        except UnicodeEncodeError:
            outcomes[name] = "raised UnicodeEncodeError"

    assert outcomes == {
        "register": "WEAK_PASSWORD",
        "authenticate": "INVALID_CREDENTIALS",
        "authenticate unknown": "INVALID_CREDENTIALS",
        "new password": "WEAK_PASSWORD",
        "old password": "INVALID_CREDENTIALS",
    }


# -- changePassword: staged, then completed -------------------------------------------------


async def change_password(ua: UserAuthentication, user: str, old: Any, new: Any) -> dict[str, Any]:
    """Stage the change and complete it at once: the staged change's output, or the first error."""
    staged: dict[str, Any] = dict(await ua.changePassword(user=user, oldPassword=old, newPassword=new))
    if "error" in staged:
        return staged
    completed = await ua.completePasswordChange(user=user, change=staged["change"])
    return staged if "error" not in completed else dict(completed)


async def test_change_password_replaces_the_old_password(database: Any, ua: UserAuthentication) -> None:
    user = (await ua.register(username="leo", password=PASSWORD))["user"]
    before = await stored(database, "leo")

    out = await change_password(ua, user, PASSWORD, "new password")

    assert out == {"user": user, "username": "leo", "change": out["change"]}
    assert code(await ua.authenticate(username="leo", password=PASSWORD)) == "INVALID_CREDENTIALS"
    assert await ua.authenticate(username="leo", password="new password") == {"user": user, "version": 1}
    assert await ua._getCredentials(user=user) == [{"username": "leo", "version": 1}]
    after = await stored(database, "leo")
    assert after["password_hash"] != before["password_hash"]
    assert after["updated"] > before["updated"]
    assert after["created"] == before["created"]
    assert "lease" not in after


async def test_a_staged_password_change_is_not_in_force_and_the_credentials_report_no_version(
    database: Any, ua: UserAuthentication
) -> None:
    user = (await ua.register(username="lena", password=PASSWORD))["user"]

    staged = await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="new password")

    assert set(staged) == {"user", "username", "change"}
    assert await ua.authenticate(username="lena", password=PASSWORD) == {"user": user, "version": 0}
    assert code(await ua.authenticate(username="lena", password="new password")) == "INVALID_CREDENTIALS"
    assert await ua._getCredentials(user=user) == []
    assert (await stored(database, "lena"))["lease"]["hash"].startswith("$argon2id$")

    done = {"user": user, "version": 1}
    assert await ua.completePasswordChange(user=user, change=staged["change"]) == done
    assert await ua.completePasswordChange(user=user, change=staged["change"]) == done  # done already
    assert await ua._getCredentials(user=user) == [{"username": "lena", "version": 1}]


async def test_change_password_with_a_wrong_old_password_changes_nothing(database: Any, ua: UserAuthentication) -> None:
    user = (await ua.register(username="mia", password=PASSWORD))["user"]
    before = await stored(database, "mia")

    for old in ["wrong password", None, {"$gt": ""}]:
        out = await ua.changePassword(user=user, oldPassword=old, newPassword="new password")
        assert code(out) == "INVALID_CREDENTIALS"

    assert await stored(database, "mia") == before
    assert await ua.authenticate(username="mia", password=PASSWORD) == {"user": user, "version": 0}


@pytest.mark.parametrize("new", ["x" * 7, "x" * 257, None, {"$gt": ""}], ids=repr)
async def test_change_password_rejects_a_weak_new_password(database: Any, ua: UserAuthentication, new: Any) -> None:
    user = (await ua.register(username="nick", password=PASSWORD))["user"]
    before = await stored(database, "nick")

    assert code(await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword=new)) == "WEAK_PASSWORD"
    assert await stored(database, "nick") == before


@pytest.mark.parametrize("user", [str(ObjectId()), "not-an-id", "", None, 7, {"$ne": None}], ids=repr)
async def test_change_password_of_an_unknown_or_malformed_user_is_user_not_found(
    ua: UserAuthentication, user: Any
) -> None:
    await ua.register(username="olga", password=PASSWORD)

    out = await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="new password")

    assert code(out) == "USER_NOT_FOUND"
    assert "user" in await ua.authenticate(username="olga", password=PASSWORD)


async def test_of_concurrent_password_changes_checked_against_the_same_credentials_one_wins(database: Any) -> None:
    gate = Gate(hold=2)

    class GatedHasher(PasswordHasher):
        """Holds hashing the new password: both changes have checked the old one by then."""

        async def hash(self, password: str) -> str:
            await gate.through()
            return await super().hash(password)

    user = (await UserAuthentication(fast_hasher()).register(username="ron", password=PASSWORD))["user"]
    ua = UserAuthentication(GatedHasher(memory_kib=1024, time_cost=1))
    changes = [asyncio.create_task(change_password(ua, user, PASSWORD, f"password {i}")) for i in range(2)]
    await gate.holding(2)
    gate.open()

    outs = await asyncio.gather(*changes)

    assert sorted(code(out) or "ok" for out in outs) == ["INVALID_CREDENTIALS", "ok"]
    won = 0 if "user" in outs[0] else 1
    assert await ua.authenticate(username="ron", password=f"password {won}") == {"user": user, "version": 1}
    assert code(await ua.authenticate(username="ron", password=f"password {1 - won}")) == "INVALID_CREDENTIALS"


async def test_no_change_is_staged_while_another_holds_the_credentials(database: Any, ua: UserAuthentication) -> None:
    user = (await ua.register(username="rose", password=PASSWORD))["user"]
    first = await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="first new password")

    second = await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="second new password")

    assert code(second) == "INVALID_CREDENTIALS"
    assert await ua.completePasswordChange(user=user, change=first["change"]) == {"user": user, "version": 1}
    assert "user" in await ua.authenticate(username="rose", password="first new password")


async def test_a_change_whose_lease_ran_out_is_given_up_by_the_next_login(database: Any) -> None:
    clock = StillClock(datetime(2026, 1, 1, tzinfo=UTC))
    ua = UserAuthentication(fast_hasher(), lease=timedelta(seconds=10), clock=clock)
    user = (await ua.register(username="sara", password=PASSWORD))["user"]
    staged = await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="new password")

    clock.advance(timedelta(seconds=9))  # still held: a login does not break it
    assert await ua.authenticate(username="sara", password=PASSWORD) == {"user": user, "version": 0}
    assert await ua._getCredentials(user=user) == []
    assert code(await ua.authenticate(username="sara", password="wrong password")) == "INVALID_CREDENTIALS"
    clock.advance(timedelta(seconds=1))
    assert code(await ua.authenticate(username="sara", password="wrong password")) == "INVALID_CREDENTIALS"
    assert await ua._getCredentials(user=user) == []  # a failed login breaks nothing
    assert await ua.authenticate(username="sara", password=PASSWORD) == {"user": user, "version": 0}

    assert await ua._getCredentials(user=user) == [{"username": "sara", "version": 0}]
    assert code(await ua.completePasswordChange(user=user, change=staged["change"])) == "TIMEOUT"
    assert code(await ua.authenticate(username="sara", password="new password")) == "INVALID_CREDENTIALS"


async def test_a_change_whose_lease_ran_out_gives_way_to_the_next_change(database: Any) -> None:
    clock = StillClock(datetime(2026, 1, 1, tzinfo=UTC))
    ua = UserAuthentication(fast_hasher(), lease=timedelta(seconds=10), clock=clock)
    user = (await ua.register(username="tina", password=PASSWORD))["user"]
    stalled = await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="stalled password")
    clock.advance(timedelta(seconds=10))

    out = await change_password(ua, user, PASSWORD, "new password")

    assert "change" in out
    assert code(await ua.completePasswordChange(user=user, change=stalled["change"])) == "TIMEOUT"
    assert await ua.authenticate(username="tina", password="new password") == {"user": user, "version": 1}


@pytest.mark.parametrize(
    ("user", "change"), [(None, "x"), ("not-an-id", "x"), ("valid", None), ("valid", {"$ne": None}), ("valid", "x")]
)
async def test_completing_a_change_that_was_never_staged_changes_nothing(
    database: Any, ua: UserAuthentication, user: Any, change: Any
) -> None:
    registered = (await ua.register(username="uma", password=PASSWORD))["user"]
    await ua.changePassword(user=registered, oldPassword=PASSWORD, newPassword="new password")
    before = await stored(database, "uma")
    user = registered if user == "valid" else user

    assert code(await ua.completePasswordChange(user=user, change=change)) in {"USER_NOT_FOUND", "INVALID_CREDENTIALS"}
    assert code(await ua.completeDeletion(user=user, change=change)) in {"USER_NOT_FOUND", "TIMEOUT"}
    assert await stored(database, "uma") == before


async def test_a_user_stored_without_a_version_is_at_version_0_and_can_change_password(
    database: Any, ua: UserAuthentication
) -> None:
    user = (await ua.register(username="old_timer", password=PASSWORD))["user"]
    await database[USERS].update_one({"key": "old_timer"}, {"$unset": {"version": ""}})

    assert await ua.authenticate(username="old_timer", password=PASSWORD) == {"user": user, "version": 0}
    assert "user" in await change_password(ua, user, PASSWORD, "new password")
    assert await ua._getCredentials(user=user) == [{"username": "old_timer", "version": 1}]


@pytest.mark.parametrize("user", [str(ObjectId()), "not-an-id", None, {"$ne": None}], ids=repr)
async def test_get_credentials_of_an_unknown_or_malformed_user_is_empty(ua: UserAuthentication, user: Any) -> None:
    await ua.register(username="tess", password=PASSWORD)

    assert await ua._getCredentials(user=user) == []


# -- deleteAccount: staged, then completed -----------------------------------------------------


async def delete_account(ua: UserAuthentication, user: Any) -> dict[str, Any]:
    staged: dict[str, Any] = dict(await ua.deleteAccount(user=user))
    if "error" in staged:
        return staged
    return dict(await ua.completeDeletion(user=user, change=staged["change"]))


async def test_delete_account_removes_the_user_once(database: Any, ua: UserAuthentication) -> None:
    user = (await ua.register(username="pat", password=PASSWORD))["user"]
    other = (await ua.register(username="quinn", password=PASSWORD))["user"]

    assert await delete_account(ua, user) == {"user": user}
    assert code(await ua.deleteAccount(user=user)) == "USER_NOT_FOUND"

    assert await database[USERS].count_documents({}) == 1
    assert await ua._checkUserExists(user=user) == [{"exists": False}]
    assert code(await ua.authenticate(username="pat", password=PASSWORD)) == "INVALID_CREDENTIALS"
    assert await ua._checkUserExists(user=other) == [{"exists": True}]
    assert "user" in await ua.register(username="PAT", password=PASSWORD)  # the name is free again


async def test_a_staged_deletion_keeps_the_user_until_completed_and_completes_once(
    database: Any, ua: UserAuthentication
) -> None:
    user = (await ua.register(username="paula", password=PASSWORD))["user"]

    staged = await ua.deleteAccount(user=user)

    assert set(staged) == {"user", "change"}
    assert await ua._checkUserExists(user=user) == [{"exists": True}]
    assert await ua._getCredentials(user=user) == []
    assert await ua.completeDeletion(user=user, change=staged["change"]) == {"user": user}
    assert await ua.completeDeletion(user=user, change=staged["change"]) == {"user": user}  # done already
    assert await ua._checkUserExists(user=user) == [{"exists": False}]


async def test_a_deletion_joins_a_staged_deletion_and_takes_over_a_staged_password_change(
    database: Any, ua: UserAuthentication
) -> None:
    user = (await ua.register(username="petra", password=PASSWORD))["user"]
    password = await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="new password")

    first, second = await ua.deleteAccount(user=user), await ua.deleteAccount(user=user)

    assert first["change"] == second["change"] != password["change"]
    assert code(await ua.completePasswordChange(user=user, change=password["change"])) == "INVALID_CREDENTIALS"
    assert code(await ua.changePassword(user=user, oldPassword=PASSWORD, newPassword="other password")) == (
        "INVALID_CREDENTIALS"
    )
    assert await ua.completeDeletion(user=user, change=second["change"]) == {"user": user}
    assert await ua.completeDeletion(user=user, change=first["change"]) == {"user": user}
    assert code(await ua.completePasswordChange(user=user, change=password["change"])) == "USER_NOT_FOUND"


@pytest.mark.parametrize("user", [str(ObjectId()), "nope", None, {"$ne": None}, 1], ids=repr)
async def test_delete_account_of_an_unknown_or_malformed_user_is_user_not_found(
    database: Any, ua: UserAuthentication, user: Any
) -> None:
    await ua.register(username="rita", password=PASSWORD)

    assert code(await ua.deleteAccount(user=user)) == "USER_NOT_FOUND"
    assert await database[USERS].count_documents({}) == 1
    assert "lease" not in await stored(database, "rita")


# -- queries -----------------------------------------------------------------------------------


async def test_check_user_exists(ua: UserAuthentication) -> None:
    user = (await ua.register(username="sam", password=PASSWORD))["user"]

    assert await ua._checkUserExists(user=user) == [{"exists": True}]
    assert await ua._checkUserExists(user=str(ObjectId())) == [{"exists": False}]
    for malformed in ["sam", "", "zz" * 12, None, 3, {"$ne": None}]:
        assert await ua._checkUserExists(user=malformed) == [{"exists": False}]


async def test_get_all_users_pages_in_id_order_without_hashes(database: Any, ua: UserAuthentication) -> None:
    names = ["user1", "USER2", "user3", "user4", "user5"]
    ids = [(await ua.register(username=name, password=PASSWORD))["user"] for name in names]
    everyone = [{"user": user, "username": name} for user, name in zip(ids, names, strict=True)]
    everyone.sort(key=lambda row: ObjectId(row["user"]))

    assert await ua._getAllUsers() == everyone
    assert all(set(row) == {"user", "username"} for row in await ua._getAllUsers())
    assert await ua._getAllUsers(first=2) == everyone[:2]
    assert await ua._getAllUsers(first=2, after=everyone[1]["user"]) == everyone[2:4]
    assert await ua._getAllUsers(first=2, after=everyone[3]["user"]) == everyone[4:]
    assert await ua._getAllUsers(first=1000, after=everyone[4]["user"]) == []
    assert await ua._getAllUsers(after=str(ObjectId("0" * 24))) == everyone
    # An `after` that names no user still pages from its position.
    await delete_account(ua, everyone[2]["user"])
    assert await ua._getAllUsers(first=1, after=everyone[2]["user"]) == everyone[3:4]


@pytest.mark.parametrize(
    "arguments",
    [
        {"first": 0},
        {"first": 1001},
        {"first": -1},
        {"first": True},
        {"first": "2"},
        {"first": 2.0},
        {"after": "nope"},
        {"after": {"$gt": ""}},
        {"after": 5},
    ],
    ids=repr,
)
async def test_get_all_users_answers_nothing_for_an_invalid_page(ua: UserAuthentication, arguments: Any) -> None:
    await ua.register(username="tom", password=PASSWORD)

    assert await ua._getAllUsers(**arguments) == []


async def test_get_all_users_of_an_empty_set_is_empty(ua: UserAuthentication) -> None:
    assert await ua._getAllUsers() == []


async def test_get_username_by_id(ua: UserAuthentication) -> None:
    user = (await ua.register(username="Uma", password=PASSWORD))["user"]

    assert await ua._getUsernameById(user=user) == [{"username": "Uma"}]
    for unknown in [str(ObjectId()), "Uma", None, {"$ne": None}]:
        assert await ua._getUsernameById(user=unknown) == []


async def test_the_user_document_maps_the_collection(database: Any, ua: UserAuthentication) -> None:
    user = (await ua.register(username="wendy", password=PASSWORD))["user"]

    found = await User.get(ObjectId(user))

    assert found is not None and found.key == "wendy" and found.username == "wendy"


# -- passwords in one Unicode form -----------------------------------------------------------------

COMPOSED = "caf\u00e9 au lait"  # é as one code point
DECOMPOSED = "cafe\u0301 au lait"  # e and a combining acute accent
FULL_WIDTH = "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11\uff12\uff13"  # password123, full width


@pytest.mark.parametrize(
    ("registered", "typed"),
    [(COMPOSED, DECOMPOSED), (DECOMPOSED, COMPOSED), (FULL_WIDTH, PASSWORD), (PASSWORD, FULL_WIDTH)],
    ids=["composed, typed decomposed", "decomposed, typed composed", "full width, typed ascii", "ascii, typed full"],
)
async def test_a_password_is_the_same_in_any_unicode_form(ua: UserAuthentication, registered: str, typed: str) -> None:
    user = (await ua.register(username="zoe", password=registered))["user"]

    assert await ua.authenticate(username="zoe", password=typed) == {"user": user, "version": 0}
    assert "user" in await change_password(ua, user, typed, DECOMPOSED)
    assert await ua.authenticate(username="zoe", password=COMPOSED) == {"user": user, "version": 1}


async def test_the_hash_is_of_the_nfkc_form(database: Any, ua: UserAuthentication) -> None:
    await ua.register(username="zoe", password=DECOMPOSED)
    document = await stored(database, "zoe")

    assert document["normalized"] is True
    assert (await PasswordHasher().verify(COMPOSED, document["password_hash"]))[0]
    assert not (await PasswordHasher().verify(DECOMPOSED, document["password_hash"]))[0]


async def test_the_length_rule_counts_the_password_as_typed(ua: UserAuthentication) -> None:
    """Eight code points as typed, four once composed: clients count what they send."""
    typed = "e\u0301" * 4
    assert len(typed) == 8 and len(unicodedata.normalize("NFKC", typed)) == 4

    assert "user" in await ua.register(username="zoe", password=typed)


async def legacy_user(database: Any, hasher: PasswordHasher, password: str) -> str:
    """A user stored before normalisation: its hash is of the password as typed, and it
    has no `normalized` field."""
    now = datetime.now(UTC)
    result = await database[USERS].insert_one(
        {
            "username": "old",
            "key": "old",
            "password_hash": await hasher.hash(password),
            "version": 0,
            "created": now,
            "updated": now,
        }
    )
    return str(result.inserted_id)


async def test_a_hash_of_an_unnormalised_password_keeps_working_and_is_upgraded_at_login(database: Any) -> None:
    hasher = CountingHasher(memory_kib=1024, time_cost=1)
    ua = UserAuthentication(hasher)
    user = await legacy_user(database, hasher, DECOMPOSED)
    before = await stored(database, "old")

    hasher.reset()
    assert code(await ua.authenticate(username="old", password=COMPOSED)) == "INVALID_CREDENTIALS"  # as before
    assert len(hasher.verified) == 1  # one verification, like any login
    assert await stored(database, "old") == before

    assert await ua.authenticate(username="old", password=DECOMPOSED) == {"user": user, "version": 0}  # as typed
    after = await stored(database, "old")
    assert after["normalized"] is True and after["password_hash"] != before["password_hash"]
    assert (await hasher.verify(COMPOSED, after["password_hash"]))[0]

    for typed in (COMPOSED, DECOMPOSED):  # from now on, any form
        assert await ua.authenticate(username="old", password=typed) == {"user": user, "version": 0}


async def test_an_ascii_legacy_hash_is_marked_normalised_without_hashing_again(database: Any) -> None:
    hasher = CountingHasher(memory_kib=1024, time_cost=1)
    ua = UserAuthentication(hasher)
    await legacy_user(database, hasher, PASSWORD)
    before = await stored(database, "old")

    assert "user" in await ua.authenticate(username="old", password=PASSWORD)

    after = await stored(database, "old")
    assert after["normalized"] is True and after["password_hash"] == before["password_hash"]


async def test_change_password_checks_a_legacy_old_password_as_typed(database: Any) -> None:
    hasher = fast_hasher()
    ua = UserAuthentication(hasher)
    user = await legacy_user(database, hasher, DECOMPOSED)

    assert code(await ua.changePassword(user=user, oldPassword=COMPOSED, newPassword=PASSWORD)) == (
        "INVALID_CREDENTIALS"
    )
    assert "user" in await change_password(ua, user, DECOMPOSED, FULL_WIDTH)
    assert (await stored(database, "old"))["normalized"] is True
    assert await ua.authenticate(username="old", password=PASSWORD) == {"user": user, "version": 1}


# -- resetPassword: staged without the old password ----------------------------------------------


async def test_a_reset_stages_a_new_password_without_the_old_one_and_completes_as_a_change(
    database: Any, ua: UserAuthentication
) -> None:
    user = (await ua.register(username="rita", password=PASSWORD))["user"]

    staged = await ua.resetPassword(user=user, newPassword="a new password")

    assert set(staged) == {"user", "username", "change"} and staged["username"] == "rita"
    assert await ua._getCredentials(user=user) == []  # staged: no version to stand on
    assert await ua.completePasswordChange(user=user, change=staged["change"]) == {"user": user, "version": 1}
    assert code(await ua.authenticate(username="rita", password=PASSWORD)) == "INVALID_CREDENTIALS"
    assert await ua.authenticate(username="rita", password="a new password") == {"user": user, "version": 1}


async def test_a_reset_refuses_a_weak_password_a_missing_user_and_a_change_under_way(
    database: Any, ua: UserAuthentication
) -> None:
    user = (await ua.register(username="rob", password=PASSWORD))["user"]

    assert code(await ua.resetPassword(user=user, newPassword="short")) == "WEAK_PASSWORD"
    assert code(await ua.resetPassword(user="0" * 24, newPassword="a new password")) == "USER_NOT_FOUND"
    assert code(await ua.resetPassword(user="not an id", newPassword="a new password")) == "USER_NOT_FOUND"
    first = await ua.resetPassword(user=user, newPassword="a new password")
    assert code(await ua.resetPassword(user=user, newPassword="another password")) == "INVALID_CREDENTIALS"
    assert "change" in first
    assert "lease" in await stored(database, "rob")


@pytest.mark.parametrize(("password", "acceptable"), [("short", False), ("eight ch", True), ("x" * 257, False)])
async def test_check_password_says_whether_a_new_password_follows_the_rule(
    ua: UserAuthentication, password: str, acceptable: bool
) -> None:
    assert await ua._checkPassword(password=password) == [{"acceptable": acceptable}]
