"""The password asked again of a signed-in user before a change of how they sign in
(adding a passkey, setting the email address recovery goes to, setting up or turning
off an authenticator app): a stolen session must not be enough.

The attempt is counted against the user before the password is checked (kind
"password", the count changePassword's old password uses), a wrong one is answered
`INVALID_CREDENTIALS`, and a right one clears the count. The route's own syncs go on
from `UserAuthentication.authenticate`'s success.
"""

from collections.abc import Callable

from app.concepts import Requesting, Sessioning, Throttling, UserAuthentication
from app.concepts.outputs import INVALID_CREDENTIALS, error
from app.engine import Plan, Sync, sync
from app.protocol.routes import Route

from .shapes import unauthenticated
from .throttling import rate_limited

WRONG_PASSWORD = error(INVALID_CREDENTIALS, "The password is not correct.")


def password_again(route: Route, *, only: Callable[[Plan], Plan] | None = None) -> list[Sync]:
    """The syncs that take `route`'s `password` to `UserAuthentication.authenticate` for
    the session's user; `only` narrows the requests counted (e.g. while mail is on)."""

    @sync(name=f"{route.name}Attempt")
    def Attempt(request, session, user):
        def users(frames: Plan) -> Plan:
            found = frames.query(Sessioning._getUser, {"session": session}, {"user": user})
            return only(found) if only is not None else found

        return Sync(
            when=[(Requesting.request, {"path": route.path, "session": session}, {"request": request})],
            where=users,
            then=[(Throttling.attempt, {"kind": "password", "key": user})],
        )

    @sync(name=f"{route.name}ChecksPassword")
    def ChecksPassword(request, password, user, username, at):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path, "password": password}, {"request": request}),
                (Throttling.attempt, {"kind": "password", "key": user}, {"at": at}),
            ],
            # A user gone meanwhile has no username: the check fails, as for a wrong password.
            where=lambda frames: frames.query(
                UserAuthentication._getUsernameById, {"user": user}, {"username": username}, default={"username": None}
            ),
            then=[(UserAuthentication.authenticate, {"username": username, "password": password})],
        )

    @sync(name=f"{route.name}WrongPassword")
    def WrongPassword(request, message):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (UserAuthentication.authenticate, {}, {"error": message}),
            ],
            then=[(Requesting.respond, {"request": request, **WRONG_PASSWORD})],
        )

    @sync(name=f"{route.name}PasswordRight")
    def PasswordRight(request, user, at):
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (Throttling.attempt, {"kind": "password", "key": user}, {"at": at}),
                (UserAuthentication.authenticate, {}, {"user": user}),
            ],
            then=[(Throttling.succeed, {"kind": "password", "key": user, "at": at})],
        )

    throttled = rate_limited(route, "password")
    return [Attempt, unauthenticated(route), throttled, ChecksPassword, WrongPassword, PasswordRight]
