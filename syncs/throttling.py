"""Login throttling: failed logins are counted per username and per client address;
once either reaches its limit within the window, further attempts are answered
RATE_LIMITED without checking the password, until the window passes. A successful
login clears the username's count.

(Authenticating itself waits for `not_throttled`: see AuthenticateRequest and
LoginRequest in auth.py.)
"""

from app.concepts import Requesting, Throttling, UserAuthentication
from app.engine import Frames, Sync, Var, sync

RATE_LIMITED = {"error": "Too many failed attempts; try again later.", "code": "RATE_LIMITED"}


def not_throttled(frames: Frames, username: Var, client: Var) -> Frames:
    """The frames whose username and client address may still try to log in."""
    return frames.without(Throttling._blocked, {"kind": "username", "key": username}).without(
        Throttling._blocked, {"kind": "address", "key": client}
    )


def throttled(path: str, name: str) -> list[Sync]:
    """The syncs that answer RATE_LIMITED to a login on `path` while its username, or
    else its address, is blocked."""

    @sync(name=f"{name}ThrottledByUsername")
    def ThrottledByUsername(request, username, until):
        return Sync(
            when=[(Requesting.request, {"path": path, "username": username}, {"request": request})],
            where=lambda frames: frames.query(
                Throttling._blocked, {"kind": "username", "key": username}, {"until": until}
            ),
            then=[(Requesting.respond, {"request": request, **RATE_LIMITED})],
        )

    @sync(name=f"{name}ThrottledByAddress")
    def ThrottledByAddress(request, username, client, until):
        return Sync(
            when=[(Requesting.request, {"path": path, "username": username, "client": client}, {"request": request})],
            where=lambda frames: frames.without(Throttling._blocked, {"kind": "username", "key": username}).query(
                Throttling._blocked, {"kind": "address", "key": client}, {"until": until}
            ),
            then=[(Requesting.respond, {"request": request, **RATE_LIMITED})],
        )

    return [ThrottledByUsername, ThrottledByAddress]


def counted(path: str, name: str) -> list[Sync]:
    """The syncs that count a failed login on `path` and clear the username's count on success."""

    @sync(name=f"{name}FailureCounts")
    def FailureCounts(request, username, client):
        return Sync(
            when=[
                (Requesting.request, {"path": path, "username": username, "client": client}, {"request": request}),
                (UserAuthentication.authenticate, {}, {"code": "INVALID_CREDENTIALS"}),
            ],
            then=[
                (Throttling.fail, {"kind": "username", "key": username}),
                (Throttling.fail, {"kind": "address", "key": client}),
            ],
        )

    @sync(name=f"{name}SuccessClearsUsername")
    def SuccessClearsUsername(request, username, user):
        return Sync(
            when=[
                (Requesting.request, {"path": path, "username": username}, {"request": request}),
                (UserAuthentication.authenticate, {}, {"user": user}),
            ],
            then=[(Throttling.clear, {"kind": "username", "key": username})],
        )

    return [FailureCounts, SuccessClearsUsername]


AuthenticateThrottled = throttled("/UserAuthentication/authenticate", "Authenticate")
AuthenticateCounted = counted("/UserAuthentication/authenticate", "Authenticate")
LoginThrottled = throttled("/login", "Login")
LoginCounted = counted("/login", "Login")
