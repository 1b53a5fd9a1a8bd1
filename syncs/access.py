"""Getting in and out: register, authenticate (and /login, the TypeScript version's
alias), log out, and who the session's user is.

Registering or authenticating creates a session; the response carries the user, the
session token and its expiry, once the session is known to stand on the current
credentials (see credentials.py). Logging out deletes the session. `me` is never an
error: no valid session answers null, and neither does a session whose user is gone
(while its deletion revokes it).
"""

from app.api.routes.access import AUTHENTICATE, LOGIN, LOGOUT, ME, REGISTER
from app.concepts import Requesting, Sessioning, Throttling, UserAuthentication
from app.engine import Sync, sync
from app.protocol.routes import Route

from .shapes import error_response, unauthenticated
from .signing_in import signs_in

# -- Registration -------------------------------------------------------------


@sync
def RegisterRequest(request, username, password, at):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": REGISTER.path, "username": username, "password": password},
                {"request": request},
            ),
            (Throttling.attempt, {"kind": "registration"}, {"at": at}),
        ],
        then=[(UserAuthentication.register, {"username": username, "password": password})],
    )


RegisterSignsIn = signs_in(REGISTER, UserAuthentication.register)


# -- Authentication, and /login (the same, answering only the session) --------------


def password_sign_in(route: Route) -> list[Sync]:
    """The password is checked once its attempt is counted (throttling.py); a match signs in."""

    @sync(name=f"{route.name}Request")
    def Request(request, username, password, at):
        return Sync(
            when=[
                (
                    Requesting.request,
                    {"path": route.path, "username": username, "password": password},
                    {"request": request},
                ),
                (Throttling.attempt, {"kind": "login"}, {"at": at}),
            ],
            then=[(UserAuthentication.authenticate, {"username": username, "password": password})],
        )

    return [Request, *signs_in(route, UserAuthentication.authenticate)]


AuthenticateSignsIn = password_sign_in(AUTHENTICATE)
LoginSignsIn = password_sign_in(LOGIN)


# -- Logout -------------------------------------------------------------------------


@sync
def LogoutRequest(request, session, user):
    return Sync(
        when=[(Requesting.request, {"path": LOGOUT.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
        then=[(Sessioning.delete, {"session": session})],
    )


LogoutUnauthenticated = unauthenticated(LOGOUT)


@sync
def LogoutResponse(request, session):
    return Sync(
        when=[
            (Requesting.request, {"path": LOGOUT.path}, {"request": request}),
            (Sessioning.delete, {}, {"session": session}),
        ],
        then=[(Requesting.respond, {"request": request, "status": "logged_out"})],
    )


LogoutResponseError = error_response(LOGOUT, Sessioning.delete)


# -- Me -----------------------------------------------------------------------------


@sync
def MeRequest(request, session, user, username):
    return Sync(
        when=[(Requesting.request, {"path": ME.path, "session": session}, {"request": request})],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).query(
            UserAuthentication._getUsernameById, {"user": user}, {"username": username}
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
            UserAuthentication._getUsernameById, {"user": user}
        ),
        then=[(Requesting.respond, {"request": request, "user": None})],
    )
