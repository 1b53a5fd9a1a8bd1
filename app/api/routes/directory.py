"""Looking users up, for signed-in users: does a user exist, all users a page at a
time, a user's name."""

from __future__ import annotations

from typing import TypedDict

from app.concepts.user_authentication import PAGE_SIZES, UserListRow
from app.protocol.routes import ID, SESSION, Input, Route


class Exists(TypedDict):
    exists: bool


class UserPage(TypedDict):
    results: list[UserListRow]


class Username(TypedDict):
    username: str | None


CHECK_USER_EXISTS = Route(
    "/UserAuthentication/_checkUserExists", Input("user", ID), SESSION, output=Exists, graphql="Query.checkUserExists"
)
GET_ALL_USERS = Route(
    "/UserAuthentication/_getAllUsers",
    Input(
        "first", int, optional=True, default=100, description=f"How many users: {PAGE_SIZES.start} to {PAGE_SIZES[-1]}."
    ),
    Input("after", ID, optional=True, description="The id of the previous page's last user (users come by id)."),
    SESSION,
    output=UserPage,
    graphql="Query.allUsers",
    description=f"Users ordered by id; `first` is {PAGE_SIZES.start}..{PAGE_SIZES[-1]}.",
)
GET_USERNAME_BY_ID = Route(
    "/UserAuthentication/_getUsernameById",
    Input("user", ID),
    SESSION,
    output=Username,
    graphql="Query.usernameById",
    description="A user's name; null if no such user.",
)
