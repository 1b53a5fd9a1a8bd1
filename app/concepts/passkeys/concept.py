"""concept Passkeys

purpose: let a user sign in with a passkey (a WebAuthn credential: a key pair their
authenticator keeps, unlocked by its PIN or biometric) instead of a password.
state: for each user, a random WebAuthn user handle; a set of Credentials, each of a
user, with the credential id the authenticator gave it, its public key, its signature
counter, its transports, a name, when it was made and last used, and whether it is
backed up (synced to other devices).

A ceremony is two steps: options carry a fresh challenge to the browser, and the
authenticator's answer is verified against that challenge, which the caller kept (this
concept keeps no challenges: the caller's ticket does, and makes it single use).
Verification is py_webauthn's: the origin is one of the relying party's, the RP ID's
hash is its own, the challenge is the one given, the user was present, and a sign-in
is signed by the passkey's key with a counter that went forward. A sign-in also needs
user verification (the authenticator's PIN or biometric), so that it stands for both
factors; registration only prefers it. Attestation `none` is requested and accepted:
the authenticator's make is neither asked for nor trusted.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict

from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.protocol.codes import declare

from ..outputs import INVALID_CREDENTIALS, INVALID_PASSKEY, PASSKEY_NOT_FOUND, Error, error
from .ceremonies import (
    Known,
    Refused,
    RelyingParty,
    creation_options,
    new_user_handle,
    read_assertion,
    request_options,
    verify_assertion,
    verify_registration,
)
from .documents import Credential, UserHandle

INVALID_USER = declare(
    "INVALID_USER",
    status=500,
    request_level=True,
    description="Never, unless a sync asks for a session or passkey of no user (a bug of the server's, not the "
    "client's).",
)

LISTED = 100
"""The most passkeys of one user listed, excluded from a registration or allowed for a sign-in."""
NAME_LENGTH = 64
DEFAULT_NAME = "Passkey"

_NOT_VERIFIED = error(INVALID_PASSKEY, "The passkey could not be verified; start again.")
_NOT_SIGNED_IN = error(INVALID_CREDENTIALS, "The passkey could not be verified.")
_NOT_FOUND = error(PASSKEY_NOT_FOUND, "No such passkey.")

_log = logging.getLogger(__name__)


class OptionsOut(TypedDict):
    optionsJson: str
    """The options as WebAuthn's JSON (for `PublicKeyCredential.parse*OptionsFromJSON`)."""
    challenge: str
    """The options' challenge (base64url): keep it to verify the answer against."""


class AddedOut(TypedDict):
    id: str
    user: str
    name: str
    createdAt: datetime
    backedUp: bool


class SignedInOut(TypedDict):
    user: str
    passkey: str


class RemovedOut(TypedDict):
    id: str


class RemovedAllOut(TypedDict):
    user: str
    count: int


class PasskeyRow(TypedDict):
    id: str
    name: str
    createdAt: datetime
    lastUsedAt: datetime | None
    backedUp: bool


def utc_now() -> datetime:
    """The current time, to the millisecond (what the database keeps)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _name(name: object) -> str | None:
    """The passkey's name: given (trimmed, 1 to 64 characters) or the default; None if unusable."""
    if name is None:
        return DEFAULT_NAME
    if not isinstance(name, str):
        return None
    trimmed = " ".join(name.split())
    if not trimmed:
        return DEFAULT_NAME
    try:
        trimmed.encode()
    except UnicodeEncodeError:
        return None
    return trimmed if len(trimmed) <= NAME_LENGTH else None


def _row(document: dict[str, Any]) -> PasskeyRow:
    return {
        "id": document["handle"],
        "name": document["name"],
        "createdAt": document["created"],
        "lastUsedAt": document.get("last_used"),
        "backedUp": document["backed_up"],
    }


BY_ID = [("_id", 1)]
BY_USER = [("user", 1), ("created", -1)]
"""The hints a conjunction's filter carries: SecantusDB plans one without a hint as a
collection scan, even when an index's field is in it."""

_LISTED_FIELDS = dict.fromkeys(("handle", "name", "created", "last_used", "backed_up", "transports"), 1)


class Passkeys:
    """Registers users' passkeys, signs them in with one, lists and removes them."""

    def __init__(self, rp: RelyingParty, clock: Callable[[], datetime] = utc_now) -> None:
        self.rp = rp
        self.clock = clock

    async def registrationOptions(self, user: str, username: str) -> OptionsOut | Annotated[Error, INVALID_USER]:
        """effects: gives the user a WebAuthn user handle if they have none, and returns the
        options for a new passkey: a discoverable one (resident key required), user
        verification preferred, attestation `none`, the user's passkeys excluded."""
        if not _text(user) or not _text(username):
            return error(INVALID_USER, "Passkey options are for a user.")
        handle = await _user_handle(user)
        options = creation_options(self.rp, handle, username, await _known(user))
        return {"optionsJson": options.json, "challenge": options.challenge}

    async def register(
        self, user: str, challenge: str, credentialJson: str, name: str | None = None
    ) -> AddedOut | Annotated[Error, INVALID_PASSKEY]:
        """requires: `credentialJson` is the browser's answer (`credential.toJSON()`) to the
        options of `registrationOptions` for this user with this challenge, and it verifies;
        the credential is not registered yet; a name of at most 64 characters.
        effects: stores the passkey under that name ("Passkey" when none is given)."""
        named = _name(name)
        if named is None:
            return error(INVALID_PASSKEY, f"A passkey's name is at most {NAME_LENGTH} characters.")
        if not _text(user):
            return _NOT_VERIFIED
        handles = UserHandle.get_pymongo_collection()
        holder = await handles.find_one({"_id": user})
        if holder is None:
            return _NOT_VERIFIED
        try:
            registered = verify_registration(self.rp, credentialJson, challenge)
        except Refused as refusal:
            _log.info("Passkeys: a registration was refused: %.200s", refusal)
            return _NOT_VERIFIED
        passkey = Credential(
            id=registered.credential_id,
            handle=secrets.token_urlsafe(12),
            user=user,
            user_handle=holder["handle"],
            public_key=registered.public_key,
            sign_count=registered.sign_count,
            transports=registered.transports,
            aaguid=registered.aaguid,
            backup_eligible=registered.backup_eligible,
            backed_up=registered.backed_up,
            name=named,
            created=self.clock(),
        )
        credentials = Credential.get_pymongo_collection()
        try:
            await credentials.insert_one(passkey.model_dump(by_alias=True, exclude={"revision_id"}))
        except DuplicateKeyError:
            return error(INVALID_PASSKEY, "This passkey is registered already.")
        # The user's handle goes first when their passkeys are removed (removeAll): if it
        # is still there now, the removal has not begun and will take this passkey too;
        # if it is gone, this passkey must not outlive it.
        if await handles.find_one({"_id": user, "handle": holder["handle"]}, hint=BY_ID) is None:
            await credentials.delete_one({"_id": registered.credential_id})
            return _NOT_VERIFIED
        return {
            "id": passkey.handle,
            "user": user,
            "name": named,
            "createdAt": passkey.created,
            "backedUp": passkey.backed_up,
        }

    async def authenticationOptions(self, user: str | None = None) -> OptionsOut:
        """The options for signing in with one of the user's passkeys, or, with no user (or
        one with no passkeys, so an unknown username looks the same), with any discoverable
        passkey of this relying party. User verification is required."""
        options = request_options(self.rp, await _known(user) if _text(user) else [])
        return {"optionsJson": options.json, "challenge": options.challenge}

    async def authenticate(
        self, challenge: str, credentialJson: str, user: str | None = None
    ) -> SignedInOut | Annotated[Error, INVALID_CREDENTIALS]:
        """requires: `credentialJson` is the browser's answer (`credential.toJSON()`) to
        options with this challenge; it names a passkey (of `user`, when given; its
        user handle, when it returns one, is the passkey's user's) and verifies, with the
        authenticator's counter past the stored one (or both 0, for an authenticator that
        keeps none).
        effects: moves the stored counter forward, in one conditional write (of two
        answers with the same counter, one passes), and notes the passkey as used now."""
        try:
            assertion = read_assertion(credentialJson)
        except Refused as refusal:
            _log.info("Passkeys: a sign-in was refused: %.200s", refusal)
            return _NOT_SIGNED_IN
        credentials = Credential.get_pymongo_collection()
        found = await credentials.find_one({"_id": assertion.credential_id})
        if found is None or (user is not None and found["user"] != user):
            return _NOT_SIGNED_IN
        returned = assertion.user_handle
        if (returned is None and user is None) or (returned is not None and returned != found["user_handle"]):
            return _NOT_SIGNED_IN  # a discoverable sign-in must say whose passkey it is
        try:
            asserted = verify_assertion(self.rp, assertion, challenge, found["public_key"], found["sign_count"])
        except Refused as refusal:
            _log.info("Passkeys: a sign-in of user %s was refused: %.200s", found["user"], refusal)
            return _NOT_SIGNED_IN
        forward = {"$lt": asserted.sign_count} if asserted.sign_count else 0
        moved = await credentials.update_one(
            {"_id": assertion.credential_id, "sign_count": forward},
            {"$set": {"sign_count": asserted.sign_count, "last_used": self.clock(), "backed_up": asserted.backed_up}},
            hint=BY_ID,
        )
        if moved.matched_count == 0:
            _log.info("Passkeys: a sign-in of user %s was refused: the counter moved meanwhile", found["user"])
            return _NOT_SIGNED_IN
        return {"user": found["user"], "passkey": found["handle"]}

    async def remove(self, user: str, id: str) -> RemovedOut | Annotated[Error, PASSKEY_NOT_FOUND]:
        """requires: `id` names one of the user's passkeys.  effects: removes it. Another
        user's passkey is not found, exactly like one that does not exist."""
        if not _text(user) or not _text(id):
            return _NOT_FOUND
        removed = await Credential.get_pymongo_collection().delete_one({"user": user, "handle": id}, hint=BY_USER)
        if removed.deleted_count == 0:
            return _NOT_FOUND
        return {"id": id}

    async def removeAll(self, user: str) -> RemovedAllOut | Annotated[Error, INVALID_USER]:
        """effects: removes every passkey of the user, and their user handle (first, see `register`)."""
        if not _text(user):
            return error(INVALID_USER, "Passkeys are removed for a user.")
        await UserHandle.get_pymongo_collection().delete_one({"_id": user})
        removed = await Credential.get_pymongo_collection().delete_many({"user": user})
        return {"user": user, "count": removed.deleted_count}

    async def _getPasskeys(self, user: str) -> list[PasskeyRow]:
        """The user's passkeys, newest first (at most 100); never their keys."""
        if not _text(user):
            return []
        return [_row(document) async for document in _credentials_of(user)]

    async def _getPasskey(self, user: str, id: str) -> list[PasskeyRow]:
        """One of the user's passkeys; [] if it is not (or no longer) theirs."""
        if not _text(user) or not _text(id):
            return []
        found = await Credential.get_pymongo_collection().find_one(
            {"user": user, "handle": id}, _LISTED_FIELDS, hint=BY_USER
        )
        return [_row(found)] if found is not None else []


async def _user_handle(user: str) -> str:
    """The user's handle, made now if they have none: of concurrent first calls, the one
    whose insert lands makes it, and the others read it. (An upsert that lost the race
    raises a duplicate key error, or, on SecantusDB, answers no document: either way the
    handle is there to read, unless the user's passkeys were removed meanwhile.)"""
    handles = UserHandle.get_pymongo_collection()
    for _ in range(3):
        try:
            holder = await _upsert_handle(handles, user)
        except DuplicateKeyError:
            holder = None
        holder = holder or await handles.find_one({"_id": user})
        if holder is not None:
            return str(holder["handle"])
    raise RuntimeError("Passkeys: no user handle could be made or read")


async def _upsert_handle(handles: Any, user: str) -> Any:
    return await handles.find_one_and_update(
        {"_id": user},
        {"$setOnInsert": {"handle": new_user_handle()}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )


async def _known(user: str | None) -> list[Known]:
    return [Known(row["_id"], row.get("transports", [])) async for row in _credentials_of(user)]


def _credentials_of(user: str | None) -> Any:
    """The user's credentials, newest first (at most LISTED), without their keys."""
    return (
        Credential.get_pymongo_collection()
        .find({"user": user}, _LISTED_FIELDS)
        .sort([("created", DESCENDING)])
        .limit(LISTED)
    )
