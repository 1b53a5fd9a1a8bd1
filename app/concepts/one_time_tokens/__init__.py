from datetime import timedelta

from beanie import Document

from app.settings import SettingsView

from ..passkeys.ceremonies import CEREMONY_TIME
from .concept import OneTimeTokens
from .documents import OneTimeToken

DOCUMENTS: list[type[Document]] = [OneTimeToken]

VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"
PASSKEY_REGISTRATION = "passkey-registration"
PASSKEY_LOGIN = "passkey-login"
SECOND_FACTOR = "second-factor"


class OneTimeTokensSettings(SettingsView):
    verify_email_ttl: int
    reset_password_ttl: int


def lifetimes(settings: OneTimeTokensSettings) -> dict[str, timedelta]:
    """Every purpose tokens are issued for, with how long its tokens last."""
    return {
        VERIFY_EMAIL: timedelta(seconds=settings.verify_email_ttl),
        RESET_PASSWORD: timedelta(seconds=settings.reset_password_ttl),
        # A passkey ceremony's ticket keeps its challenge as long as the browser waits.
        PASSKEY_REGISTRATION: CEREMONY_TIME,
        PASSKEY_LOGIN: CEREMONY_TIME,
        # Between the right password and the second factor: five minutes to type a code.
        SECOND_FACTOR: timedelta(minutes=5),
    }


def create(settings: OneTimeTokensSettings) -> OneTimeTokens:
    return OneTimeTokens(lifetimes(settings))


__all__ = [
    "DOCUMENTS",
    "PASSKEY_LOGIN",
    "PASSKEY_REGISTRATION",
    "RESET_PASSWORD",
    "SECOND_FACTOR",
    "VERIFY_EMAIL",
    "OneTimeToken",
    "OneTimeTokens",
    "create",
    "lifetimes",
]
