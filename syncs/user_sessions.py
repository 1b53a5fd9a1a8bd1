"""Sessions a user can see and control: list them, end one, end all of them (or all
but the current one).

A session's public `id` is its handle, never its token. Revoking an id that is not
one of the caller's live sessions, another user's included, is SESSION_NOT_FOUND,
the same either way. Every authenticated request marks its session as used, at most
once a minute, so a busy session costs one write a minute.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from app.concepts import Requesting, Sessioning
from app.engine import Frame, Sync, Var, sync

from .sessions import unauthenticated

# -- Last use ---------------------------------------------------------------------------


def used_over_a_minute_ago(last_used: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """the session was last marked used a minute ago or more"""
        return bool(frame[last_used] <= datetime.now(UTC) - Sessioning.TOUCH_EVERY)

    return check


@sync
def SessionUsed(request, session, last_used):
    return Sync(
        when=[(Requesting.request, {"session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"lastUsedAt": last_used}).filter(
            used_over_a_minute_ago(last_used)
        ),
        then=[(Sessioning.touch, {"session": session})],
    )


# -- List -------------------------------------------------------------------------------


def marking_current(results: Var, current: Var) -> Callable[[Frame], Frame]:
    def mark(frame: Frame) -> Frame:
        """each session is `current` when it is the one making the request"""
        return {**frame, results: [{**row, "current": row["id"] == frame[current]} for row in frame[results]]}

    return mark


@sync
def ListSessionsRequest(
    request, session, user, current, id, createdAt, expiresAt, lastUsedAt, client, userAgent, results
):
    return Sync(
        when=[(Requesting.request, {"path": "/Sessioning/_getSessions", "session": session}, {"request": request})],
        where=lambda frames: (
            frames.query(Sessioning._getUser, {"session": session}, {"user": user, "id": current})
            .query(
                Sessioning._getSessions,
                {"user": user},
                {
                    "id": id,
                    "createdAt": createdAt,
                    "expiresAt": expiresAt,
                    "lastUsedAt": lastUsedAt,
                    "client": client,
                    "userAgent": userAgent,
                },
                into=results,
            )
            .map(marking_current(results, current))
        ),
        then=[(Requesting.respond, {"request": request, "results": results})],
    )


ListSessionsUnauthenticated = unauthenticated("/Sessioning/_getSessions", "ListSessionsUnauthenticated")

# -- Revoke one -------------------------------------------------------------------------


@sync
def RevokeSessionRequest(request, session, user, id):
    return Sync(
        when=[(Requesting.request, {"path": "/Sessioning/revoke", "session": session, "id": id}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Sessioning.revoke, {"user": user, "id": id})],
    )


RevokeSessionUnauthenticated = unauthenticated("/Sessioning/revoke", "RevokeSessionUnauthenticated")


@sync
def RevokeSessionResponse(request, id):
    return Sync(
        when=[
            (Requesting.request, {"path": "/Sessioning/revoke"}, {"request": request}),
            (Sessioning.revoke, {}, {"id": id}),
        ],
        then=[(Requesting.respond, {"request": request, "id": id})],
    )


@sync
def RevokeSessionResponseError(request, error, code):
    return Sync(
        when=[
            (Requesting.request, {"path": "/Sessioning/revoke"}, {"request": request}),
            (Sessioning.revoke, {}, {"error": error, "code": code}),
        ],
        then=[(Requesting.respond, {"request": request, "error": error, "code": code})],
    )


# -- Revoke all (logout everywhere) -------------------------------------------------------


@sync
def LogoutEverywhereRequest(request, session, user):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": "/Sessioning/revokeAll", "session": session, "keepCurrent": False},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Sessioning.deleteByUser, {"user": user})],
    )


@sync
def LogoutEverywhereElseRequest(request, session, user):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": "/Sessioning/revokeAll", "session": session, "keepCurrent": True},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Sessioning.deleteByUser, {"user": user, "keep": session})],
    )


LogoutEverywhereUnauthenticated = unauthenticated("/Sessioning/revokeAll", "LogoutEverywhereUnauthenticated")


@sync
def LogoutEverywhereResponse(request, count):
    return Sync(
        when=[
            (Requesting.request, {"path": "/Sessioning/revokeAll"}, {"request": request}),
            (Sessioning.deleteByUser, {}, {"count": count}),
        ],
        then=[(Requesting.respond, {"request": request, "revoked": count})],
    )


@sync
def LogoutEverywhereResponseError(request, error, code):
    return Sync(
        when=[
            (Requesting.request, {"path": "/Sessioning/revokeAll"}, {"request": request}),
            (Sessioning.deleteByUser, {}, {"error": error, "code": code}),
        ],
        then=[(Requesting.respond, {"request": request, "error": error, "code": code})],
    )
