"""concept UserAuthentication

purpose: verify who a user is, by a username and a password they chose.
state: a set of Users, each with a username (unique regardless of ASCII case), a
password hash (argon2id) and the version of these credentials, which every change
of them increases (so what was decided on older credentials can be told apart),
and the change of them under way, if any.

A change of the credentials (a new password, the account's removal, a renewal: the
next version with the same password) happens in two steps, so that whatever else must
happen first (revoking the user's sessions) happens between them: the change is
staged, holding the credentials for a while (its lease), then completed. While it is
staged the old credentials stay in force but report no version, so nothing decided on
them meanwhile stands; its completion is the one write that puts it in force, and
only while it still holds them. A change whose flow died is given up once its lease
has run out: the next login or change breaks it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, TypedDict

from beanie import SortDirection
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.database.cache import Cache
from app.engine import Secret
from app.protocol.bounds import is_text
from app.protocol.codes import TIMEOUT

from ..outputs import (
    INVALID_CREDENTIALS,
    INVALID_USERNAME,
    USER_NOT_FOUND,
    USERNAME_TAKEN,
    WEAK_PASSWORD,
    Error,
    error,
)
from .documents import User, UserName
from .passwords import PasswordHasher, normalized

USERNAME_LENGTH = range(3, 33)
USERNAME = re.compile(rf"[A-Za-z0-9_.\-]{{{USERNAME_LENGTH.start},{USERNAME_LENGTH[-1]}}}")
PASSWORD_LENGTH = range(8, 257)
USERNAME_RULE = (
    f"{USERNAME_LENGTH.start} to {USERNAME_LENGTH[-1]} ASCII letters, digits, '_', '.' or '-'; unique regardless "
    "of case (Ada and ada are one name), kept as typed"
)
"""The username rule, as clients are told it (GraphQL's argument descriptions)."""
PASSWORD_RULE = (
    f"{PASSWORD_LENGTH.start} to {PASSWORD_LENGTH[-1]} characters of any kind (Unicode code points, counted as "
    "sent); compared in Unicode's NFKC form, so the same text typed with other code points is the same password"
)
"""The password rule, as clients are told it."""
PAGE_SIZES = range(1, 1001)
"""How many users `_getAllUsers` gives at once: `first` is one of these."""


LEASE: Final = timedelta(seconds=10)
"""How long a staged change holds the credentials by default (the app's is REQUESTING_TIMEOUT)."""
BY_ID: Final = [("_id", 1)]
"""The hint of a conditional write to one user: SecantusDB plans a filter on `_id` and
another field as a scan of the collection unless told to use the `_id` index."""

_BAD_CREDENTIALS = error(INVALID_CREDENTIALS, "Invalid username or password.")
_WRONG_OLD_PASSWORD = error(INVALID_CREDENTIALS, "The old password is not correct.")
_CHANGED_MEANWHILE = error(INVALID_CREDENTIALS, "The credentials changed while the password was being changed.")
_NO_USER = error(USER_NOT_FOUND, "No such user.")
_CHANGING = error(INVALID_CREDENTIALS, "The credentials are being changed; try again in a moment.")
_USERNAME_RULE_BROKEN = (
    f"Usernames are {USERNAME_LENGTH.start} to {USERNAME_LENGTH[-1]} letters, digits, '_', '.' or '-'."
)
_PASSWORD_RULE_BROKEN = f"Passwords are {PASSWORD_LENGTH.start} to {PASSWORD_LENGTH[-1]} characters long."
_GIVEN_UP = error(TIMEOUT, "The change took too long and was given up; nothing changed.")


class UserOut(TypedDict):
    user: str


class CredentialsOut(TypedDict):
    user: str
    version: int


class PasswordStagedOut(TypedDict):
    user: str
    username: str
    change: str


class RenewalStagedOut(TypedDict):
    user: str
    change: str


class DeletionStagedOut(TypedDict):
    user: str
    change: str


class CredentialsRow(TypedDict):
    username: str
    version: int


class ExistsRow(TypedDict):
    exists: bool


class PasswordRuleRow(TypedDict):
    acceptable: bool


class UsernameRow(TypedDict):
    username: str


class UserIdRow(TypedDict):
    user: str


class UserListRow(TypedDict):
    user: str
    username: str


def _valid_username(username: object) -> bool:
    return isinstance(username, str) and USERNAME.fullmatch(username) is not None


def _text(value: object) -> bool:
    """A string that can be hashed and stored."""
    return isinstance(value, str) and is_text(value)


def _valid_password(password: object) -> bool:
    return _text(password) and len(password) in PASSWORD_LENGTH  # type: ignore[arg-type]


def _object_id(user: object) -> ObjectId | None:
    """The ObjectId a user id names, or None for anything malformed (never an operator)."""
    return ObjectId(user) if isinstance(user, str) and ObjectId.is_valid(user) else None


def _now() -> datetime:
    return datetime.now(UTC)


def _find_user(criteria: dict[str, Any], *fields: str) -> Awaitable[dict[str, Any] | None]:
    """One user's `fields` (and `_id`), straight from the driver: these reads are on every
    login and protected request, and a Beanie model parsed per read costs more than the
    read. (`User` still declares the collection, its fields and its index.)"""
    return User.get_pymongo_collection().find_one(criteria, dict.fromkeys(("_id", *fields), 1))


def _as_stored(password: str, normalized_hash: bool) -> str:
    """The form of `password` its user's hash was made of: NFKC, or as typed for a hash from
    before normalisation (which keeps working exactly as before, until the next login
    replaces it). One verification either way, so no login costs more than another."""
    return normalized(password) if normalized_hash else password


def _users() -> AsyncCollection[dict[str, Any]]:
    return User.get_pymongo_collection()


def _at_version(version: int) -> dict[str, object]:
    """The filter for credentials still at `version` (users stored before versions existed have none: 0)."""
    return {"version": version} if version else {"version": {"$in": [0, None]}}


def _free(now: datetime) -> dict[str, object]:
    """The filter for credentials no change holds: none staged, or one whose lease ran out."""
    return {"$or": [{"lease": None}, {"lease.until": {"$lte": now}}]}


def _change_id() -> str:
    return secrets.token_urlsafe(12)


class UserAuthentication:
    """Registers users and checks their credentials; knows nothing of sessions."""

    def __init__(
        self,
        hasher: PasswordHasher,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] = _now,
        *,
        usernames: Cache[ObjectId, str] | None = None,
    ) -> None:
        self.hasher = hasher
        self.lease = lease
        self.clock = clock
        self.usernames = usernames
        """The usernames `_getUsernameById` found lately (app.database.cache): a username never
        changes, and a removed user is discarded here when removed, elsewhere by the change feed."""

    async def register(
        self, username: str, password: Secret
    ) -> CredentialsOut | Annotated[Error, INVALID_USERNAME, WEAK_PASSWORD, USERNAME_TAKEN]:
        """requires: a valid username not taken in any case, a password of 8 to 256 characters
        (as typed). effects: creates a user with that username and a hash of the password's
        NFKC form (version 0)."""
        if not _valid_username(username):
            return error(INVALID_USERNAME, _USERNAME_RULE_BROKEN)
        if not _valid_password(password):
            return error(WEAK_PASSWORD, _PASSWORD_RULE_BROKEN)
        key = username.lower()
        if await User.find_one(User.key == key) is not None:
            return error(USERNAME_TAKEN, "That username is taken.")
        now = _now()
        hashed = await self.hasher.hash(normalized(password))
        user = User(username=username, key=key, password_hash=hashed, normalized=True, created=now, updated=now)
        try:
            await user.insert()
        except DuplicateKeyError:
            return error(USERNAME_TAKEN, "That username is taken.")
        return {"user": str(user.id), "version": user.version}

    async def authenticate(
        self, username: str, password: Secret
    ) -> CredentialsOut | Annotated[Error, INVALID_CREDENTIALS]:
        """requires: a user with this username (in any case) whose password this is.
        effects: none, but a hash made with outdated parameters, or from before passwords
        were normalised, is replaced (unless the credentials changed meanwhile). Unknown
        users cost one verification too and get the same error. The output names the
        version of the credentials that matched."""
        if not _text(password) or len(password) > PASSWORD_LENGTH[-1]:
            return _BAD_CREDENTIALS
        found = (
            await _find_user(
                {"key": username.lower()}, "password_hash", "normalized", "version", "lease.id", "lease.until"
            )
            if _valid_username(username)
            else None
        )
        if found is None:
            await self.hasher.verify_nothing(password)
            return _BAD_CREDENTIALS
        stored, version = found["password_hash"], found.get("version") or 0
        checked = _as_stored(password, bool(found.get("normalized")))
        matches, rehashed = await self.hasher.verify(checked, stored)
        if not matches:
            return _BAD_CREDENTIALS
        if checked != normalized(password):  # a hash from before normalisation, of another form
            rehashed = await self.hasher.hash(normalized(password))
        if rehashed is not None or not found.get("normalized"):
            await _users().update_one(
                {"_id": found["_id"], **_at_version(version), "password_hash": stored},
                {"$set": {"password_hash": rehashed or stored, "normalized": True, "updated": _now()}},
                hint=BY_ID,
            )
        lease = found.get("lease")
        if lease is not None and lease["until"] <= self.clock():
            await self._give_up(found["_id"], lease["id"])
        return {"user": str(found["_id"]), "version": version}

    async def changePassword(
        self, user: str, oldPassword: Secret, newPassword: Secret
    ) -> PasswordStagedOut | Annotated[Error, WEAK_PASSWORD, USER_NOT_FOUND, INVALID_CREDENTIALS]:
        """requires: the user exists, oldPassword is theirs, newPassword is 8 to 256
        characters, no other change of their credentials is under way.
        effects: stages a hash of newPassword as the next version of the credentials, only
        if they are still the ones oldPassword was checked against (of concurrent changes,
        one is staged and the others find their old password no longer current). It is
        in force once completed (completePasswordChange) while its lease holds; until then
        the old password stays, and the credentials report no version (_getCredentials)."""
        if not _valid_password(newPassword):
            return error(WEAK_PASSWORD, _PASSWORD_RULE_BROKEN)
        oid = _object_id(user)
        fields = ("username", "password_hash", "normalized", "version")
        found = await _find_user({"_id": oid}, *fields) if oid is not None else None
        if found is None:
            return _NO_USER
        if not _text(oldPassword):
            return _WRONG_OLD_PASSWORD
        if not (
            await self.hasher.verify(_as_stored(oldPassword, bool(found.get("normalized"))), found["password_hash"])
        )[0]:
            return _WRONG_OLD_PASSWORD
        new_hash, change, now = await self.hasher.hash(normalized(newPassword)), _change_id(), self.clock()
        staged = await _users().update_one(
            {"_id": oid, **_at_version(found.get("version") or 0), **_free(now)},
            {"$set": {"lease": {"id": change, "until": now + self.lease, "hash": new_hash}}},
            hint=BY_ID,
        )
        if staged.modified_count == 0:
            return _WRONG_OLD_PASSWORD
        return {"user": user, "username": found["username"], "change": change}

    async def resetPassword(
        self, user: str, newPassword: Secret
    ) -> PasswordStagedOut | Annotated[Error, WEAK_PASSWORD, USER_NOT_FOUND, INVALID_CREDENTIALS]:
        """requires: the user exists, newPassword is 8 to 256 characters, no other change
        of their credentials is under way.
        effects: stages a hash of newPassword as the next version of the credentials, as
        changePassword does, but without the old password: whoever calls it proved who
        they are otherwise (a password reset link). In force once completed
        (completePasswordChange)."""
        if not _valid_password(newPassword):
            return error(WEAK_PASSWORD, _PASSWORD_RULE_BROKEN)
        oid = _object_id(user)
        found = await _find_user({"_id": oid}, "username", "version") if oid is not None else None
        if found is None:
            return _NO_USER
        new_hash, change, now = await self.hasher.hash(normalized(newPassword)), _change_id(), self.clock()
        staged = await _users().update_one(
            {"_id": oid, **_at_version(found.get("version") or 0), **_free(now)},
            {"$set": {"lease": {"id": change, "until": now + self.lease, "hash": new_hash}}},
            hint=BY_ID,
        )
        if staged.modified_count == 0:
            return _CHANGED_MEANWHILE
        return {"user": user, "username": found["username"], "change": change}

    async def stageRenewal(self, user: str) -> RenewalStagedOut | Annotated[Error, INVALID_CREDENTIALS, USER_NOT_FOUND]:
        """requires: the user exists, no other change of their credentials is under way.
        effects: stages the next version of the credentials with the same password (what
        makes them stronger elsewhere, a second factor put in force, makes what was decided
        on the old version stand no longer), completed by completePasswordChange while its
        lease holds; until then the credentials report no version (_getCredentials)."""
        oid = _object_id(user)
        if oid is None:
            return _NO_USER
        change, now = _change_id(), self.clock()
        staged = await _users().update_one(
            {"_id": oid, **_free(now)},
            [{"$set": {"lease": {"id": change, "until": now + self.lease, "hash": "$password_hash"}}}],
            hint=BY_ID,
        )
        if staged.matched_count == 0:
            return _NO_USER if await _find_user({"_id": oid}) is None else _CHANGING
        return {"user": user, "change": change}

    async def completePasswordChange(
        self, user: str, change: str
    ) -> CredentialsOut | Annotated[Error, INVALID_CREDENTIALS, USER_NOT_FOUND, TIMEOUT]:
        """requires: `change` is the user's staged password change (or renewal,
        stageRenewal), still holding the credentials.
        effects: puts it in force: the new hash, the next version (the output names it).
        Idempotent: a change already completed succeeds again."""
        oid = _object_id(user)
        if oid is None or not isinstance(change, str):
            return _NO_USER
        completed = await _users().find_one_and_update(
            {"_id": oid, "lease.id": change},
            [
                {
                    "$set": {
                        "password_hash": "$lease.hash",
                        "normalized": True,
                        "version": {"$add": [{"$ifNull": ["$version", 0]}, 1]},
                        "updated": self.clock(),
                        "last_change": "$lease.id",
                    }
                },
                {"$unset": "lease"},
            ],
            projection={"_id": 0, "version": 1},
            return_document=ReturnDocument.AFTER,
            hint=BY_ID,
        )
        if completed is not None:
            return {"user": user, "version": completed["version"]}
        found = await _find_user({"_id": oid}, "last_change", "lease.id", "version")
        if found is None:
            return _NO_USER
        if found.get("last_change") == change:
            return {"user": user, "version": found.get("version") or 0}
        return _CHANGED_MEANWHILE if found.get("lease") else _GIVEN_UP

    async def deleteAccount(self, user: str) -> DeletionStagedOut | Annotated[Error, USER_NOT_FOUND]:
        """requires: the user exists.
        effects: stages the removal of the user, which takes over any other change under
        way (a removal already staged is joined: one change, its lease renewed). It
        happens once completed (completeDeletion) while its lease holds; until then the
        credentials report no version (_getCredentials)."""
        oid = _object_id(user)
        if oid is None:
            return _NO_USER
        until = self.clock() + self.lease
        removal = {
            "$cond": [
                {"$eq": ["$lease.delete", True]},
                {"$mergeObjects": ["$lease", {"until": until}]},
                {"id": _change_id(), "until": until, "delete": True},
            ]
        }
        staged = await _users().find_one_and_update(
            {"_id": oid},
            [{"$set": {"lease": removal}}],
            projection={"_id": 0, "lease.id": 1},
            return_document=ReturnDocument.AFTER,
            hint=BY_ID,
        )
        if staged is None:
            return _NO_USER
        return {"user": user, "change": staged["lease"]["id"]}

    async def completeDeletion(self, user: str, change: str) -> UserOut | Annotated[Error, USER_NOT_FOUND, TIMEOUT]:
        """requires: `change` is the user's staged removal, still holding the credentials.
        effects: removes the user. Idempotent: a user already removed succeeds again."""
        oid = _object_id(user)
        if oid is None or not isinstance(change, str):
            return _NO_USER
        removed = await _users().delete_one({"_id": oid, "lease.id": change}, hint=BY_ID)
        if self.usernames is not None:
            self.usernames.discard(oid)
        if removed.deleted_count == 1 or await _find_user({"_id": oid}) is None:
            return {"user": user}
        return _GIVEN_UP

    async def _give_up(self, oid: ObjectId, change: str) -> None:
        """Break a change whose lease ran out (its flow died or stalled): the credentials
        are free again, and the change can no longer complete."""
        await _users().update_one(
            {"_id": oid, "lease.id": change, "lease.until": {"$lte": self.clock()}},
            {"$unset": {"lease": ""}},
            hint=BY_ID,
        )

    async def _checkPassword(self, password: Secret) -> list[PasswordRuleRow]:
        """Whether `password` follows the password rule (PASSWORD_RULE), to check a new
        password before something else is used up for it."""
        return [{"acceptable": _valid_password(password)}]

    async def _checkUserExists(self, user: str) -> list[ExistsRow]:
        oid = _object_id(user)
        exists = oid is not None and await _find_user({"_id": oid}) is not None
        return [{"exists": exists}]

    async def _getAllUsers(self, first: int = 100, after: str | None = None) -> list[UserListRow]:
        """Users in id order, `first` of them after the id `after`; never their hashes."""
        if isinstance(first, bool) or not isinstance(first, int) or first not in PAGE_SIZES:
            return []
        criteria = {}
        if after is not None:
            oid = _object_id(after)
            if oid is None:
                return []
            criteria = {"_id": {"$gt": oid}}
        rows = await User.find_many(
            criteria, projection_model=UserName, sort=[("_id", SortDirection.ASCENDING)], limit=first, hint=[("_id", 1)]
        ).to_list()
        return [{"user": str(row.id), "username": row.username} for row in rows]

    async def _getUsernameById(self, user: str) -> list[UsernameRow]:
        oid = _object_id(user)
        if oid is None:
            return []
        cache = self.usernames
        username = await cache.get(oid) if cache is not None else None
        if username is None:
            mark = cache.mark if cache is not None else 0
            row = await _find_user({"_id": oid}, "username")
            if row is None:
                return []
            username = row["username"]
            if cache is not None:
                cache.offer(oid, username, mark)
        return [{"username": username}]

    async def _getUserByUsername(self, username: str) -> list[UserIdRow]:
        """The user with this username, in any case; [] if there is none (or it cannot be
        one). One indexed read either way, so a name no one has costs the same."""
        if not _valid_username(username):
            return []
        row = await _find_user({"key": username.lower()})
        return [{"user": str(row["_id"])}] if row is not None else []

    async def _getCredentials(self, user: str) -> list[CredentialsRow]:
        """The user's name and the version of their credentials; [] once the user is gone,
        and while a change of them is staged: a version read then may not last."""
        oid = _object_id(user)
        row = await _find_user({"_id": oid}, "username", "version", "lease.id") if oid is not None else None
        if row is None or row.get("lease"):
            return []
        return [{"username": row["username"], "version": row.get("version") or 0}]
