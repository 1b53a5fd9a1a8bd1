"""Output shapes shared by every concept: an expected failure is data, not an exception;
and the domain codes the concepts answer with (GraphQL's `ErrorCode`, in this order)."""

from __future__ import annotations

from typing import TypedDict

from app.protocol.codes import Code, declare, is_declared

USERNAME_TAKEN = declare("USERNAME_TAKEN")
INVALID_USERNAME = declare("INVALID_USERNAME")
WEAK_PASSWORD = declare("WEAK_PASSWORD")
INVALID_CREDENTIALS = declare("INVALID_CREDENTIALS")
RATE_LIMITED = declare("RATE_LIMITED", status=429)
USER_NOT_FOUND = declare("USER_NOT_FOUND")
SESSION_NOT_FOUND = declare("SESSION_NOT_FOUND")
INVALID_EMAIL = declare("INVALID_EMAIL")
EMAIL_TAKEN = declare("EMAIL_TAKEN")
INVALID_TOKEN = declare("INVALID_TOKEN")
EMAIL_NOT_FOUND = declare("EMAIL_NOT_FOUND")
INVALID_PASSKEY = declare("INVALID_PASSKEY")
PASSKEY_NOT_FOUND = declare("PASSKEY_NOT_FOUND")


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
