"""Output shapes shared by every concept: an expected failure is data, not an exception;
and the domain codes the concepts answer with (GraphQL's `ErrorCode`, in this order)."""

from __future__ import annotations

from typing import TypedDict

from app.protocol.codes import Code, declare, is_declared

USERNAME_TAKEN = declare(
    "USERNAME_TAKEN", description="Another account has this username (usernames are unique regardless of case)."
)
INVALID_USERNAME = declare(
    "INVALID_USERNAME", description="The username breaks the rule the `username` argument describes."
)
WEAK_PASSWORD = declare("WEAK_PASSWORD", description="The password breaks the rule its argument describes: its length.")
INVALID_CREDENTIALS = declare(
    "INVALID_CREDENTIALS",
    description="The username and password (or old password, or passkey) do not match an account, or the "
    "credentials changed while the operation ran. Never says which part was wrong.",
)
RATE_LIMITED = declare(
    "RATE_LIMITED",
    status=429,
    description="Too many attempts for this username, user or client address in the current throttling window; "
    "try again once it ends (THROTTLE_WINDOW).",
)
USER_NOT_FOUND = declare("USER_NOT_FOUND", description="No such user: the account does not exist (any more).")
SESSION_NOT_FOUND = declare(
    "SESSION_NOT_FOUND", description="The id names none of the session user's live sessions (another user's neither)."
)
INVALID_EMAIL = declare(
    "INVALID_EMAIL", description="Not an email address mail can be sent to (local@domain.tld, at most 254 characters)."
)
EMAIL_TAKEN = declare("EMAIL_TAKEN", description="Another user has this email address (compared regardless of case).")
INVALID_TOKEN = declare(
    "INVALID_TOKEN", description="The link or ticket is not valid: unknown, used already, expired or voided."
)
EMAIL_NOT_FOUND = declare("EMAIL_NOT_FOUND", description="The address is not the user's email address.")
INVALID_PASSKEY = declare(
    "INVALID_PASSKEY",
    description="The passkey could not be registered: its ceremony did not verify, it is registered already, or "
    "its name is too long.",
)
PASSKEY_NOT_FOUND = declare("PASSKEY_NOT_FOUND", description="The id names none of the user's passkeys.")
INVALID_CODE = declare(
    "INVALID_CODE",
    description="The authenticator code or recovery code is wrong, was used already, or there is no setup to confirm.",
)
TOTP_NOT_ENABLED = declare(
    "TOTP_NOT_ENABLED", description="The user has no authenticator app enabled, so there is nothing to change."
)


class Error(TypedDict):
    """An expected failure: a message for people and a code for programs (declared in app.protocol.codes)."""

    error: str
    code: str


def error(code: Code, message: str) -> Error:
    """The failure output; `code` must be declared (app.protocol.codes), so every client
    layer knows it."""
    if not is_declared(code):
        raise ValueError(f"error code {code!r} is not declared (app.protocol.codes.declare)")
    return {"error": message, "code": code}
