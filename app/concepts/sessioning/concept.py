"""concept Sessioning

purpose: let a user stay authenticated across requests, until they log out or the
session expires, and let them see and end their sessions.
state: a set of Sessions, each with a user, a public handle, a creation time, an
expiry time, the time it was last used, and the client address and User-Agent it
was created from.
A session travels as a signed token (JWT) that names it; only this concept knows that.
The handle is random and unrelated to the token, so showing it reveals nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, NamedTuple, TypedDict

from beanie import SortDirection

from app.database import cheap
from app.database.cache import Cache
from app.engine import Secret
from app.protocol.codes import UNAUTHENTICATED, declare

from ..outputs import SESSION_NOT_FOUND, Error, error
from .documents import Session
from .tokens import TokenCodec

INVALID_USER = declare(
    "INVALID_USER",
    status=500,
    request_level=True,
    description="Never, unless a sync asks for a session or passkey of no user (a bug of the server's, not the "
    "client's).",
)

USER_AGENT_LENGTH = 256
DEFAULT_METHOD = "password"
"""The method of a session made before sessions recorded theirs: all were by password then."""
LISTED = 1000


class SessionOut(TypedDict):
    session: Secret
    expiresAt: datetime


class DeletedOut(TypedDict):
    session: Secret


class RevokedOut(TypedDict):
    user: str
    count: int


class RevokedOneOut(TypedDict):
    id: str


class TouchedOut(TypedDict):
    touched: bool


class UserRow(TypedDict):
    user: str
    id: str | None
    lastUsedAt: datetime
    touchDue: bool
    """It is time to `touch` it: it was last marked used TOUCH_EVERY ago or more."""


class Cached(NamedTuple):
    """What `_getUser` needs of a session, as the session cache keeps it."""

    user: str
    handle: str | None
    expires: datetime
    last_used: datetime


class SessionRow(TypedDict):
    id: str
    createdAt: datetime
    expiresAt: datetime
    lastUsedAt: datetime
    client: str | None
    userAgent: str | None
    method: str
    """How it was made: what its sign-in proved (app.protocol.gates: `password`,
    `password+totp`, `password+recovery`, `passkey`); `password` for sessions made
    before sessions recorded it."""


def utc_now() -> datetime:
    """The current time, to the second (what the database and the tokens keep)."""
    return datetime.now(UTC).replace(microsecond=0)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


_LEAST_RECENT_LAST = [("last_used", -1), ("created", -1), ("_id", -1)]
"""The order sessions are kept in when a user has too many: one total order, so every trim agrees."""

_USER_ROW = dict.fromkeys(("user", "handle", "expires", "last_used", "created"), 1)
"""What `_getUser` reads of a session: on every protected request, straight from the
driver, as a parsed Beanie model would cost more than the read."""


class Sessioning:
    """Creates, resolves, lists and revokes sessions."""

    TOUCH_EVERY = timedelta(minutes=1)
    """`lastUsedAt` moves at most this often: a busy session costs one write per interval."""

    def __init__(
        self,
        tokens: TokenCodec,
        ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
        *,
        per_user: int = 100,
        cache: Cache[str, Cached] | None = None,
    ) -> None:
        self.tokens = tokens
        self.ttl = ttl
        self.clock = clock
        self.per_user = per_user
        """Live sessions a user may have: a new one beyond ends the least recently used."""
        self.cache = cache
        """The sessions `_getUser` found lately, by id (app.database.cache): one revoked or
        touched is discarded here when it is, and by the change feed when it is elsewhere."""

    def _forget(self, *ids: str) -> None:
        """Sessions this process just changed or deleted are read again (a deleted one
        refused) at once, before the response, not when the change feed brings the change."""
        if self.cache is not None:
            for id in ids:
                self.cache.discard(id)

    async def create(
        self, user: str, client: str | None = None, userAgent: str | None = None, method: str | None = None
    ) -> SessionOut | Annotated[Error, INVALID_USER]:
        """effects: starts a session for the user, expiring after the configured TTL,
        noting where it was created from (the User-Agent cut to 256 characters) and how
        (`method`: what the sign-in proved, e.g. `password+totp`); if the
        user then has more than `per_user` sessions, ends the least recently used ones."""
        if not isinstance(user, str) or not user:
            return error(INVALID_USER, "A session needs a user.")
        now = self.clock()
        agent = _text(userAgent)
        session = Session(
            id=secrets.token_urlsafe(18),
            handle=secrets.token_urlsafe(12),
            user=user,
            created=now,
            expires=now + self.ttl,
            last_used=now,
            client=_text(client),
            user_agent=agent[:USER_AGENT_LENGTH] if agent else None,
            method=_text(method),
        )
        await session.insert()
        await self._keep_most_recent(user)
        token = self.tokens.encode(session.id, user, now, session.expires)
        return {"session": token, "expiresAt": session.expires}

    async def _keep_most_recent(self, user: str) -> None:
        """Delete all but the user's `per_user` most recently used sessions (ties: the most
        recently created). Not check-then-act: each create, after its insert, deletes what
        ranks beyond the limit in what it reads, by one fixed order, so whatever the
        interleaving of concurrent creates, once they are done at most `per_user` remain,
        and they are the most recently used (a trim that read less than all deletes only
        what would rank beyond the limit among all too)."""
        collection = Session.get_pymongo_collection()
        # Usually nothing to do: the (user, created) index says so without reading sessions.
        if await collection.find_one({"user": user}, {"_id": 1}, sort=[("created", -1)], skip=self.per_user) is None:
            return
        ranked = collection.find({"user": user}, {"_id": 1}, sort=_LEAST_RECENT_LAST, skip=self.per_user)
        beyond = [found["_id"] async for found in ranked]
        if beyond:
            await collection.delete_many({"_id": {"$in": beyond}})
            self._forget(*beyond)

    async def touch(self, session: Secret) -> TouchedOut:
        """effects: records that the session was used now, unless that was recorded less
        than a minute ago. One atomic update of the session found by its id, so
        concurrent touches write at most once a minute; written cheaply (not durable
        before acknowledged): a crash may set `lastUsedAt` back a little."""
        claims = self.tokens.decode(session, self.clock())
        if claims is None:
            return {"touched": False}
        now, id = self.clock(), claims["sid"]
        stale = {"$lte": [{"$ifNull": ["$last_used", None]}, now - self.TOUCH_EVERY]}
        collection = Session.get_pymongo_collection()
        result = await cheap(collection).update_one(
            {"_id": id}, [{"$set": {"last_used": {"$cond": [stale, now, "$last_used"]}}}]
        )
        touched = result.modified_count == 1
        if touched:
            self._forget(id)
        return {"touched": touched}

    async def delete(self, session: Secret) -> DeletedOut | Annotated[Error, UNAUTHENTICATED]:
        """requires: the session is live.  effects: ends it."""
        claims = self.tokens.decode(session, self.clock())
        deleted = await Session.find_one(Session.id == claims["sid"]).delete() if claims else None
        if deleted is None or deleted.deleted_count == 0:
            return error(UNAUTHENTICATED, "No such session.")
        self._forget(claims["sid"])  # type: ignore[index]
        return {"session": session}

    async def revoke(self, user: str, id: str) -> RevokedOneOut | Annotated[Error, SESSION_NOT_FOUND]:
        """requires: `id` is the handle of one of the user's live sessions.  effects: ends it.
        Another user's session is not found, exactly like one that does not exist."""
        mine = isinstance(user, str) and isinstance(id, str)
        found = await Session.find_one({"user": user, "handle": id}) if mine else None
        if found is None or found.expires <= self.clock():
            return error(SESSION_NOT_FOUND, "No such session.")
        # A session's user and expiry never change, so only the delete can race: it is
        # one atomic delete by id, and of concurrent revokes exactly one deletes.
        deleted = await Session.get_pymongo_collection().delete_one({"_id": found.id})
        self._forget(found.id)
        if deleted.deleted_count == 0:
            return error(SESSION_NOT_FOUND, "No such session.")
        return {"id": id}

    async def deleteByUser(self, user: str, keep: Secret | None = None) -> RevokedOut | Annotated[Error, INVALID_USER]:
        """effects: ends every session of the user, but the one `keep` names (if any)."""
        if not isinstance(user, str):
            return error(INVALID_USER, "Sessions are revoked for a user.")
        kept = self.tokens.decode(keep, self.clock()) if keep is not None else None
        criteria: dict[str, object] = {"user": user}
        if kept is not None:
            criteria["_id"] = {"$ne": kept["sid"]}
        result = await Session.find_many(criteria).delete()
        if self.cache is not None:
            self.cache.discard_where(lambda cached: cached.user == user)  # the kept one is read again
        return {"user": user, "count": result.deleted_count if result else 0}

    async def _getUser(self, session: Secret) -> list[UserRow]:
        """The user of a live session, its handle, when it was last used and whether it is
        due to be marked used again; [] for a missing, bad, expired or revoked token."""
        now = self.clock()
        claims = self.tokens.decode(session, now)
        if claims is None:
            return []
        id, cache = claims["sid"], self.cache
        cached = await cache.get(id) if cache is not None else None
        if cached is None:
            mark = cache.mark if cache is not None else 0
            found = await Session.get_pymongo_collection().find_one({"_id": id}, _USER_ROW)
            if found is None:
                return []
            last_used = found.get("last_used") or found["created"]
            cached = Cached(found["user"], found.get("handle"), found["expires"], last_used)
            if cache is not None:
                cache.offer(id, cached, mark)
        if cached.user != claims["sub"] or cached.expires <= now:
            return []
        return [
            {
                "user": cached.user,
                "id": cached.handle,
                "lastUsedAt": cached.last_used,
                "touchDue": cached.last_used <= now - self.TOUCH_EVERY,
            }
        ]

    async def _getSessions(self, user: str) -> list[SessionRow]:
        """The user's live sessions, newest first (at most 1000)."""
        if not isinstance(user, str):
            return []
        now = self.clock()
        found = Session.find({"user": user}).sort([("created", SortDirection.DESCENDING)]).limit(LISTED)
        return [
            {
                "id": session.handle,
                "createdAt": session.created,
                "expiresAt": session.expires,
                "lastUsedAt": session.last_used or session.created,
                "client": session.client,
                "userAgent": session.user_agent,
                "method": session.method or DEFAULT_METHOD,
            }
            async for session in found
            if session.handle is not None and session.expires > now
        ]
