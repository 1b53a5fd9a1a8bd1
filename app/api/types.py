"""The GraphQL types of api.md: plain declarations, built from response records."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry


@strawberry.type
class User:
    id: strawberry.ID
    username: str


@strawberry.enum
class ErrorCode(Enum):
    USERNAME_TAKEN = "USERNAME_TAKEN"
    INVALID_USERNAME = "INVALID_USERNAME"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    RATE_LIMITED = "RATE_LIMITED"
    USER_NOT_FOUND = "USER_NOT_FOUND"


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


AuthResult = Annotated[AuthSuccess | UserError, strawberry.union("AuthResult")]
ChangePasswordResult = Annotated[ChangePasswordSuccess | UserError, strawberry.union("ChangePasswordResult")]
DeleteAccountResult = Annotated[DeleteAccountSuccess | UserError, strawberry.union("DeleteAccountResult")]


def user_error(response: dict[str, Any]) -> UserError | None:
    if "error" not in response:
        return None
    return UserError(code=ErrorCode(response["code"]), message=str(response["error"]))


def as_user(response: dict[str, Any]) -> User:
    return User(id=strawberry.ID(response["user"]), username=response["username"])
