"""Email: what `email`, `setEmail`, `verifyEmail`, `requestPasswordReset` and `resetPassword` answer (a
reset of a user with a second factor answers SecondFactorRequired, as a password sign-in does)."""

from __future__ import annotations

import strawberry

from app.api.fields import presenter
from app.api.graphql.access import AuthSuccess
from app.api.graphql.two_factor import SecondFactorRequired
from app.api.routes import access
from app.api.routes.access import SignedIn
from app.api.routes.email import (
    GET_EMAIL,
    REQUEST_PASSWORD_RESET,
    RESET_PASSWORD,
    SET_EMAIL,
    VERIFY_EMAIL,
    EmailShown,
    NoEmail,
    ResetRequested,
)
from app.api.types import User


@strawberry.type
class EmailAddress:
    address: str = strawberry.field(description="As the user typed it (its domain in lower case).")
    verified: bool = strawberry.field(
        description="Whether the user opened the verification link mailed to it: only a verified address gets "
        "password reset links."
    )


@strawberry.type
class SetEmailSuccess:
    email: EmailAddress


@strawberry.type
class VerifyEmailSuccess:
    email: EmailAddress


@strawberry.type
class PasswordResetRequested:
    ok: bool = strawberry.field(description="Always true: the answer says nothing about the address.")


def _email(out: EmailShown) -> EmailAddress:
    return EmailAddress(address=out["address"], verified=out["verified"])


@presenter(GET_EMAIL)
def email(out: EmailShown) -> EmailAddress:
    return _email(out)


@presenter(GET_EMAIL)
def no_email(out: NoEmail) -> None:
    return None


@presenter(SET_EMAIL, result="SetEmailResult")
def email_set(out: EmailShown) -> SetEmailSuccess:
    return SetEmailSuccess(email=_email(out))


@presenter(VERIFY_EMAIL, result="VerifyEmailResult")
def email_verified(out: EmailShown) -> VerifyEmailSuccess:
    return VerifyEmailSuccess(email=_email(out))


@presenter(REQUEST_PASSWORD_RESET)
def reset_requested(out: ResetRequested) -> PasswordResetRequested:
    return PasswordResetRequested(ok=out["ok"])


@presenter(RESET_PASSWORD, result="AuthResult")
def password_reset(out: SignedIn) -> AuthSuccess:
    user = User(id=strawberry.ID(out["user"]), username=out["username"])
    return AuthSuccess(user=user, session=out["session"], expires_at=out["expiresAt"])


@presenter(RESET_PASSWORD, result="AuthResult")
def reset_held_for_the_second_factor(out: access.SecondFactorRequired) -> SecondFactorRequired:
    return SecondFactorRequired(ticket=out["ticket"], expires_at=out["expiresAt"])
