"""Action records and flows: what happened, in causal order, for one top-level call."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from .concepts import ActionSpec

_node = os.urandom(2).hex()
_last = [0, 0]  # the last id's millisecond and counter


def new_flow_id() -> str:
    """A sortable id: milliseconds, this process's tag, a counter within the millisecond.

    Ids of one process always increase, even if the clock steps back or more than 2^24
    flows start within one millisecond (the id then borrows the next millisecond).
    """
    ms, n = time.time_ns() // 1_000_000, 0
    if ms <= _last[0]:
        ms, n = _last[0], _last[1] + 1
        if n > 0xFFFFFF:
            ms, n = ms + 1, 0
    _last[:] = [ms, n]
    return f"{ms:012x}{_node}{n:06x}"


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
