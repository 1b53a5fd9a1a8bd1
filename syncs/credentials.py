"""Sessions never outlive the credentials they were made with.

Changing the password or deleting the account is staged first, which holds the
credentials, then revokes the user's sessions, then completes (account.py). A login
that overlaps the change could still create its session after that revocation, with a
password checked before the change. So every new session is checked once it exists,
against the credentials as they are now: if they are no longer the version the login
matched, or a change of them is staged (they report no version then), or the user is
gone, the session is deleted and never handed out, and the login is answered
INVALID_CREDENTIALS.

Either the check came after the change was staged, and sees it (staged or completed),
or the check (and so the session's creation) came before the change was staged, and
the revocation that precedes the completion removes it.
"""

from collections.abc import Callable
from typing import Any

from app.concepts import Requesting, Sessioning, UserAuthentication
from app.concepts.outputs import INVALID_CREDENTIALS, error
from app.engine import Frame, Sync, Var, sync
from app.protocol.routes import Route

INVALID_CREDENTIALS_ERROR = error(INVALID_CREDENTIALS, "Invalid username or password.")


def outdated(version: Var, current: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """the credentials are no longer the version the session was made with (or are gone)"""
        return bool(frame[current] != frame[version])

    return check


def stale_session(route: Route, action: Callable[..., Any], *, versioned: bool = True) -> Sync:
    """The sync that takes back a session `action` led to on `route` when its credentials
    changed meanwhile (or, for an action that names no `version`, when its user is gone)."""

    @sync(name=f"{route.name}StaleSession")
    def StaleSession(request, user, version, session, current):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (action, {}, {"user": user, "version": version}),
                (Sessioning.create, {"user": user}, {"session": session}),
            ],
            where=lambda frames: frames.query(
                UserAuthentication._getCredentials, {"user": user}, {"version": current}, default={"version": None}
            ).filter(outdated(version, current)),
            then=[
                (Sessioning.delete, {"session": session}),
                (Requesting.respond, {"request": request, **INVALID_CREDENTIALS_ERROR}),
            ],
        )

    @sync(name=f"{route.name}StaleSession")
    def UserGone(request, user, session):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (action, {}, {"user": user}),
                (Sessioning.create, {"user": user}, {"session": session}),
            ],
            where=lambda frames: frames.without(UserAuthentication._getCredentials, {"user": user}),
            then=[
                (Sessioning.delete, {"session": session}),
                (Requesting.respond, {"request": request, **INVALID_CREDENTIALS_ERROR}),
            ],
        )

    return StaleSession if versioned else UserGone
