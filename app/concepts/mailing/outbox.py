"""The outbox's moves, each one atomic write: a mail is claimed by one sender at a time
(queued or lease run out -> sending, with a new claim id), and only the holder of the
claim marks it sent, given up, or due again."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from .documents import Mail

KEPT = timedelta(days=7)
"""How long a finished mail stays in the outbox (for looking into what was sent)."""
EVER = datetime(1970, 1, 1, tzinfo=UTC)
BY_ID = [("_id", 1)]
"""The hint of a write to a mail its sender holds: SecantusDB plans a conjunction with
`_id` as a collection scan unless told (MongoDB finds it by `_id` either way)."""


async def claim(now: datetime, lease: timedelta) -> Mapping[str, Any] | None:
    """The mail due first, now held by the caller until `now + lease` (its `claim` field
    names the holding); None if none is due. One conditional update: of senders claiming
    at once, each gets a different mail or none."""
    return await Mail.get_pymongo_collection().find_one_and_update(
        {"due": {"$lte": now}},
        {
            "$set": {"state": "sending", "due": now + lease, "claim": secrets.token_hex(8)},
            "$inc": {"attempts": 1},
        },
        sort=[("due", 1)],
        return_document=ReturnDocument.AFTER,
    )


async def finish(mail: Mapping[str, Any], state: str, now: datetime, error: str | None = None) -> bool:
    """Marks a held mail sent or failed, forgetting its token; False if its claim was lost."""
    result = await Mail.get_pymongo_collection().update_one(
        {"_id": mail["_id"], "claim": mail["claim"]},
        {
            "$set": {"state": state, "finished": now, "expires": now + KEPT, "last_error": error},
            "$unset": {"due": "", "claim": "", "sealed": ""},
        },
        hint=BY_ID,
    )
    return result.modified_count == 1


async def drop(mail: Mapping[str, Any]) -> bool:
    """Deletes a held mail (one queued unsent: it is never sent nor kept); False if its
    claim was lost."""
    result = await Mail.get_pymongo_collection().delete_one({"_id": mail["_id"], "claim": mail["claim"]}, hint=BY_ID)
    return result.deleted_count == 1


async def defer(mail: Mapping[str, Any], due: datetime, error: str) -> bool:
    """Puts a held mail back, due at `due`; False if its claim was lost."""
    result = await Mail.get_pymongo_collection().update_one(
        {"_id": mail["_id"], "claim": mail["claim"]},
        {"$set": {"state": "queued", "due": due, "last_error": error}, "$unset": {"claim": ""}},
        hint=BY_ID,
    )
    return result.modified_count == 1


async def unfinished() -> int:
    """How many mails are queued or being sent, by every sender (not those queued unsent)."""
    return await Mail.get_pymongo_collection().count_documents(
        {"due": {"$gte": EVER}, "to": {"$type": "string"}}, hint=[("due", 1)]
    )
