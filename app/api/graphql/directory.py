"""The user directory: what `checkUserExists`, `allUsers` and `usernameById` answer."""

from __future__ import annotations

import strawberry

from app.api.fields import presenter
from app.api.routes.directory import CHECK_USER_EXISTS, GET_ALL_USERS, GET_USERNAME_BY_ID, Exists, Username, UserPage
from app.api.types import User


@presenter(CHECK_USER_EXISTS)
def exists(out: Exists) -> bool:
    return out["exists"]


@presenter(GET_ALL_USERS)
def users(out: UserPage) -> list[User]:
    return [User(id=strawberry.ID(row["user"]), username=row["username"]) for row in out["results"]]


@presenter(GET_USERNAME_BY_ID)
def username(out: Username) -> str | None:
    return out["username"]
