"""concept UserAuthentication

purpose: verify who a user is, by a username and a password they chose.
state: a set of Users, each with a username (unique regardless of ASCII case), a
password hash (argon2id) and the version of these credentials, which every change
of the password increases (so what was decided on older credentials can be told apart).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict

from beanie import SortDirection
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.engine import Secret
from app.protocol.bounds import is_text

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

USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,32}")
PASSWORD_LENGTH = range(8, 257)
PAGE_SIZES = range(1, 1001)
"""How many users `_getAllUsers` gives at once: `first` is one of these."""


_BAD_CREDENTIALS = error(INVALID_CREDENTIALS, "Invalid username or password.")
_WRONG_OLD_PASSWORD = error(INVALID_CREDENTIALS, "The old password is not correct.")


class UserOut(TypedDict):
    user: str


class CredentialsOut(TypedDict):
    user: str
    version: int


class ChangedOut(TypedDict):
    user: str
    username: str


class CredentialsRow(TypedDict):
    username: str
    version: int


class ExistsRow(TypedDict):
    exists: bool


class UsernameRow(TypedDict):
    username: str


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


def _at_version(version: int) -> dict[str, object]:
    """The filter for credentials still at `version` (users stored before versions existed have none: 0)."""
    return {"version": version} if version else {"version": {"$in": [0, None]}}


class UserAuthentication:
    """Registers users and checks their credentials; knows nothing of sessions."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher

    async def register(
        self, username: str, password: Secret
    ) -> CredentialsOut | Annotated[Error, INVALID_USERNAME, WEAK_PASSWORD, USERNAME_TAKEN]:
        """requires: a valid username not taken in any case, a password of 8 to 256 characters
        (as typed). effects: creates a user with that username and a hash of the password's
        NFKC form (version 0)."""
        if not _valid_username(username):
            return error(INVALID_USERNAME, "Usernames are 3 to 32 letters, digits, '_', '.' or '-'.")
        if not _valid_password(password):
            return error(WEAK_PASSWORD, "Passwords are 8 to 256 characters long.")
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
            await _find_user({"key": username.lower()}, "password_hash", "normalized", "version")
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
            await User.get_pymongo_collection().update_one(
                {"_id": found["_id"], **_at_version(version), "password_hash": stored},
                {"$set": {"password_hash": rehashed or stored, "normalized": True, "updated": _now()}},
            )
        return {"user": str(found["_id"]), "version": version}

    async def changePassword(
        self, user: str, oldPassword: Secret, newPassword: Secret
    ) -> ChangedOut | Annotated[Error, WEAK_PASSWORD, USER_NOT_FOUND, INVALID_CREDENTIALS]:
        """requires: the user exists, oldPassword is theirs, newPassword is 8 to 256 characters.
        effects: stores a hash of newPassword as the next version of the credentials,
        only if they are still the ones oldPassword was checked against: of concurrent
        changes, one wins and the others find their old password no longer current."""
        if not _valid_password(newPassword):
            return error(WEAK_PASSWORD, "Passwords are 8 to 256 characters long.")
        oid = _object_id(user)
        found = await User.get(oid) if oid is not None else None
        if found is None:
            return error(USER_NOT_FOUND, "No such user.")
        if not _text(oldPassword):
            return _WRONG_OLD_PASSWORD
        if not (await self.hasher.verify(_as_stored(oldPassword, found.normalized), found.password_hash))[0]:
            return _WRONG_OLD_PASSWORD
        hashed = await self.hasher.hash(normalized(newPassword))
        changed = await User.get_pymongo_collection().update_one(
            {"_id": found.id, **_at_version(found.version)},
            {"$set": {"password_hash": hashed, "normalized": True, "updated": _now()}, "$inc": {"version": 1}},
        )
        if changed.modified_count == 0:
            return _WRONG_OLD_PASSWORD
        return {"user": user, "username": found.username}

    async def deleteAccount(self, user: str) -> UserOut | Annotated[Error, USER_NOT_FOUND]:
        """requires: the user exists.  effects: removes the user."""
        oid = _object_id(user)
        result = await User.find_one(User.id == oid).delete() if oid is not None else None
        if result is None or result.deleted_count == 0:
            return error(USER_NOT_FOUND, "No such user.")
        return {"user": user}

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
        row = await _find_user({"_id": oid}, "username") if oid is not None else None
        return [{"username": row["username"]}] if row is not None else []

    async def _getCredentials(self, user: str) -> list[CredentialsRow]:
        """The user's name and the version of their credentials; [] once the user is gone."""
        oid = _object_id(user)
        row = await _find_user({"_id": oid}, "username", "version") if oid is not None else None
        return [{"username": row["username"], "version": row.get("version") or 0}] if row is not None else []
