"""Errors the engine raises: at registration (bad syncs) and at run time (failed flows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import Flow


class SyncDeclarationError(ValueError):
    """A sync that cannot work with the registered concepts; raised at start-up."""


class FlowError(RuntimeError):
    """An action or a where clause failed; carries the flow and the sync involved."""

    def __init__(self, flow: Flow, sync: str | None, where: str, cause: BaseException) -> None:
        self.flow = flow
        self.flow_id = flow.id
        self.sync = sync
        self.where = where
        self.cause = cause
        by = f" fired by sync {sync}" if sync else ""
        super().__init__(f"flow {flow.id}: {where}{by} failed: {type(cause).__name__}")
