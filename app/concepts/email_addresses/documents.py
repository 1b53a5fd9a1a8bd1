"""EmailAddresses' state: at most one address per user, verified or not."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from beanie import Document, Indexed


class EmailAddress(Document):
    """A user's address, keyed by the user's id. `key` is the address as compared (ASCII,
    the domain in its IDNA form, lower case); its unique index makes an address one
    user's at most, and is what finds the user of an address."""

    id: str  # type: ignore[assignment]
    address: str
    key: Annotated[str, Indexed(unique=True)]
    verified: bool = False
    updated: datetime
    verified_at: datetime | None = None

    class Settings:
        name = "EmailAddresses.addresses"
