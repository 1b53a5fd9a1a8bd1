"""Action records and flows: what happened, in causal order, for one top-level call."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any

from .concepts import ActionSpec

_counter = itertools.count()
_node = os.urandom(2).hex()


def new_flow_id() -> str:
    """A lexicographically sortable id: milliseconds, then a per-process counter."""
    return f"{time.time_ns() // 1_000_000:012x}{_node}{next(_counter) & 0xFFFFFF:06x}"


@dataclass(slots=True, eq=False)
class ActionRecord:
    """One invocation of an action: its input, its output once complete, and its cause
    (the sync that fired it and the record whose completion triggered that sync)."""

    seq: int
    action: ActionSpec
    input: dict[str, Any]
    sync: str | None
    cause: int | None = None
    output: dict[str, Any] | None = None
    started: float = 0.0
    ms: float = 0.0


@dataclass(slots=True, eq=False)
class Flow:
    """The records causally linked to one top-level invocation.

    Completed records are indexed by action so matching only scans records of the
    actions a pattern names. Query results are remembered until the next action
    completes: state changes only through actions, so until then the same query
    with the same inputs has the same rows (syncs answering one completion often
    ask the same question, e.g. whose session this is). A flow is released when its
    top-level call returns.
    """

    id: str = field(default_factory=new_flow_id)
    records: list[ActionRecord] = field(default_factory=list)
    completed: dict[ActionSpec, list[ActionRecord]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    ms: float = 0.0
    quiescent: bool = False
    error: BaseException | None = None
    queries: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def start(
        self, action: ActionSpec, input: dict[str, Any], sync: str | None, cause: int | None = None
    ) -> ActionRecord:
        record = ActionRecord(len(self.records), action, input, sync, cause, started=time.perf_counter())
        self.records.append(record)
        return record

    def complete(self, record: ActionRecord, output: dict[str, Any]) -> None:
        record.output = output
        record.ms = (time.perf_counter() - record.started) * 1000
        self.completed.setdefault(record.action, []).append(record)
        self.queries.clear()

    @property
    def root(self) -> ActionRecord:
        return self.records[0]

    def fired(self) -> list[str]:
        """Names of the syncs that fired in this flow, in order, without repeats."""
        return list(dict.fromkeys(r.sync for r in self.records if r.sync))
