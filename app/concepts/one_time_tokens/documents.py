"""OneTimeTokens' state: outstanding tokens, each known only by its hash."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, IndexModel

Data = dict[str, str | int | float | bool | None]
"""What a token may carry besides its subject: a flat JSON object of non-secret values."""


class OneTimeToken(Document):
    """An outstanding token. `id` is the SHA-256 of the token (hex): the token itself is
    never stored, so a copy of the database redeems nothing. Redeeming deletes the
    document; the TTL index drops the ones that expired unused (the expiry is also
    checked on every use, as the TTL monitor runs only now and then)."""

    id: str  # type: ignore[assignment]
    purpose: str
    subject: str | None
    data: Data = {}
    created: datetime
    expires: datetime

    class Settings:
        name = "OneTimeTokens.tokens"
        indexes = [
            IndexModel([("expires", ASCENDING)], expireAfterSeconds=0),
            IndexModel([("subject", ASCENDING), ("purpose", ASCENDING)]),
        ]
