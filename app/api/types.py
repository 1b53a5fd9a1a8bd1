"""The GraphQL types of api.md: plain declarations, built from response records."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

import app.concepts  # noqa: F401  (the concepts declare their codes on import)
from app.protocol import codes


@strawberry.type
class User:
    id: strawberry.ID
    username: str


ErrorCode = Enum("ErrorCode", {code: code for code in codes.domain_codes()})  # type: ignore[misc]
"""Every declared domain code (app.protocol.codes), so no answer of a concept is unknown here."""
strawberry.enum(ErrorCode)


@strawberry.type(description="An expected, user-facing failure, returned as data.")
class UserError:
    code: ErrorCode
    message: str


@strawberry.type
class AuthSuccess:
    user: User
    session: str = strawberry.field(description="Send as `Authorization: Bearer <session>`.")
    expires_at: datetime


@strawberry.type
class LogoutSuccess:
    ok: bool


@strawberry.type
class ChangePasswordSuccess:
    user: User


@strawberry.type
class DeleteAccountSuccess:
    user: strawberry.ID


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
    current: bool = strawberry.field(description="True for the session making this request.")


@strawberry.type
class RevokeSessionSuccess:
    id: strawberry.ID


@strawberry.type
class LogoutEverywhereSuccess:
    revoked: int


AuthResult = Annotated[AuthSuccess | UserError, strawberry.union("AuthResult")]
ChangePasswordResult = Annotated[ChangePasswordSuccess | UserError, strawberry.union("ChangePasswordResult")]
DeleteAccountResult = Annotated[DeleteAccountSuccess | UserError, strawberry.union("DeleteAccountResult")]
RevokeSessionResult = Annotated[RevokeSessionSuccess | UserError, strawberry.union("RevokeSessionResult")]


def user_error(response: dict[str, Any]) -> UserError | None:
    if "error" not in response:
        return None
    return UserError(code=ErrorCode(response["code"]), message=str(response["error"]))


def as_user(response: dict[str, Any]) -> User:
    return User(id=strawberry.ID(response["user"]), username=response["username"])


def as_session(row: dict[str, Any]) -> Session:
    return Session(
        id=strawberry.ID(row["id"]),
        created_at=row["createdAt"],
        expires_at=row["expiresAt"],
        last_used_at=row["lastUsedAt"],
        client=row["client"],
        user_agent=row["userAgent"],
        current=row["current"],
    )
