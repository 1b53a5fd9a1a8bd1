"""concept EmailAddresses

purpose: know how to reach a user by email, and whether they showed the address is theirs.
state: a set of Addresses, each of one user (a user has at most one), with whether it
is verified; no two users have the same address, in any case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..outputs import EMAIL_NOT_FOUND, EMAIL_TAKEN, INVALID_EMAIL, Error, error
from .addresses import MAX_LENGTH, parse
from .documents import EmailAddress

_INVALID = error(INVALID_EMAIL, f"An email address is local@domain.tld, at most {MAX_LENGTH} characters.")
_TAKEN = error(EMAIL_TAKEN, "That email address is another user's.")
_NOT_FOUND = error(EMAIL_NOT_FOUND, "That is not the user's email address.")


class AddressOut(TypedDict):
    user: str
    address: str
    verified: bool


class RemovedOut(TypedDict):
    user: str


class AddressRow(TypedDict):
    address: str
    verified: bool


class UserRow(TypedDict):
    user: str
    address: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _taken_by_another(failure: DuplicateKeyError) -> bool:
    """Whether the write met another user's address (not a concurrent first write of this user's)."""
    details: Mapping[str, Any] = failure.details or {}
    return "key" in (details.get("keyPattern") or {})


class EmailAddresses:
    """Records each user's address, verifies it, and finds a user by a verified address."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self.clock = clock

    async def set(self, user: str, address: str) -> AddressOut | Annotated[Error, INVALID_EMAIL, EMAIL_TAKEN]:
        """requires: a valid address that is not another user's (in any case).
        effects: it is the user's address, unverified, replacing any earlier one (the
        same address again too: it must be verified again)."""
        parsed = parse(address)
        if parsed is None:
            return _INVALID
        if not isinstance(user, str) or not user:
            raise ValueError("an address is set for a user")
        change = {
            "$set": {"address": parsed.shown, "key": parsed.key, "verified": False, "updated": self.clock()},
            "$unset": {"verified_at": ""},
        }
        collection = EmailAddress.get_pymongo_collection()
        for _ in range(2):  # once more if a concurrent first write of this user's inserted it meanwhile
            try:
                await collection.update_one({"_id": user}, change, upsert=True)
            except DuplicateKeyError as failure:
                if _taken_by_another(failure):
                    return _TAKEN
                continue
            return {"user": user, "address": parsed.shown, "verified": False}
        return _TAKEN

    async def verify(self, user: str, address: str) -> AddressOut | Annotated[Error, EMAIL_NOT_FOUND]:
        """requires: `address` is (still) the user's address.  effects: it is verified.
        One conditional update: an address replaced meanwhile is not verified instead."""
        parsed = parse(address)
        if parsed is None or not isinstance(user, str):
            return _NOT_FOUND
        found = await EmailAddress.get_pymongo_collection().find_one_and_update(
            {"_id": user, "key": parsed.key},
            {"$set": {"verified": True, "verified_at": self.clock()}},
            return_document=ReturnDocument.AFTER,
            hint=BY_ID,
        )
        if found is None:
            return _NOT_FOUND
        return {"user": user, "address": found["address"], "verified": True}

    async def remove(self, user: str) -> RemovedOut:
        """effects: the user has no address; it is free for anyone again."""
        if isinstance(user, str):
            await EmailAddress.get_pymongo_collection().delete_one({"_id": user})
        return {"user": user}

    async def _getAddress(self, user: str) -> list[AddressRow]:
        """The user's address and whether it is verified; [] if they have none."""
        if not isinstance(user, str):
            return []
        found = await EmailAddress.get_pymongo_collection().find_one({"_id": user})
        return [{"address": found["address"], "verified": found["verified"]}] if found is not None else []

    async def _getVerifiedUser(self, address: str) -> list[UserRow]:
        """The user whose verified address this is (in any case), and the address as they
        gave it; [] for an unknown or unverified address, or text that is none."""
        parsed = parse(address)
        if parsed is None:
            return []
        found = await EmailAddress.get_pymongo_collection().find_one({"key": parsed.key, "verified": True}, hint=BY_KEY)
        return [{"user": found["_id"], "address": found["address"]}] if found is not None else []


BY_ID = [("_id", 1)]
BY_KEY = [("key", 1)]
"""Hints for the lookups that also test another field: SecantusDB plans such a
conjunction as a collection scan unless told (MongoDB uses the index either way)."""
