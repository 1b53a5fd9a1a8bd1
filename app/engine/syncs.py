"""Sync declarations: when / where / then, written as data.

    @sync
    def LogoutRequest(request, session, user):
        return Sync(
            when=[(Requesting.request, {"path": "/logout", "session": session}, {"request": request})],
            where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user}),
            then=[(Sessioning.delete, {"session": session})],
        )

The function's parameter names are the sync's variables; `@sync` calls it once with
a `Var` per parameter and keeps the result, named after the function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, overload

from .plan import Plan
from .vars import Var

ActionRef = Callable[..., Any]
WhenPattern = tuple[ActionRef, dict[str, Any], dict[str, Any]]
ThenAction = tuple[ActionRef, dict[str, Any]]


@dataclass
class Sync:
    """A synchronization: the shape a sync function returns."""

    when: Sequence[WhenPattern]
    then: Sequence[ThenAction]
    where: Callable[[Plan], Plan] | None = None
    name: str = ""
    vars: tuple[Var, ...] = field(default=())
    doc: str | None = None

    def where_plan(self) -> Plan:
        """The where clause as a pipeline of steps (empty when there is none)."""
        return self.where(Plan()) if self.where else Plan()


SyncFunction = Callable[..., Sync]


@overload
def sync(fn: SyncFunction, /) -> Sync: ...


@overload
def sync(*, name: str | None = None) -> Callable[[SyncFunction], Sync]: ...


def sync(fn: SyncFunction | None = None, /, *, name: str | None = None) -> Sync | Callable[[SyncFunction], Sync]:
    """Declare a sync from a function whose parameters are its variables (`@sync`, or
    `@sync(name=...)` for a sync a factory makes per route)."""

    def declare(fn: SyncFunction) -> Sync:
        variables = tuple(Var(p) for p in inspect.signature(fn).parameters)
        declared = fn(*variables)
        declared.name = name or fn.__name__
        declared.vars = variables
        declared.doc = inspect.getdoc(fn)
        return declared

    return declare(fn) if fn is not None else declare


def syncs_in(*modules: ModuleType) -> list[Sync]:
    """Every Sync a module defines at top level (alone or in a list), in definition order;
    once, even if another module imports it."""
    found: dict[int, Sync] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Sync):
                found.setdefault(id(value), value)
            elif isinstance(value, list) and value and all(isinstance(item, Sync) for item in value):
                found.update((id(item), item) for item in value if id(item) not in found)
    return list(found.values())
