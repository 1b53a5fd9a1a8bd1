"""Forcing interleavings: a gate holds one step of an action (a password hash or a
check) after the action has read what it reads and before it writes, until the
test opens it. So a race test does not hope for the bad interleaving: it makes it.

Hashing is the natural place: `authenticate` and `changePassword` verify a password
between reading the user and acting on what they read, `changePassword` and
`register` hash one before writing it. A gate also counts the calls it sees, which
is how tests count the passwords actually checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.concepts.user_authentication import PasswordHasher

PATIENCE = 60.0
"""Seconds a test waits for an interleaving before failing (a guard against hanging, not a timing assertion)."""


class Gate:
    """Counts the calls through it and holds the first `hold` of them (all, if None) until opened."""

    def __init__(self, hold: int | None = None) -> None:
        self.hold = hold
        self.calls = 0
        self.held = 0
        self._opened = asyncio.Event()
        self._changed = asyncio.Condition()

    async def through(self) -> None:
        self.calls += 1
        if self.hold is not None and self.held >= self.hold:
            return
        if self._opened.is_set():
            return
        self.held += 1
        async with self._changed:
            self._changed.notify_all()
        await self._opened.wait()

    async def holding(self, count: int) -> None:
        """Wait until `count` calls are held at the gate."""

        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.held >= count)

        await asyncio.wait_for(reached(), PATIENCE)

    def open(self) -> None:
        """Let the held calls (and every later one) through."""
        self._opened.set()


def gate_hasher(monkeypatch: pytest.MonkeyPatch, method: str, gate: Gate) -> Gate:
    """Route every `PasswordHasher.<method>` (verify or hash) through `gate`."""
    original: Callable[..., Awaitable[Any]] = getattr(PasswordHasher, method)

    async def gated(self: PasswordHasher, *args: str) -> Any:
        await gate.through()
        return await original(self, *args)

    monkeypatch.setattr(PasswordHasher, method, gated)
    return gate


def counting_hasher(monkeypatch: pytest.MonkeyPatch, method: str = "verify") -> Gate:
    """A gate that holds nothing: it only counts the calls (e.g. passwords checked)."""
    gate = Gate(hold=0)
    return gate_hasher(monkeypatch, method, gate)


async def first_done(tasks: list[asyncio.Task[Any]], count: int) -> None:
    """Wait until `count` of the tasks have finished."""

    async def reached() -> None:
        while sum(task.done() for task in tasks) < count:
            await asyncio.wait([task for task in tasks if not task.done()], return_when=asyncio.FIRST_COMPLETED)

    await asyncio.wait_for(reached(), PATIENCE)
