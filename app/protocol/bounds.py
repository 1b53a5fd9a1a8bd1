"""How much of any one client string the app takes in."""

from __future__ import annotations

from typing import Final

MAX_CLIENT_TEXT: Final = 1024
"""Characters of one client-supplied string (an argument, a body field). Longer ones
are refused (BAD_USER_INPUT) before any action runs, so nothing stored or logged (the
request journal, throttling keys, traces) keeps more of a client's text than this.
Passwords (at most 256 code points) and usernames (32) fit with room to spare."""

MAX_LOGGED_NAME: Final = 100
"""Characters of a client-chosen name (a GraphQL operation name) written to the access log."""


def is_text(value: str) -> bool:
    """Valid Unicode text (no lone surrogates, which JSON allows): storable and hashable."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
