"""Sessions a user can see and control: list them, end one, end all of them (or all
but the current one).

A session's public `id` is its handle, never its token. Revoking an id that is not
one of the caller's live sessions, another user's included, is SESSION_NOT_FOUND,
the same either way. Every authenticated request marks its session as used, at most
once a minute, so a busy session costs one write a minute.
"""

from collections.abc import Callable

from app.api.routes.sessions import LIST_SESSIONS, LOGOUT_EVERYWHERE, REVOKE_SESSION
from app.concepts import Requesting, Sessioning
from app.engine import Frame, Sync, Var, sync

from .shapes import error_response, unauthenticated

# -- Last use ---------------------------------------------------------------------------


@sync
def SessionUsed(request, session):
    return Sync(
        when=[(Requesting.request, {"session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"touchDue": True}),
        then=[(Sessioning.touch, {"session": session})],
    )


# -- List -------------------------------------------------------------------------------


def marking_current(results: Var, current: Var) -> Callable[[Frame], Frame]:
    def mark(frame: Frame) -> Frame:
        """each session is `current` when it is the one making the request"""
        return {**frame, results: [{**row, "current": row["id"] == frame[current]} for row in frame[results]]}

    return mark


@sync
def ListSessionsRequest(request, session, user, current, results):
    return Sync(
        when=[(Requesting.request, {"path": LIST_SESSIONS.path, "session": session}, {"request": request})],
        where=lambda frames: (
            frames.query(Sessioning._getUser, {"session": session}, {"user": user, "id": current})
            .query(Sessioning._getSessions, {"user": user}, into=results)
            .map(marking_current(results, current))
        ),
        then=[(Requesting.respond, {"request": request, "results": results})],
    )


ListSessionsUnauthenticated = unauthenticated(LIST_SESSIONS)

# -- Revoke one -------------------------------------------------------------------------


@sync
def RevokeSessionRequest(request, session, user, id):
    return Sync(
        when=[(Requesting.request, {"path": REVOKE_SESSION.path, "session": session, "id": id}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Sessioning.revoke, {"user": user, "id": id})],
    )


RevokeSessionUnauthenticated = unauthenticated(REVOKE_SESSION)


@sync
def RevokeSessionResponse(request, id):
    return Sync(
        when=[
            (Requesting.request, {"path": REVOKE_SESSION.path}, {"request": request}),
            (Sessioning.revoke, {}, {"id": id}),
        ],
        then=[(Requesting.respond, {"request": request, "id": id})],
    )


RevokeSessionResponseError = error_response(REVOKE_SESSION, Sessioning.revoke)


# -- Revoke all (logout everywhere) -------------------------------------------------------


@sync
def LogoutEverywhereRequest(request, session, user):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": LOGOUT_EVERYWHERE.path, "session": session, "keepCurrent": False},
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
                {"path": LOGOUT_EVERYWHERE.path, "session": session, "keepCurrent": True},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Sessioning.deleteByUser, {"user": user, "keep": session})],
    )


LogoutEverywhereUnauthenticated = unauthenticated(LOGOUT_EVERYWHERE)


@sync
def LogoutEverywhereResponse(request, count):
    return Sync(
        when=[
            (Requesting.request, {"path": LOGOUT_EVERYWHERE.path}, {"request": request}),
            (Sessioning.deleteByUser, {}, {"count": count}),
        ],
        then=[(Requesting.respond, {"request": request, "revoked": count})],
    )


LogoutEverywhereResponseError = error_response(LOGOUT_EVERYWHERE, Sessioning.deleteByUser)
