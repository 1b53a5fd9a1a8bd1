"""Two-factor sign-in: a signed-in user sets up an authenticator app (typing their
password again), confirms it with a code, turns it off, renews the recovery codes; a
password sign-in of such a user answers a ticket (SecondFactorRequired, app/api/routes/
access.py), which `verifySecondFactor` turns into the session with a code."""

from __future__ import annotations

from typing import Literal, TypedDict

from app.api.routes.access import SignedIn
from app.concepts.outputs import (
    INVALID_CODE,
    INVALID_CREDENTIALS,
    INVALID_TOKEN,
    RATE_LIMITED,
    TOTP_NOT_ENABLED,
    USER_NOT_FOUND,
)
from app.concepts.two_factor.concept import MAX_CODE
from app.protocol.routes import SESSION, Input, Route


class TwoFactorStatus(TypedDict):
    totp: bool
    recoveryCodesLeft: int


class TotpSetup(TypedDict):
    secret: str
    uri: str
    qrCodeSvg: str


class TotpEnabled(TypedDict):
    recoveryCodes: list[str]


class TotpDisabled(TypedDict):
    ok: Literal[True]


PASSWORD = Input("password", secret=True, description="The session user's password, checked again.")
CODE = Input(
    "code",
    secret=True,
    max_length=MAX_CODE,
    description="A code of the authenticator app (six digits), or one of the recovery codes.",
)

TWO_FACTOR = Route(
    "/TwoFactor/_getStatus",
    SESSION,
    output=TwoFactorStatus,
    graphql="Query.twoFactor",
    name="TwoFactorStatus",
    description="Whether the session user has an authenticator app, and how many recovery codes are left.",
)
BEGIN_TOTP_SETUP = Route(
    "/TwoFactor/beginSetup",
    PASSWORD,
    SESSION,
    output=TotpSetup,
    errors=[INVALID_CREDENTIALS, RATE_LIMITED],
    graphql="Mutation.beginTotpSetup",
    name="BeginTotpSetup",
    description="A new authenticator app secret, not in force until confirmTotpSetup gets a code of it (one in "
    "force stays until then).",
)
CONFIRM_TOTP_SETUP = Route(
    "/TwoFactor/confirmSetup",
    Input("code", secret=True, max_length=MAX_CODE, description="A current code of the new secret."),
    SESSION,
    output=TotpEnabled,
    errors=[INVALID_CODE, RATE_LIMITED, INVALID_CREDENTIALS, USER_NOT_FOUND],
    graphql="Mutation.confirmTotpSetup",
    name="ConfirmTotpSetup",
    description="Put the secret of beginTotpSetup in force; answers ten recovery codes, shown only now. Revokes "
    "the user's other sessions. Wrong codes count as verifySecondFactor's do (RATE_LIMITED beyond the limit).",
)
DISABLE_TOTP = Route(
    "/TwoFactor/disable",
    PASSWORD,
    SESSION,
    output=TotpDisabled,
    errors=[INVALID_CREDENTIALS, RATE_LIMITED, TOTP_NOT_ENABLED, USER_NOT_FOUND],
    graphql="Mutation.disableTotp",
    name="DisableTotp",
    description="Turn the authenticator app off and void the recovery codes. Revokes the user's other sessions.",
)
REGENERATE_RECOVERY_CODES = Route(
    "/TwoFactor/regenerateRecoveryCodes",
    PASSWORD,
    SESSION,
    output=TotpEnabled,
    errors=[INVALID_CREDENTIALS, RATE_LIMITED, TOTP_NOT_ENABLED],
    graphql="Mutation.regenerateRecoveryCodes",
    name="RegenerateRecoveryCodes",
    description="Ten new recovery codes, shown only now; the old ones no longer work.",
)
VERIFY_SECOND_FACTOR = Route(
    "/TwoFactor/verify",
    Input("ticket", secret=True, description="The ticket the sign-in answered: single use, for five minutes."),
    CODE,
    output=SignedIn,
    errors=[INVALID_TOKEN, INVALID_CODE, RATE_LIMITED, INVALID_CREDENTIALS],
    graphql="Mutation.verifySecondFactor",
    name="VerifySecondFactor",
    description="Finish a sign-in that answered SecondFactorRequired: the ticket and a code give the session.",
)
