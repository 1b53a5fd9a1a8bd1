"""Session tokens: HS256 JWTs naming a session, signed with the current key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sid", "sub", "iat", "exp", "iss"]


class TokenCodec:
    """Signs with the first key; also accepts the others (key rotation). Remembers the
    claims of the last `remember` tokens it verified: a token is the same string on every
    request, and checking its signature again would cost more than the rest of a cached
    session's lookup (its expiry is still checked on every use)."""

    def __init__(self, keys: Sequence[str], issuer: str, *, remember: int = 0) -> None:
        if not keys:
            raise ValueError("a signing key is required")
        self._keys = list(keys)
        self._issuer = issuer
        self._remember = remember
        self._known: dict[str, dict[str, Any]] = {}

    def encode(self, session_id: str, user: str, issued: datetime, expires: datetime) -> str:
        claims = {"sid": session_id, "sub": user, "iat": issued, "exp": expires, "iss": self._issuer}
        return jwt.encode(claims, self._keys[0], algorithm=ALGORITHM)

    def decode(self, token: object, now: datetime) -> dict[str, Any] | None:
        """The claims of a valid token of ours, unexpired at `now` (the concept's clock, so
        tokens and sessions expire by one clock); None for anything else."""
        if not isinstance(token, str) or not token or not token.isascii():
            return None  # a JWT is ASCII; anything else cannot be one of ours
        known = self._known.get(token)
        if known is not None:
            if known["exp"] > now.timestamp():
                return known
            del self._known[token]
            return None
        claims = self._verify(token, now)
        if claims is not None and self._remember:
            if len(self._known) >= self._remember:
                del self._known[next(iter(self._known))]  # the oldest
            self._known[token] = claims
        return claims

    def _verify(self, token: str, now: datetime) -> dict[str, Any] | None:
        for key in self._keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    issuer=self._issuer,
                    options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError:
                return None
            valid = isinstance(claims.get("sid"), str) and isinstance(claims.get("sub"), str)
            expires = claims.get("exp")
            if valid and isinstance(expires, int | float) and expires > now.timestamp():
                return claims
            return None
        return None
