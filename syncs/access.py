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

from .shapes import error_response, unauthenticated

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


@sync
def RegisterCreatesSession(user, client, user_agent):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": REGISTER.path, "client": client, "userAgent": user_agent},
                {},
            ),
            (UserAuthentication.register, {}, {"user": user}),
        ],
        then=[(Sessioning.create, {"user": user, "client": client, "userAgent": user_agent})],
    )


@sync
def RegisterResponse(request, user, version, username, session, expires_at):
    return Sync(
        when=[
            (Requesting.request, {"path": REGISTER.path}, {"request": request}),
            (UserAuthentication.register, {}, {"user": user, "version": version}),
            (Sessioning.create, {"user": user}, {"session": session, "expiresAt": expires_at}),
        ],
        where=lambda frames: frames.query(
            UserAuthentication._getCredentials, {"user": user}, {"username": username, "version": version}
        ),
        then=[
            (
                Requesting.respond,
                {"request": request, "user": user, "username": username, "session": session, "expiresAt": expires_at},
            )
        ],
    )


RegisterResponseError = error_response(REGISTER, UserAuthentication.register)
RegisterSessionError = error_response(REGISTER, Sessioning.create, "SessionError")


# -- Authentication -------------------------------------------------------------


@sync
def AuthenticateRequest(request, username, password, at):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": AUTHENTICATE.path, "username": username, "password": password},
                {"request": request},
            ),
            (Throttling.attempt, {"kind": "login"}, {"at": at}),
        ],
        then=[(UserAuthentication.authenticate, {"username": username, "password": password})],
    )


@sync
def AuthenticateCreatesSession(user, client, user_agent):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": AUTHENTICATE.path, "client": client, "userAgent": user_agent},
                {},
            ),
            (UserAuthentication.authenticate, {}, {"user": user}),
        ],
        then=[(Sessioning.create, {"user": user, "client": client, "userAgent": user_agent})],
    )


@sync
def AuthenticateResponse(request, user, version, username, session, expires_at):
    return Sync(
        when=[
            (Requesting.request, {"path": AUTHENTICATE.path}, {"request": request}),
            (UserAuthentication.authenticate, {}, {"user": user, "version": version}),
            (Sessioning.create, {"user": user}, {"session": session, "expiresAt": expires_at}),
        ],
        where=lambda frames: frames.query(
            UserAuthentication._getCredentials, {"user": user}, {"username": username, "version": version}
        ),
        then=[
            (
                Requesting.respond,
                {"request": request, "user": user, "username": username, "session": session, "expiresAt": expires_at},
            )
        ],
    )


AuthenticateResponseError = error_response(AUTHENTICATE, UserAuthentication.authenticate)
AuthenticateSessionError = error_response(AUTHENTICATE, Sessioning.create, "SessionError")


# -- Login (authenticate's alias) --------------------------------------------------


@sync
def LoginRequest(request, username, password, at):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": LOGIN.path, "username": username, "password": password},
                {"request": request},
            ),
            (Throttling.attempt, {"kind": "login"}, {"at": at}),
        ],
        then=[(UserAuthentication.authenticate, {"username": username, "password": password})],
    )


@sync
def LoginCreatesSession(user, client, user_agent):
    return Sync(
        when=[
            (Requesting.request, {"path": LOGIN.path, "client": client, "userAgent": user_agent}, {}),
            (UserAuthentication.authenticate, {}, {"user": user}),
        ],
        then=[(Sessioning.create, {"user": user, "client": client, "userAgent": user_agent})],
    )


@sync
def LoginResponse(request, user, version, session, expires_at):
    return Sync(
        when=[
            (Requesting.request, {"path": LOGIN.path}, {"request": request}),
            (UserAuthentication.authenticate, {}, {"user": user, "version": version}),
            (Sessioning.create, {"user": user}, {"session": session, "expiresAt": expires_at}),
        ],
        where=lambda frames: frames.query(UserAuthentication._getCredentials, {"user": user}, {"version": version}),
        then=[(Requesting.respond, {"request": request, "session": session, "expiresAt": expires_at})],
    )


LoginResponseError = error_response(LOGIN, UserAuthentication.authenticate)
LoginSessionError = error_response(LOGIN, Sessioning.create, "SessionError")


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
