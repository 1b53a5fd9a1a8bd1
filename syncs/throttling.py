"""Throttling: an attempt is counted before it is made, so no more than the limit are
ever made, however many arrive at once.

- Logins (`authenticate` and `/login`, kind "login"): one attempt for the username and
  one for the client address. While either is at its limit the login is answered
  RATE_LIMITED and the password is not checked. A success clears the username's count
  and takes back the address's attempt, so what is limited is failures.
- `changePassword` (kind "password"): one attempt for the session's user before the old
  password is checked; a success clears the count.
- `register` (kind "registration"): one attempt for the client address.

(The actions themselves wait for the attempt: see the *Request syncs in auth.py and
account.py.)
"""

from app.concepts import Requesting, Sessioning, Throttling, UserAuthentication
from app.engine import Sync, sync

from .sessions import acts_for_self


def rate_limited(path: str, kind: str, name: str) -> Sync:
    """The sync that answers RATE_LIMITED to a request for `path` whose attempt was refused."""

    @sync(name=name)
    def Throttled(request, error, code):
        return Sync(
            when=[
                (Requesting.request, {"path": path}, {"request": request}),
                (Throttling.attempt, {"kind": kind}, {"error": error, "code": code}),
            ],
            then=[(Requesting.respond, {"request": request, "error": error, "code": code})],
        )

    return Throttled  # type: ignore[no-any-return]


# -- Logins ---------------------------------------------------------------------------


def login_attempts(path: str, name: str) -> list[Sync]:
    """The syncs that count a login on `path`, refuse it at the limit, and clear the
    username's count when it succeeds."""

    @sync(name=f"{name}Attempt")
    def Attempt(request, username, client):
        return Sync(
            when=[(Requesting.request, {"path": path, "username": username, "client": client}, {"request": request})],
            then=[(Throttling.attempt, {"kind": "login", "key": username, "source": client})],
        )

    @sync(name=f"{name}Succeeded")
    def Succeeded(request, username, client, user):
        return Sync(
            when=[
                (Requesting.request, {"path": path, "username": username, "client": client}, {"request": request}),
                (UserAuthentication.authenticate, {}, {"user": user}),
            ],
            then=[(Throttling.succeed, {"kind": "login", "key": username, "source": client})],
        )

    return [Attempt, rate_limited(path, "login", f"{name}Throttled"), Succeeded]


AuthenticateAttempts = login_attempts("/UserAuthentication/authenticate", "Authenticate")
LoginAttempts = login_attempts("/login", "Login")

# -- Password changes -------------------------------------------------------------------


@sync
def ChangePasswordAttempt(request, session, user, target):
    return Sync(
        when=[
            (
                Requesting.request,
                {"path": "/UserAuthentication/changePassword", "session": session, "user": target},
                {"request": request},
            )
        ],
        where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}).filter(
            acts_for_self(user, target)
        ),
        then=[(Throttling.attempt, {"kind": "password", "key": user})],
    )


ChangePasswordThrottled = rate_limited("/UserAuthentication/changePassword", "password", "ChangePasswordThrottled")


@sync
def ChangePasswordSucceeded(request, user):
    return Sync(
        when=[
            (Requesting.request, {"path": "/UserAuthentication/changePassword"}, {"request": request}),
            (UserAuthentication.changePassword, {}, {"user": user}),
        ],
        then=[(Throttling.succeed, {"kind": "password", "key": user})],
    )


# -- Registrations ----------------------------------------------------------------------


@sync
def RegisterAttempt(request, client):
    return Sync(
        when=[(Requesting.request, {"path": "/UserAuthentication/register", "client": client}, {"request": request})],
        then=[(Throttling.attempt, {"kind": "registration", "key": client})],
    )


RegisterThrottled = rate_limited("/UserAuthentication/register", "registration", "RegisterThrottled")
