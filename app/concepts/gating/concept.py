"""concept Gating

purpose: let rules added later stop, or take over, a step of a flow, without editing
the syncs that carry the flow on.
state: the open asks: for a gate and a key (a request), the refusals and holds guards
recorded against it.

A flow passes a gate in two actions: `ask`, whose completion fires every guard (a sync
on `ask` that may `refuse` or `hold`), then `decide`, which says what the guards
said, and which the flow's own syncs follow: its `passed` outcome carries the flow on,
its error answers the request, and a hold means the holder's syncs answer it. A guard
can only add behaviour (a refusal, a hold), like any sync; the gate is a step of the
flow, visible in its trace and in `python -m app routes`.

The asks of one process live in memory only while their flow runs: `decide` ends
them. (A flow that fails between the two leaves its ask behind; at most MAX_OPEN are
kept, the oldest dropped first.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from app.protocol.codes import is_declared

from ..outputs import Error

MAX_OPEN = 10_000


class AskedOut(TypedDict):
    gate: str
    key: str


class RefusedOut(TypedDict):
    gate: str
    key: str
    code: str


class HeldOut(TypedDict):
    gate: str
    key: str
    by: str


class Passed(TypedDict):
    passed: str


class Held(TypedDict):
    held: str


@dataclass(slots=True)
class Ask:
    refusals: list[Error] = field(default_factory=list)
    holders: list[str] = field(default_factory=list)


class Gating:
    """Open asks at named gates, and what the guards said of them."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], Ask] = {}

    async def ask(self, gate: str, key: str, **subject: Any) -> AskedOut:
        """effects: opens an ask at the gate for the key (about `subject`, which guards
        may match: a user, a client address, a request's inputs)."""
        self._open.pop((gate, key), None)
        if len(self._open) >= MAX_OPEN:
            del self._open[next(iter(self._open))]
        self._open[(gate, key)] = Ask()
        return {"gate": gate, "key": key}

    async def refuse(self, gate: str, key: str, code: str, error: str) -> RefusedOut:
        """requires: an open ask.  effects: records a refusal, with the code and message
        the request is answered with if it is the first."""
        if not is_declared(code):
            raise ValueError(f"a gate is refused with a declared code, not {code!r}")
        self._asked(gate, key).refusals.append({"error": error, "code": code})
        return {"gate": gate, "key": key, "code": code}

    async def hold(self, gate: str, key: str, by: str) -> HeldOut:
        """requires: an open ask.  effects: `by` takes the flow over: the gate neither
        passes nor answers (unless it is refused: a refusal wins)."""
        self._asked(gate, key).holders.append(by)
        return {"gate": gate, "key": key, "by": by}

    async def decide(self, gate: str, key: str) -> Passed | Held | Annotated[Error, ...]:
        """requires: an open ask.  effects: closes it: the first refusal (as an error), or
        held, or passed."""
        asked = self._open.pop((gate, key), None)
        if asked is None:
            raise LookupError(f"no open ask at gate {gate!r} for {key!r}")
        if asked.refusals:
            return asked.refusals[0]
        if asked.holders:
            return {"held": asked.holders[0]}
        return {"passed": gate}

    def _asked(self, gate: str, key: str) -> Ask:
        asked = self._open.get((gate, key))
        if asked is None:
            raise LookupError(f"no open ask at gate {gate!r} for {key!r}")
        return asked
