"""Email: a signed-in user records an address (typing their password again) and proves
it is theirs by a link mailed to it; anyone who forgot their password asks for a reset
link mailed to a verified address, and sets a new password with it.

The links carry single-use tokens (a `token` query parameter, built from
VERIFY_EMAIL_URL and RESET_PASSWORD_URL); `verifyEmail` and `resetPassword` take them
back, with no session: the link may be opened on another device.

When mail is off (PRODUCTION without SMTP_URL) `setEmail` and `requestPasswordReset`
answer MAIL_UNAVAILABLE (request-level, 503) rather than pretend: for the reset it is the
same answer for every address, so it tells nothing about any account.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from app.api.routes.access import SecondFactorRequired, SignedIn
from app.concepts.email_addresses import MAX_LENGTH
from app.concepts.outputs import (
    EMAIL_TAKEN,
    INVALID_CREDENTIALS,
    INVALID_EMAIL,
    INVALID_TOKEN,
    RATE_LIMITED,
    USER_NOT_FOUND,
    WEAK_PASSWORD,
)
from app.concepts.user_authentication import PASSWORD_RULE
from app.protocol.routes import SESSION, Input, Route


class EmailShown(TypedDict):
    address: str
    verified: bool


class NoEmail(TypedDict):
    address: None


class ResetRequested(TypedDict):
    ok: Literal[True]


TOKEN = Input(
    "token",
    secret=True,
    description="The token of the mailed link (its `token` query parameter): single use.",
)

GET_EMAIL = Route(
    "/EmailAddresses/_getAddress",
    SESSION,
    output=EmailShown | NoEmail,
    graphql="Query.email",
    name="Email",
    description="The session user's email address and whether it is verified; null if they have none.",
)
SET_EMAIL = Route(
    "/EmailAddresses/set",
    Input(
        "address",
        description=f"The address: local@domain.tld, at most {MAX_LENGTH} characters; unique regardless of case.",
    ),
    Input(
        "password",
        secret=True,
        description="The session user's password, checked again (a wrong one counts towards RATE_LIMITED, as "
        "changePassword's oldPassword does).",
    ),
    SESSION,
    output=EmailShown,
    errors=[INVALID_EMAIL, EMAIL_TAKEN, INVALID_CREDENTIALS, RATE_LIMITED],
    graphql="Mutation.setEmail",
    name="SetEmail",
    description="Record the session user's email address, unverified (replacing any earlier one), and mail a "
    "verification link to it; the same address again sends a new link and voids the earlier ones. "
    "MAIL_UNAVAILABLE when this server sends no mail.",
)
VERIFY_EMAIL = Route(
    "/EmailAddresses/verify",
    TOKEN,
    output=EmailShown,
    errors=[INVALID_TOKEN],
    graphql="Mutation.verifyEmail",
    name="VerifyEmail",
    description="Mark the address a verification link was mailed to as verified (if it is still the user's).",
)
REQUEST_PASSWORD_RESET = Route(
    "/UserAuthentication/requestPasswordReset",
    Input("address", description="The email address of the account (any case)."),
    output=ResetRequested,
    graphql="Mutation.requestPasswordReset",
    description="Mail a password reset link to this address if it is an account's verified address. The answer "
    "is the same whether or not it is (and beyond the limits on requests): `ok: true`; MAIL_UNAVAILABLE, for "
    "every address alike, when this server sends no mail.",
)
RESET_PASSWORD = Route(
    "/UserAuthentication/resetPassword",
    TOKEN,
    Input("newPassword", secret=True, description=f"The new password: {PASSWORD_RULE}."),
    output=SignedIn | SecondFactorRequired,
    errors=[INVALID_TOKEN, WEAK_PASSWORD, INVALID_CREDENTIALS, USER_NOT_FOUND],
    graphql="Mutation.resetPassword",
    description="Set a new password with a reset link's token: every session of the user is revoked, every "
    "other reset link voided, and a new session answered (or, for a user with a second factor, a ticket for "
    "verifySecondFactor, as a password sign-in answers). WEAK_PASSWORD leaves the token usable.",
)
