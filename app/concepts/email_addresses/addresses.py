"""What an email address is here: `local@domain.tld` by email-validator's rules, with no
network lookups (nothing may fetch from the network), and how two are compared."""

from __future__ import annotations

from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254
"""Characters of an address as given (RFC 5321's limit on a path, less its brackets)."""


class Address(NamedTuple):
    shown: str
    """The address as the user gave it, its domain in lower case (and in Unicode if it was)."""
    key: str
    """What two addresses are compared by: ASCII (the domain in its IDNA form), lower case."""


def parse(text: object) -> Address | None:
    """The address `text` is, or None: the local part in ASCII, unquoted; a domain with a
    dot, not an IP address nor a special-use name (`localhost`, `.test`, `.invalid`, ...);
    at most 254 characters; no spaces around it."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    try:
        found = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    if found.ascii_email is None:
        return None
    return Address(found.normalized, found.ascii_email.lower())
