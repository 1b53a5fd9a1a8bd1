"""The signed-in user's account: change the password, delete the account."""

from __future__ import annotations

from typing import Literal, TypedDict

from app.concepts.outputs import INVALID_CREDENTIALS, RATE_LIMITED, USER_NOT_FOUND, WEAK_PASSWORD
from app.concepts.user_authentication import PASSWORD_RULE
from app.protocol.routes import ID, SESSION, Input, Route


class PasswordChanged(TypedDict):
    status: Literal["password_changed"]
    user: str
    username: str


class AccountDeleted(TypedDict):
    status: Literal["account_deleted"]
    user: str


OWN_USER = Input(
    "user", ID, optional=True, description="The session user's own id, or nothing (another user's is FORBIDDEN)."
)

CHANGE_PASSWORD = Route(
    "/UserAuthentication/changePassword",
    Input(
        "oldPassword",
        secret=True,
        description="The current password (a wrong one counts towards RATE_LIMITED, like a failed login).",
    ),
    Input("newPassword", secret=True, description=f"The new password: {PASSWORD_RULE}."),
    OWN_USER,
    SESSION,
    output=PasswordChanged,
    errors=[WEAK_PASSWORD, INVALID_CREDENTIALS, RATE_LIMITED, USER_NOT_FOUND],
    graphql="Mutation.changePassword",
    description="Change the session user's password; revokes their other sessions.",
)
DELETE_ACCOUNT = Route(
    "/UserAuthentication/deleteAccount",
    OWN_USER,
    SESSION,
    output=AccountDeleted,
    errors=[USER_NOT_FOUND],
    graphql="Mutation.deleteAccount",
    description="Delete the session user's account; revokes all their sessions.",
)
