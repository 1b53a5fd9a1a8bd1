"""Two-factor sign-in: what `twoFactor`, the setup, `disableTotp`,
`regenerateRecoveryCodes` and `verifySecondFactor` answer, and the `SecondFactorRequired`
a password sign-in answers for a user with an authenticator app."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.api.fields import presenter
from app.api.graphql.access import AuthSuccess
from app.api.routes import access, two_factor
from app.api.routes.access import AUTHENTICATE, SignedIn
from app.api.routes.two_factor import (
    BEGIN_TOTP_SETUP,
    CONFIRM_TOTP_SETUP,
    DISABLE_TOTP,
    REGENERATE_RECOVERY_CODES,
    TWO_FACTOR,
    VERIFY_SECOND_FACTOR,
)
from app.api.types import User


@strawberry.type(description="The password was right; a second factor is needed to get a session.")
class SecondFactorRequired:
    ticket: str = strawberry.field(description="Pass to verifySecondFactor within five minutes.")
    expires_at: datetime


@strawberry.type
class TotpSetup:
    secret: str = strawberry.field(description="Base32 secret, for typing into an authenticator app.")
    uri: str = strawberry.field(description="otpauth://totp/... URI (RFC 6238: SHA1, 6 digits, 30 seconds).")
    qr_code_svg: str = strawberry.field(description="The same URI as a QR code, an SVG document.")


@strawberry.type
class TotpEnabled:
    recovery_codes: list[str] = strawberry.field(
        description="Ten single-use recovery codes. Shown once; stored only as hashes."
    )


@strawberry.type
class TotpDisabled:
    ok: bool


@strawberry.type
class TwoFactorStatus:
    totp: bool
    recovery_codes_left: int


@presenter(AUTHENTICATE, result="AuthResult")
def second_factor_required(out: access.SecondFactorRequired) -> SecondFactorRequired:
    return SecondFactorRequired(ticket=out["ticket"], expires_at=out["expiresAt"])


@presenter(TWO_FACTOR)
def status(out: two_factor.TwoFactorStatus) -> TwoFactorStatus:
    return TwoFactorStatus(totp=out["totp"], recovery_codes_left=out["recoveryCodesLeft"])


@presenter(BEGIN_TOTP_SETUP, result="BeginTotpSetupResult")
def setup_begun(out: two_factor.TotpSetup) -> TotpSetup:
    return TotpSetup(secret=out["secret"], uri=out["uri"], qr_code_svg=out["qrCodeSvg"])


@presenter(CONFIRM_TOTP_SETUP, REGENERATE_RECOVERY_CODES, result="ConfirmTotpSetupResult")
def enabled(out: two_factor.TotpEnabled) -> TotpEnabled:
    return TotpEnabled(recovery_codes=list(out["recoveryCodes"]))


@presenter(DISABLE_TOTP, result="DisableTotpResult")
def disabled(out: two_factor.TotpDisabled) -> TotpDisabled:
    return TotpDisabled(ok=True)


@presenter(VERIFY_SECOND_FACTOR, result="AuthResult")
def signed_in_with_a_second_factor(out: SignedIn) -> AuthSuccess:
    user = User(id=strawberry.ID(out["user"]), username=out["username"])
    return AuthSuccess(user=user, session=out["session"], expires_at=out["expiresAt"])
