"""The sessions a signed-in user can see and end."""

from __future__ import annotations

from typing import TypedDict

from app.concepts.outputs import SESSION_NOT_FOUND
from app.concepts.sessioning import SessionRow
from app.protocol.routes import ID, SESSION, Input, Route


class ListedSession(SessionRow):
    current: bool


class SessionList(TypedDict):
    results: list[ListedSession]


class Revoked(TypedDict):
    id: str


class LoggedOutEverywhere(TypedDict):
    revoked: int


LIST_SESSIONS = Route(
    "/Sessioning/_getSessions",
    SESSION,
    output=SessionList,
    graphql="Query.sessions",
    name="ListSessions",
    description="The session user's live sessions, newest first.",
)
REVOKE_SESSION = Route(
    "/Sessioning/revoke",
    Input("id", ID, description="The session's public id, as `sessions` lists it (never its token)."),
    SESSION,
    output=Revoked,
    errors=[SESSION_NOT_FOUND],
    graphql="Mutation.revokeSession",
    name="RevokeSession",
    description="End one of the session user's sessions (the current one too: that logs out).",
)
LOGOUT_EVERYWHERE = Route(
    "/Sessioning/revokeAll",
    Input("keepCurrent", bool, optional=True, default=False, description="Keep the session making this request."),
    SESSION,
    output=LoggedOutEverywhere,
    graphql="Mutation.logoutEverywhere",
    name="LogoutEverywhere",
    description="End every session of the session user, or every other one with `keepCurrent`.",
)
