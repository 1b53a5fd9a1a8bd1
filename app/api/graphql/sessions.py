"""A user's sessions: what `sessions`, `revokeSession` and `logoutEverywhere` answer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.api.fields import presenter
from app.api.routes.sessions import (
    LIST_SESSIONS,
    LOGOUT_EVERYWHERE,
    REVOKE_SESSION,
    LoggedOutEverywhere,
    Revoked,
    SessionList,
)
from app.api.types import from_row


@strawberry.type
class Session:
    id: strawberry.ID = strawberry.field(description="A public handle for the session; never the token.")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime = strawberry.field(
        description="Last time the session was used; updated at most once a minute."
    )
    client: str | None = strawberry.field(description="The client address the session was created from.")
    user_agent: str | None = strawberry.field(
        description="The User-Agent it was created with (at most 256 characters)."
    )
    method: str = strawberry.field(
        description="How the session was made: `password`, `password+totp`, `password+recovery` or `passkey`."
    )
    current: bool = strawberry.field(description="True for the session making this request.")


@strawberry.type
class RevokeSessionSuccess:
    id: strawberry.ID


@strawberry.type
class LogoutEverywhereSuccess:
    revoked: int


@presenter(LIST_SESSIONS)
def sessions(out: SessionList) -> list[Session]:
    return [from_row(Session, row) for row in out["results"]]


@presenter(REVOKE_SESSION, result="RevokeSessionResult")
def revoked(out: Revoked) -> RevokeSessionSuccess:
    return RevokeSessionSuccess(id=strawberry.ID(out["id"]))


@presenter(LOGOUT_EVERYWHERE)
def logged_out_everywhere(out: LoggedOutEverywhere) -> LogoutEverywhereSuccess:
    return LogoutEverywhereSuccess(revoked=out["revoked"])
