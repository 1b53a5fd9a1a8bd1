"""concept Sessioning

purpose: let a user stay authenticated across requests, until they log out or the
session expires.
state: a set of Sessions, each with a user, a creation time and an expiry time.
A session travels as a signed token (JWT) that names it; only this concept knows that.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from app.engine import Secret

from ..outputs import Error, error
from .documents import Session
from .tokens import TokenCodec

UNAUTHENTICATED = "UNAUTHENTICATED"
INVALID_USER = "INVALID_USER"


class SessionOut(TypedDict):
    session: Secret
    expiresAt: datetime


class DeletedOut(TypedDict):
    session: Secret


class RevokedOut(TypedDict):
    user: str
    count: int


class UserRow(TypedDict):
    user: str


class Sessioning:
    """Creates, resolves and revokes sessions."""

    def __init__(self, tokens: TokenCodec, ttl: timedelta) -> None:
        self.tokens = tokens
        self.ttl = ttl

    async def create(self, user: str) -> SessionOut | Error:
        """effects: starts a session for the user, expiring after the configured TTL."""
        if not isinstance(user, str) or not user:
            return error(INVALID_USER, "A session needs a user.")
        now = datetime.now(UTC).replace(microsecond=0)
        session = Session(id=secrets.token_urlsafe(18), user=user, created=now, expires=now + self.ttl)
        await session.insert()
        token = self.tokens.encode(session.id, user, now, session.expires)
        return {"session": token, "expiresAt": session.expires}

    async def delete(self, session: Secret) -> DeletedOut | Error:
        """requires: the session is live.  effects: ends it."""
        claims = self.tokens.decode(session)
        deleted = await Session.find_one(Session.id == claims["sid"]).delete() if claims else None
        if deleted is None or deleted.deleted_count == 0:
            return error(UNAUTHENTICATED, "No such session.")
        return {"session": session}

    async def deleteByUser(self, user: str, keep: Secret | None = None) -> RevokedOut | Error:
        """effects: ends every session of the user, but the one `keep` names (if any)."""
        if not isinstance(user, str):
            return error(INVALID_USER, "Sessions are revoked for a user.")
        kept = self.tokens.decode(keep) if keep is not None else None
        criteria: dict[str, object] = {"user": user}
        if kept is not None:
            criteria["_id"] = {"$ne": kept["sid"]}
        result = await Session.find_many(criteria).delete()
        return {"user": user, "count": result.deleted_count if result else 0}

    async def _getUser(self, session: Secret) -> list[UserRow]:
        """The user of a live session; [] for a missing, bad, expired or revoked token."""
        claims = self.tokens.decode(session)
        if claims is None:
            return []
        found = await Session.find_one(Session.id == claims["sid"])
        if found is None or found.user != claims["sub"] or found.expires <= datetime.now(UTC):
            return []
        return [{"user": found.user}]
