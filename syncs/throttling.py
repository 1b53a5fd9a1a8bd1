"""Throttling: an attempt is counted before it is made, so no more than the limit are
ever made, however many arrive at once.

- Logins (`authenticate` and `/login`, kind "login"): one attempt for the username and
  one for the client address. While either is at its limit the login is answered
  RATE_LIMITED and the password is not checked. A success clears the username's count
  and takes back the address's attempt (in the window the attempt was counted in), so
  what is limited is failures.
- `changePassword` (kind "password"): one attempt for the session's user before the old
  password is checked; a success clears the count.
- `register` (kind "registration"): one attempt for the client address.

(The actions themselves wait for the attempt: see the *Request syncs in auth.py and
account.py.)
"""

from app.api.routes.access import AUTHENTICATE, LOGIN, REGISTER
from app.api.routes.account import CHANGE_PASSWORD
from app.concepts import Requesting, Sessioning, Throttling, UserAuthentication
from app.engine import Sync, sync
from app.protocol.routes import Route

from .shapes import acts_for_self, error_response


def rate_limited(route: Route, kind: str) -> Sync:
    """The sync that answers RATE_LIMITED to a request for `route` whose attempt was refused."""
    return error_response(route, Throttling.attempt, "Throttled", {"kind": kind})


# -- Logins ---------------------------------------------------------------------------


def login_attempts(route: Route) -> list[Sync]:
    """The syncs that count a login on `route`, refuse it at the limit, and clear the
    username's count when it succeeds."""

    @sync(name=f"{route.name}Attempt")
    def Attempt(request, username, client):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path, "username": username, "client": client}, {"request": request})
            ],
            then=[(Throttling.attempt, {"kind": "login", "key": username, "source": client})],
        )

    @sync(name=f"{route.name}Succeeded")
    def Succeeded(request, username, client, at, user):
        return Sync(
            when=[
                (
                    Requesting.request,
                    {"path": route.path, "username": username, "client": client},
                    {"request": request},
                ),
                (Throttling.attempt, {"kind": "login"}, {"at": at}),
                (UserAuthentication.authenticate, {}, {"user": user}),
            ],
            then=[(Throttling.succeed, {"kind": "login", "key": username, "at": at, "source": client})],
        )

    return [Attempt, rate_limited(route, "login"), Succeeded]


AuthenticateAttempts = login_attempts(AUTHENTICATE)
LoginAttempts = login_attempts(LOGIN)

# -- Password changes -------------------------------------------------------------------


@sync
def ChangePasswordAttempt(request, session, user, target):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": CHANGE_PASSWORD.path, "session": session, "user": target},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).filter(
            acts_for_self(user, target)
        ),
        then=[(Throttling.attempt, {"kind": "password", "key": user})],
    )


ChangePasswordThrottled = rate_limited(CHANGE_PASSWORD, "password")


@sync
def ChangePasswordSucceeded(request, at, user):
    return Sync(
        when=[
            (Requesting.request, {"path": CHANGE_PASSWORD.path}, {"request": request}),
            (Throttling.attempt, {"kind": "password"}, {"at": at}),
            (UserAuthentication.changePassword, {}, {"user": user}),
        ],
        then=[(Throttling.succeed, {"kind": "password", "key": user, "at": at})],
    )


# -- Registrations ----------------------------------------------------------------------


@sync
def RegisterAttempt(request, client):
    return Sync(
        when=[(Requesting.request, {"path": REGISTER.path, "client": client}, {"request": request})],
        then=[(Throttling.attempt, {"kind": "registration", "key": client})],
    )


RegisterThrottled = rate_limited(REGISTER, "registration")
