"""`me`: the session's user, or nobody. Never an error: no valid session answers null,
and neither does a session whose user is gone (while its deletion revokes it)."""

from app.concepts import Requesting, Sessioning, UserAuthentication
from app.engine import Sync, sync
from app.protocol.routes import SESSION, Route

ME = Route("/me", SESSION, graphql="Query.me")


@sync
def MeRequest(request, session, user, username):
    return Sync(
        when=[(Requesting.request, {"path": ME.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            UserAuthentication._getUsername, {"user": user}, {"username": username}
        ),
        then=[(Requesting.respond, {"request": request, "user": user, "username": username})],
    )


@sync
def MeAnonymous(request, session):
    return Sync(
        when=[(Requesting.request, {"path": ME.path, "session": session}, {"request": request})],
        where=lambda frames: frames.without(Sessioning._getUser, {"session": session}),
        then=[(Requesting.respond, {"request": request, "user": None})],
    )


@sync
def MeUserGone(request, session, user):
    return Sync(
        when=[(Requesting.request, {"path": ME.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).without(
            UserAuthentication._getUsername, {"user": user}
        ),
        then=[(Requesting.respond, {"request": request, "user": None})],
    )
