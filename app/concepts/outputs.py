"""Output shapes shared by every concept: an expected failure is data, not an exception."""

from __future__ import annotations

from typing import TypedDict


class Error(TypedDict):
    """An expected failure: a message for people and a code for programs (see api.md)."""

    error: str
    code: str


def error(code: str, message: str) -> Error:
    return {"error": message, "code": code}
