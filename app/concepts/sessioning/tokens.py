"""Session tokens: HS256 JWTs naming a session, signed with the current key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sid", "sub", "iat", "exp", "iss"]


class TokenCodec:
    """Signs with the first key; also accepts the others (key rotation)."""

    def __init__(self, keys: Sequence[str], issuer: str) -> None:
        if not keys:
            raise ValueError("a signing key is required")
        self._keys = list(keys)
        self._issuer = issuer

    def encode(self, session_id: str, user: str, issued: datetime, expires: datetime) -> str:
        claims = {"sid": session_id, "sub": user, "iat": issued, "exp": expires, "iss": self._issuer}
        return jwt.encode(claims, self._keys[0], algorithm=ALGORITHM)

    def decode(self, token: object, now: datetime) -> dict[str, Any] | None:
        """The claims of a valid token of ours, unexpired at `now` (the concept's clock, so
        tokens and sessions expire by one clock); None for anything else."""
        if not isinstance(token, str) or not token or not token.isascii():
            return None  # a JWT is ASCII; anything else cannot be one of ours
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
