"""Throttling's state: attempts counted per key, one document per key and window."""

from __future__ import annotations

from beanie import Document


class Count(Document):
    """The attempts counted on one key within one window. The `_id` is the window's end
    and the key (`2026-12-01T00:15:00Z login:ada`), so a new window is a new document
    and the windows that have passed are one range of the `_id` index to delete.

    No other index: every count is a write, and an index on a time field (a TTL index)
    would be rewritten by each of them."""

    id: str  # type: ignore[assignment]
    attempts: int

    class Settings:
        name = "Throttling.counts"
