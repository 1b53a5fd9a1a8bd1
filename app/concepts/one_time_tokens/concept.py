"""concept OneTimeTokens

purpose: prove that whoever presents a token got it from us for one purpose and one
subject (a link mailed to a user, a ticket handed out between two steps of a login),
once, and only for a while.
state: a set of Tokens, each with a purpose, a subject (or none), non-secret data, and
an expiry; known only by the SHA-256 of the token.

A token is 256 random bits, URL-safe. It is stored as its SHA-256, not a slow password
hash such as argon2: a slow hash protects low-entropy secrets from guessing, but no
one can guess 256 random bits however fast the hash, and an unsalted fast hash is
what lets the token be found by one indexed read. Each purpose has its own lifetime.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypedDict

from app.engine import Secret
from app.protocol.codes import declare

from ..outputs import INVALID_TOKEN, Error, error
from .documents import Data, OneTimeToken

UNKNOWN_PURPOSE = declare(
    "UNKNOWN_PURPOSE",
    status=500,
    request_level=True,
    description="Never, unless a sync asks OneTimeTokens for a token of a purpose it has no lifetime for (a bug "
    "of the server's, not the client's).",
)

TOKEN_BYTES = 32
"""256 random bits (43 URL-safe characters)."""
MAX_TOKEN = 128
"""Longer strings are not tokens of ours and are refused before hashing."""
MAX_DATA = 4096
"""Bytes of a token's data, as JSON."""

_INVALID = error(INVALID_TOKEN, "This link or ticket is not valid: it is unknown, used, expired or void.")


class IssuedOut(TypedDict):
    token: Secret
    expiresAt: datetime


class RedeemedOut(TypedDict):
    subject: str | None
    data: Data


class VoidedOut(TypedDict):
    subject: str
    count: int


class TokenRow(TypedDict):
    subject: str | None
    data: Data
    expiresAt: datetime


def utc_now() -> datetime:
    """The current time, to the second (what the outputs show)."""
    return datetime.now(UTC).replace(microsecond=0)


def digest(token: object) -> str | None:
    """The SHA-256 (hex) a token is stored as; None for what cannot be one of ours."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or not token.isascii():
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()


BY_ID = [("_id", 1)]
"""The hint a token's lookup carries: SecantusDB plans a conjunction with `_id` as a
collection scan unless told (MongoDB finds it by `_id` either way)."""


def _live(hashed: str, purpose: str, now: datetime) -> dict[str, object]:
    """The filter of a token still live for a purpose."""
    return {"_id": hashed, "purpose": purpose, "expires": {"$gt": now}}


def _checked_data(data: object) -> Data:
    """The data, if it is a flat JSON object of at most MAX_DATA bytes (else a bug of the sync)."""
    if data is None:
        return {}
    scalars = (str, int, float, bool, type(None))
    if (
        not isinstance(data, dict)
        or not all(isinstance(key, str) and isinstance(value, scalars) for key, value in data.items())
        or len(json.dumps(data).encode()) > MAX_DATA
    ):
        raise ValueError(f"a token's data is a flat JSON object of at most {MAX_DATA} bytes")
    return data


class OneTimeTokens:
    """Issues single-use tokens for purposes with a lifetime each, and redeems them."""

    def __init__(self, lifetimes: dict[str, timedelta], clock: Callable[[], datetime] = utc_now) -> None:
        self.lifetimes = lifetimes
        self.clock = clock

    async def issue(
        self, purpose: str, subject: str | None, data: Data | None = None
    ) -> IssuedOut | Annotated[Error, UNKNOWN_PURPOSE]:
        """requires: a known purpose.
        effects: a new random token for the subject, valid for the purpose's lifetime,
        carrying `data` (never secret: it is stored in clear)."""
        lifetime = self.lifetimes.get(purpose) if isinstance(purpose, str) else None
        if lifetime is None:
            return error(UNKNOWN_PURPOSE, f"No token has the purpose {purpose!r}.")
        if subject is not None and not isinstance(subject, str):
            raise ValueError("a token's subject is a string or None")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.clock()
        stored = OneTimeToken(
            id=hashlib.sha256(token.encode("ascii")).hexdigest(),
            purpose=purpose,
            subject=subject,
            data=_checked_data(data),
            created=now,
            expires=now + lifetime,
        )
        await stored.insert()
        return {"token": token, "expiresAt": stored.expires}

    async def redeem(self, purpose: str, token: Secret) -> RedeemedOut | Annotated[Error, INVALID_TOKEN]:
        """requires: the token was issued for this purpose, is unexpired, and was neither
        redeemed nor voided.  effects: uses it up. One conditional delete: of concurrent
        redeems of one token, exactly one succeeds."""
        hashed = digest(token)
        if hashed is None or not isinstance(purpose, str):
            return _INVALID
        used = await OneTimeToken.get_pymongo_collection().find_one_and_delete(
            _live(hashed, purpose, self.clock()), hint=BY_ID
        )
        if used is None:
            return _INVALID
        return {"subject": used["subject"], "data": used.get("data") or {}}

    async def void(self, purpose: str, subject: str) -> VoidedOut:
        """effects: every outstanding token of the subject for the purpose is void."""
        if not isinstance(subject, str) or not isinstance(purpose, str):
            return {"subject": subject, "count": 0}  # a subject, never a pattern (or the subject-less tokens)
        result = await OneTimeToken.get_pymongo_collection().delete_many({"subject": subject, "purpose": purpose})
        return {"subject": subject, "count": result.deleted_count}

    async def deleteBySubject(self, subject: str) -> VoidedOut:
        """effects: every outstanding token of the subject, whatever its purpose, is void."""
        if not isinstance(subject, str):
            return {"subject": subject, "count": 0}
        result = await OneTimeToken.get_pymongo_collection().delete_many({"subject": subject})
        return {"subject": subject, "count": result.deleted_count}

    async def _getSubject(self, purpose: str, token: Secret) -> list[TokenRow]:
        """The subject and data of a live token of this purpose, without using it up (to
        check something first, e.g. a code, then `redeem`); [] for any other string."""
        hashed = digest(token)
        if hashed is None or not isinstance(purpose, str):
            return []
        found = await OneTimeToken.get_pymongo_collection().find_one(_live(hashed, purpose, self.clock()), hint=BY_ID)
        if found is None:
            return []
        return [{"subject": found["subject"], "data": found.get("data") or {}, "expiresAt": found["expires"]}]
