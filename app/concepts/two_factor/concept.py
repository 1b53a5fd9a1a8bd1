"""concept TwoFactor

purpose: ask for a second proof of identity besides the password: a code from an
authenticator app (TOTP), or one of the user's single-use recovery codes.
state: for each user with one, the secret in force (if confirmed) and a secret being set
up (if any), the last time step whose code was accepted, and the unused recovery codes
(as keyed hashes).

TOTP is RFC 6238's: HMAC-SHA1, six digits, 30-second steps, and a code of the step
before or after the current one is accepted too (the phone's clock may drift). A code is
accepted once: accepting it moves the last accepted step forward in one conditional
write, so the same code again, or an older one, is refused, even concurrently. A
recovery code is removed from the user's set in one conditional write as it is
accepted: of concurrent uses, one succeeds.

A setup is confirmed by a code of its new secret before it takes effect; until then the
secret in force (if any) stays. Confirming answers ten new recovery codes, shown once
and kept only as their HMAC-SHA256 under a key derived from JWT_SECRET (they are random,
so a keyed hash is enough). Secrets are sealed (app.sealing) with a key derived from
JWT_SECRET (JWT_SECRET_PREVIOUS opens older ones): never stored in clear, never answered
after the setup, never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, TypedDict

import pyotp
import segno
from pymongo.errors import DuplicateKeyError

from app.engine import Secret
from app.protocol.codes import declare
from app.sealing import Sealer

from ..outputs import INVALID_CODE, TOTP_NOT_ENABLED, Error, error
from .documents import Factor

INVALID_USER = declare(
    "INVALID_USER",
    status=500,
    request_level=True,
    description="Never, unless a sync asks for a session or passkey of no user (a bug of the server's, not the "
    "client's).",
)

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
"""Steps either side of the current one whose codes are accepted."""
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits that cannot be misread for one another (no I, O, 0, 1)."""
RECOVERY_LENGTH = 10
"""Characters of a recovery code (about 50 bits), shown as two groups of five."""
MAX_CODE = 64

TOTP = "totp"
RECOVERY = "recovery"
"""The factors `verify` says were proven, appended to what the caller proved before."""

_INVALID = error(INVALID_CODE, "The code is not valid.")
_NOT_ENABLED = error(TOTP_NOT_ENABLED, "No authenticator app is enabled.")
BY_ID = [("_id", 1)]


class SetupOut(TypedDict):
    secret: Secret
    """Base32, for typing into an authenticator app."""
    uri: Secret
    qrCodeSvg: Secret


class CheckedOut(TypedDict):
    user: str


class EnabledOut(TypedDict):
    user: str
    recoveryCodes: list[Secret]


class DisabledOut(TypedDict):
    user: str


class VerifiedOut(TypedDict):
    user: str
    version: int | None
    method: str
    """What was proven: the caller's `proven`, then `+totp` or `+recovery`."""


class RemovedOut(TypedDict):
    user: str


class StatusRow(TypedDict):
    totp: bool
    recoveryCodesLeft: int


class EnabledRow(TypedDict):
    user: str


def utc_now() -> datetime:
    return datetime.now(UTC)


def _normalized(code: object) -> str | None:
    """The code without spaces and dashes, in capitals; None for anything unusable."""
    if not isinstance(code, str) or len(code) > MAX_CODE:
        return None
    return "".join(code.split()).replace("-", "").upper() or None


def _recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


class TwoFactor:
    """Sets up, confirms, checks and removes users' authenticator apps and recovery codes."""

    def __init__(
        self,
        sealer: Sealer,
        code_keys: Sequence[bytes],
        issuer: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not code_keys:
            raise ValueError("recovery codes are hashed under a key")
        self.sealer = sealer
        self.code_keys = list(code_keys)
        """The recovery codes' HMAC keys, the current one first (codes hashed under an older one still match)."""
        self.issuer = issuer
        self.clock = clock

    def _step(self) -> int:
        return int(self.clock().timestamp()) // STEP_SECONDS

    def _hashes(self, normalized: str) -> list[str]:
        return [hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest() for key in self.code_keys]

    def _open(self, user: str, sealed: object) -> pyotp.TOTP | None:
        secret = self.sealer.open(sealed, user) if isinstance(sealed, bytes) else None
        return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS) if secret else None

    def _matching_step(self, totp: pyotp.TOTP, code: str) -> int | None:
        """The step (of the current one and those next to it) whose code this is."""
        if len(code) != DIGITS or not code.isascii() or not code.isdigit():
            return None
        now = self._step()
        found = None
        for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                found = step if found is None else found
        return found

    async def beginSetup(self, user: str, username: str) -> SetupOut | Annotated[Error, INVALID_USER]:
        """effects: a new secret for the user, pending until `confirmSetup` (one set up
        before and not confirmed is replaced; one in force stays); answers it as Base32,
        as an otpauth:// URI and as that URI's QR code (SVG)."""
        if not isinstance(user, str) or not user or not isinstance(username, str):
            return error(INVALID_USER, "A setup is for a user.")
        secret = pyotp.random_base32()
        sealed = self.sealer.seal(secret, user)
        collection = Factor.get_pymongo_collection()
        try:
            await collection.update_one({"_id": user}, {"$set": {"pending": sealed}}, upsert=True)
        except DuplicateKeyError:  # a concurrent first setup inserted it: set ours on it
            await collection.update_one({"_id": user}, {"$set": {"pending": sealed}})
        uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
            name=username, issuer_name=self.issuer
        )
        svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff")
        return {"secret": secret, "uri": uri, "qrCodeSvg": svg}

    async def checkSetup(self, user: str, code: Secret) -> CheckedOut | Annotated[Error, INVALID_CODE]:
        """requires: a pending setup, and a current code of its secret.
        effects: none (what `confirmSetup` will require, checked before anything is done
        on its account: the user's other sessions revoked, their credentials renewed)."""
        normalized = _normalized(code)
        if not isinstance(user, str) or normalized is None:
            return _INVALID
        found = await Factor.get_pymongo_collection().find_one({"_id": user}, {"pending": 1})
        totp = self._open(user, found.get("pending")) if found else None
        if totp is None:
            return error(INVALID_CODE, "No setup is pending: begin it again.")
        if self._matching_step(totp, normalized) is None:
            return _INVALID
        return {"user": user}

    async def confirmSetup(self, user: str, code: Secret) -> EnabledOut | Annotated[Error, INVALID_CODE]:
        """requires: a pending setup, and a current code of its secret.
        effects: puts its secret in force (in place of any before), with ten new recovery
        codes (answered, kept as hashes), the code's step as the last accepted one."""
        normalized = _normalized(code)
        if not isinstance(user, str) or normalized is None:
            return _INVALID
        collection = Factor.get_pymongo_collection()
        found = await collection.find_one({"_id": user}, {"pending": 1})
        totp = self._open(user, found.get("pending")) if found else None
        if totp is None or found is None:
            return error(INVALID_CODE, "No setup is pending: begin it again.")
        step = self._matching_step(totp, normalized)
        if step is None:
            return _INVALID
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        hashes = [self._hashes(_normalized(c) or "")[0] for c in codes]
        confirmed = await collection.update_one(
            {"_id": user, "pending": found["pending"]},
            {
                "$set": {
                    "active": found["pending"],
                    "pending": None,
                    "last_step": step,
                    "recovery": hashes,
                    "enabled": self.clock(),
                }
            },
            hint=BY_ID,
        )
        if confirmed.modified_count == 0:  # confirmed, replaced or disabled meanwhile
            return error(INVALID_CODE, "No setup is pending: begin it again.")
        return {"user": user, "recoveryCodes": codes}

    async def disable(self, user: str) -> DisabledOut | Annotated[Error, TOTP_NOT_ENABLED]:
        """requires: a secret in force.  effects: removes it, any pending setup and the
        recovery codes."""
        if not isinstance(user, str):
            return _NOT_ENABLED
        removed = await Factor.get_pymongo_collection().find_one_and_delete({"_id": user}, {"active": 1})
        if removed is None or removed.get("active") is None:
            return _NOT_ENABLED
        return {"user": user}

    async def regenerateRecoveryCodes(self, user: str) -> EnabledOut | Annotated[Error, TOTP_NOT_ENABLED]:
        """requires: a secret in force.  effects: ten new recovery codes in place of the old ones."""
        if not isinstance(user, str):
            return _NOT_ENABLED
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        hashes = [self._hashes(_normalized(c) or "")[0] for c in codes]
        replaced = await Factor.get_pymongo_collection().update_one(
            {"_id": user, "active": {"$ne": None}}, {"$set": {"recovery": hashes}}, hint=BY_ID
        )
        if replaced.matched_count == 0:
            return _NOT_ENABLED
        return {"user": user, "recoveryCodes": codes}

    async def verify(
        self, user: str, code: Secret, proven: str, version: int | None = None
    ) -> VerifiedOut | Annotated[Error, INVALID_CODE]:
        """requires: the user has a secret in force, and `code` is its code of the current
        step (or the one before or after) later than the last accepted, or one of their
        unused recovery codes.
        effects: the code's step is the last accepted one, or the recovery code is used
        up. Answers what the sign-in has now proven (`proven`, then `+totp` or
        `+recovery`), and `version` as given (what the caller's sign-in stands on)."""
        normalized = _normalized(code)
        if not isinstance(user, str) or normalized is None or not isinstance(proven, str):
            return _INVALID
        collection = Factor.get_pymongo_collection()
        if len(normalized) == DIGITS and normalized.isdigit():
            found = await collection.find_one({"_id": user}, {"active": 1})
            totp = self._open(user, found.get("active")) if found else None
            step = self._matching_step(totp, normalized) if totp is not None else None
            if step is None or found is None:
                return _INVALID
            accepted = await collection.update_one(
                {"_id": user, "active": found["active"], "last_step": {"$lt": step}},
                {"$set": {"last_step": step}},
                hint=BY_ID,
            )
            factor = TOTP
        else:
            accepted = await collection.update_one(
                {"_id": user, "active": {"$ne": None}, "recovery": {"$in": self._hashes(normalized)}},
                {"$pull": {"recovery": {"$in": self._hashes(normalized)}}},
                hint=BY_ID,
            )
            factor = RECOVERY
        if accepted.modified_count == 0:
            return _INVALID
        return {"user": user, "version": version, "method": f"{proven}+{factor}"}

    async def remove(self, user: str) -> RemovedOut:
        """effects: forgets the user's second factor, if any (their account is gone)."""
        if isinstance(user, str):
            await Factor.get_pymongo_collection().delete_one({"_id": user})
        return {"user": user}

    async def _getStatus(self, user: str) -> list[StatusRow]:
        """Whether the user has an authenticator app in force, and how many unused recovery codes."""
        if not isinstance(user, str):
            return [{"totp": False, "recoveryCodesLeft": 0}]
        found = await Factor.get_pymongo_collection().find_one({"_id": user}, {"active": 1, "recovery": 1})
        if found is None or found.get("active") is None:
            return [{"totp": False, "recoveryCodesLeft": 0}]
        return [{"totp": True, "recoveryCodesLeft": len(found.get("recovery") or [])}]

    async def _isEnabled(self, user: str) -> list[EnabledRow]:
        """[{user}] if the user has an authenticator app in force; [] otherwise."""
        if not isinstance(user, str):
            return []
        found = await Factor.get_pymongo_collection().find_one(
            {"_id": user, "active": {"$ne": None}}, {"_id": 1}, hint=BY_ID
        )
        return [{"user": user}] if found is not None else []
