"""Getting in and out: register, authenticate (and /login, its alias), log out, and
who the session's user is."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypedDict

from app.concepts.outputs import INVALID_CREDENTIALS, INVALID_USERNAME, RATE_LIMITED, USERNAME_TAKEN, WEAK_PASSWORD
from app.concepts.user_authentication import PASSWORD_RULE, USERNAME_RULE
from app.protocol.routes import SESSION, Input, Route


class SignedIn(TypedDict):
    user: str
    username: str
    session: str
    expiresAt: datetime


class SecondFactorRequired(TypedDict):
    """The password was right, and the user has a second factor: no session yet, but a
    ticket for verifySecondFactor (single use, five minutes; app/api/routes/two_factor.py)."""

    ticket: str
    expiresAt: datetime


class LoggedIn(TypedDict):
    session: str
    expiresAt: datetime


class LoggedOut(TypedDict):
    status: Literal["logged_out"]


class Me(TypedDict):
    user: str
    username: str


class NoOne(TypedDict):
    user: None


NEW_USERNAME = Input("username", description=f"The new account's name: {USERNAME_RULE}.")
NEW_PASSWORD = Input("password", secret=True, description=f"The new account's password: {PASSWORD_RULE}.")
USERNAME = Input("username", description="The account's name, in any case.")
PASSWORD = Input("password", secret=True, description="The account's password.")

REGISTER = Route(
    "/UserAuthentication/register",
    NEW_USERNAME,
    NEW_PASSWORD,
    output=SignedIn,
    errors=[USERNAME_TAKEN, INVALID_USERNAME, WEAK_PASSWORD, RATE_LIMITED, INVALID_CREDENTIALS],
    graphql="Mutation.register",
    description="Create an account and a session for it.",
)
AUTHENTICATE = Route(
    "/UserAuthentication/authenticate",
    USERNAME,
    PASSWORD,
    output=SignedIn | SecondFactorRequired,
    errors=[INVALID_CREDENTIALS, RATE_LIMITED],
    graphql="Mutation.authenticate",
    description="Check a username and password and create a session (or, for a user with a second factor, a "
    "ticket for verifySecondFactor).",
)
LOGIN = Route(
    "/login",
    USERNAME,
    PASSWORD,
    output=LoggedIn | SecondFactorRequired,
    errors=[INVALID_CREDENTIALS, RATE_LIMITED],
    description="authenticate, answering only the session (the TypeScript version's REST protocol), or the "
    "ticket for the second factor.",
)
LOGOUT = Route(
    "/logout", SESSION, output=LoggedOut, graphql="Mutation.logout", description="Revoke the current session."
)
ME = Route(
    "/me",
    SESSION,
    output=Me | NoOne,
    graphql="Query.me",
    description="The session's user; null without a valid session.",
)
