"""What the engine tells an observer (metrics, say) as a flow runs."""

from __future__ import annotations

from typing import Protocol

from .records import ActionRecord


class Observer(Protocol):
    """Called on the engine's hot path: keep each call cheap and never raise."""

    def action_completed(self, record: ActionRecord) -> None:
        """An action returned; `record.ms` is how long it took."""

    def sync_fired(self, sync: str) -> None:
        """A sync matched a completion (and its `where` held): its `then` runs now."""
