"""Getting in and out: what `register`, `authenticate`, `logout` and `me` answer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.api.fields import presenter
from app.api.routes.access import AUTHENTICATE, LOGOUT, ME, REGISTER, LoggedOut, Me, NoOne, SignedIn
from app.api.types import User


@strawberry.type
class AuthSuccess:
    user: User
    session: str = strawberry.field(description="Send as `Authorization: Bearer <session>`.")
    expires_at: datetime


@strawberry.type
class LogoutSuccess:
    ok: bool


@presenter(REGISTER, AUTHENTICATE, result="AuthResult")
def signed_in(out: SignedIn) -> AuthSuccess:
    user = User(id=strawberry.ID(out["user"]), username=out["username"])
    return AuthSuccess(user=user, session=out["session"], expires_at=out["expiresAt"])


@presenter(LOGOUT)
def logged_out(out: LoggedOut) -> LogoutSuccess:
    return LogoutSuccess(ok=True)


@presenter(ME)
def me(out: Me) -> User:
    return User(id=strawberry.ID(out["user"]), username=out["username"])


@presenter(ME)
def no_one(out: NoOne) -> None:
    return None
