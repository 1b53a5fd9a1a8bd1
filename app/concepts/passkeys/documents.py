"""Passkeys' state: each user's WebAuthn handle, and their credentials."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, DESCENDING, IndexModel


class UserHandle(Document):
    """The WebAuthn `user.id` of a user (`_id`): random, made at their first registration
    and kept while they have an account, so an authenticator that already holds a passkey
    of theirs replaces it instead of keeping two, and a discoverable sign-in names them
    without revealing their username or database id."""

    id: str  # type: ignore[assignment]
    handle: str
    """base64url of 32 random bytes."""

    class Settings:
        name = "Passkeys.userHandles"


class Credential(Document):
    """A passkey: the public key a user's authenticator made, under the credential id the
    authenticator gave it (`_id`, base64url, so unique by the `_id` index). `handle` is
    its public name, random and unrelated to the credential id, by which the user lists
    and removes it among their own (found by the `user` index)."""

    id: str  # type: ignore[assignment]
    handle: str
    user: str
    user_handle: str
    """A copy of the user's `UserHandle.handle`, checked against the one a discoverable
    sign-in returns, in the same read as the key."""
    public_key: bytes
    """The COSE-encoded public key."""
    sign_count: int
    """The authenticator's signature counter at the last use; 0 for those that keep none."""
    transports: list[str]
    aaguid: str
    """The authenticator model (all zeros when it does not say, as with attestation `none`)."""
    backup_eligible: bool
    backed_up: bool
    name: str
    created: datetime
    last_used: datetime | None = None

    class Settings:
        name = "Passkeys.credentials"
        indexes = [IndexModel([("user", ASCENDING), ("created", DESCENDING)])]
