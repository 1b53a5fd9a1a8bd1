"""Signing in: how a route whose action checks credentials (register, authenticate,
/login; later a password reset, a passkey, a second factor) ends with a session.

Once `action` has answered a `user` (and, if it names one, the `version` of their
credentials: UserAuthentication's actions do; a passkey's or a ticket's need not), the flow
passes the session gate, saying how the user signed in (`method`: a password, a
passkey, a password and a second factor; see app.protocol.gates): guards may refuse the
session (the request is answered with their error) or hold it (their own syncs answer;
a second factor holds only the methods that are one factor). Past the gate the session
is made, recording that method, checked against the credentials as they are now
(credentials.py), and the request is answered with the route's output: the keys of its
`output` among the user, username, session and expiry.
"""

from collections.abc import Callable, Mapping
from typing import Any, get_type_hints

from app.concepts import Gating, Requesting, Sessioning, UserAuthentication
from app.engine import Sync, sync
from app.protocol.gates import BY_PASSWORD, SESSION_GATE
from app.protocol.routes import Route, typeddicts

from .credentials import stale_session
from .shapes import error_response

SIGNED_IN = {"user", "username", "session", "expiresAt"}
"""What a signed-in request may be answered with: the route's output among these keys
(its other outputs are answered by the syncs of whoever holds the session gate)."""


def signs_in(
    route: Route,
    action: Callable[..., Any],
    *,
    method: str = BY_PASSWORD,
    after: tuple[Callable[..., Any], Mapping[str, Any], str] | None = None,
) -> list[Sync]:
    """The syncs that take a request for `route` from `action`'s `{user}` (or `{user,
    version}`) to its answer; `method` is what the sign-in proved (a password unless
    said otherwise, so a new way in is held for a second factor until it says why not),
    unless the action answers a `method` of its own (a second factor says which it was).
    With `after` (an action, the literal inputs it was invoked with, and the key of its
    success output that names the same user), the session is asked for only once that
    action too has succeeded in the flow, for that user (a ticket redeemed)."""
    answered = next(keys for keys in map(set, route.outputs_keys) if keys <= SIGNED_IN)
    outputs = [set(shape.__annotations__) for shape in typeddicts(get_type_hints(action)["return"])]
    versioned = any("version" in keys for keys in outputs)
    own_method = any("method" in keys for keys in outputs)

    @sync(name=f"{route.name}AsksForSession")
    def AsksForSession(request, user, proven, version):
        said = {"method": proven} if own_method else {}
        checked = {"version": version} if versioned else {}
        # Always a `version` (None if the action names none): the guards match on it.
        subject = {"user": user, "method": proven if own_method else method, "version": version if versioned else None}
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (action, {}, {"user": user, **said, **checked}),
                *([(after[0], dict(after[1]), {after[2]: user})] if after is not None else []),
            ],
            then=[
                (Gating.ask, {"gate": SESSION_GATE, "key": request, **subject}),
                (Gating.decide, {"gate": SESSION_GATE, "key": request}),
            ],
        )

    @sync(name=f"{route.name}CreatesSession")
    def CreatesSession(request, user, client, user_agent, passed, proven):
        said = {"method": proven} if own_method else {}
        return Sync(
            when=[
                (
                    Requesting.request,
                    {"path": route.path, "client": client, "userAgent": user_agent},
                    {"request": request},
                ),
                (action, {}, {"user": user, **said}),
                (Gating.decide, {"gate": SESSION_GATE, "key": request}, {"passed": passed}),
            ],
            then=[
                (
                    Sessioning.create,
                    {
                        "user": user,
                        "client": client,
                        "userAgent": user_agent,
                        "method": proven if own_method else method,
                    },
                )
            ],
        )

    @sync(name=f"{route.name}Response")
    def Response(request, user, version, username, session, expires_at):
        given = {"user": user, "username": username, "session": session, "expiresAt": expires_at}
        checked = {"version": version} if versioned else {}  # the credentials the session stands on
        return Sync(
            when=[
                (Requesting.request, {"path": route.path}, {"request": request}),
                (action, {}, {"user": user, **checked}),
                (Sessioning.create, {"user": user}, {"session": session, "expiresAt": expires_at}),
            ],
            where=lambda frames: frames.query(
                UserAuthentication._getCredentials, {"user": user}, {"username": username, **checked}
            ),
            then=[(Requesting.respond, {"request": request, **{k: v for k, v in given.items() if k in answered}})],
        )

    return [
        AsksForSession,
        CreatesSession,
        error_response(route, Gating.decide, "SessionRefused", {"gate": SESSION_GATE}),
        Response,
        *([error_response(route, action)] if any("error" in keys for keys in outputs) else []),
        error_response(route, Sessioning.create, "SessionError"),
        stale_session(route, action, versioned=versioned),
    ]
