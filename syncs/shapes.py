"""The shapes routes share, as sync factories. Each makes plain syncs named after
the route (`python -m app syncs` prints them like any other).

A session-protected request is answered in exactly one of three ways: by its own
syncs when the session is live and acts for the right user, UNAUTHENTICATED when no
live session stands behind the token, FORBIDDEN when it names another user. And an
action's failure is passed on to the client as the response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.concepts import Requesting, Sessioning
from app.concepts.outputs import error
from app.engine import Frame, Sync, Var, sync
from app.protocol.codes import FORBIDDEN, UNAUTHENTICATED
from app.protocol.routes import Route


def unauthenticated(route: Route) -> Sync:
    """The sync that answers UNAUTHENTICATED to a request for `route` without a live session."""

    @sync(name=f"{route.name}Unauthenticated")
    def Unauthenticated(request, session):
        return Sync(
            when=[(Requesting.request, {"path": route.path, "session": session}, {"request": request})],
            where=lambda frames: frames.without(Sessioning._getUser, {"session": session}),
            then=[
                (
                    Requesting.respond,
                    {"request": request, **error(UNAUTHENTICATED, "A valid session is required.")},
                )
            ],
        )

    return Unauthenticated


def acts_for_self(user: Var, target: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """the request names no user, or the session's own"""
        return frame[target] is None or frame[target] == frame[user]

    return check


def acts_for_other(user: Var, target: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """the request names a user other than the session's"""
        return frame[target] is not None and frame[target] != frame[user]

    return check


def forbidden(route: Route) -> Sync:
    """The sync that answers FORBIDDEN when a live session acts on another user's account."""

    @sync(name=f"{route.name}Forbidden")
    def Forbidden(request, session, user, target):
        return Sync(
            when=[(Requesting.request, {"path": route.path, "session": session, "user": target}, {"request": request})],
            where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).filter(
                acts_for_other(user, target)
            ),
            then=[
                (
                    Requesting.respond,
                    {"request": request, **error(FORBIDDEN, "A session can only act on its own user.")},
                )
            ],
        )

    return Forbidden


def error_response(
    route: Route, action: Callable[..., Any], suffix: str = "ResponseError", inputs: Mapping[str, Any] | None = None
) -> Sync:
    """The sync that answers a request for `route` with the error `action` returned in
    its flow (named e.g. RegisterResponseError); `inputs` are literals the action's
    invocation must have had (which throttling kind, which gate)."""

    @sync(name=f"{route.name}{suffix}")
    def ResponseError(request, message, code):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (action, dict(inputs or {}), {"error": message, "code": code}),
            ],
            then=[(Requesting.respond, {"request": request, "error": message, "code": code})],
        )

    return ResponseError


def keeping(data: Var, **kept: Var) -> Callable[[Frame], Frame]:
    """A map step binding `data` to what a token or ticket keeps: these variables' values."""

    def keep(frame: Frame) -> Frame:
        """the token keeps what the flow needs when it comes back"""
        return {**frame, data: {key: frame[var] for key, var in kept.items()}}

    return keep


def kept(data: Var, **read: Var) -> Callable[[Frame], Frame]:
    """A map step reading what a token or ticket kept back into variables (None if absent)."""

    def take(frame: Frame) -> Frame:
        """read what the token kept"""
        return {**frame, **{var: frame[data].get(key) for key, var in read.items()}}

    return take
