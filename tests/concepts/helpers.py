"""Shared pieces of the concept tests: cheap hashers, a hasher that counts, a gated
collection, and the settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from beanie import Document

from app.concepts.user_authentication import PasswordHasher
from app.settings import Settings

SECRET = "k" * 64
"""A fixed signing key (>= 32 bytes), so tokens outlive one engine."""

OTHER_SECRET = "o" * 64


def fast_hasher() -> PasswordHasher:
    """Argon2id at its cheapest useful cost: for tests that are not about hashing."""
    return PasswordHasher(memory_kib=1024, time_cost=1)


class CountingHasher(PasswordHasher):
    """A real hasher that records which hashes it was asked to verify (not a mock)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verified: list[str] = []
        self.verified_nothing = 0

    async def verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        self.verified.append(hashed)
        return await super().verify(password, hashed)

    async def verify_nothing(self, password: str) -> None:
        self.verified_nothing += 1
        await super().verify_nothing(password)

    def reset(self) -> None:
        self.verified.clear()
        self.verified_nothing = 0


def make_settings(**overrides: Any) -> Settings:
    """Settings independent of the environment and of any .env file, with cheap hashing."""
    values: dict[str, Any] = {
        "jwt_secret": SECRET,
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Held:
    """A gate that holds whoever reaches it until the test lets it go: `reached` says
    someone is waiting at it."""

    def __init__(self) -> None:
        self.reached, self.released = asyncio.Event(), asyncio.Event()

    async def wait(self) -> None:
        self.reached.set()
        await self.released.wait()


class GatedCollection:
    """A document's real collection whose `method` (e.g. "delete_one") waits at a gate:
    a barrier of `parties` calls forces the interleaving in which every concurrent caller
    has done its reads before any of them writes; a `Held` gate holds it for the test.

    A race test that passes without its race proves nothing: every gate installed in a
    test must be reached (by all its parties) before the test ends, or the test fails
    (`installed`, checked by the tests' conftest)."""

    installed: ClassVar[list[GatedCollection]] = []

    def __init__(
        self, collection: Any, method: str, gate: asyncio.Barrier | Held, counted: GatedCollection | None = None
    ) -> None:
        self.collection, self.method, self.gate = collection, method, gate
        self.counted = counted or self  # the installed one: with_options' copies count there
        self.arrived = 0

    def reached(self) -> bool:
        if isinstance(self.gate, Held):
            return self.gate.reached.is_set()
        return self.arrived >= self.gate.parties

    def __repr__(self) -> str:
        parties = "a held gate" if isinstance(self.gate, Held) else f"{self.gate.parties} parties"
        return f"{self.collection.name}.{self.method} ({parties}, reached by {self.arrived} calls)"

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.collection, name)
        if name == "with_options":  # the same collection with another write concern: still gated
            return lambda *args, **kwargs: GatedCollection(
                attribute(*args, **kwargs), self.method, self.gate, self.counted
            )
        if name != self.method:
            return attribute

        async def gated(*args: Any, **kwargs: Any) -> Any:
            self.counted.arrived += 1
            async with asyncio.timeout(60):  # a guard against a hang, not a timing assertion
                await self.gate.wait()
            return await attribute(*args, **kwargs)

        return gated

    @classmethod
    def install(
        cls, monkeypatch: pytest.MonkeyPatch, document: type[Document], method: str, parties: int | Held
    ) -> None:
        """Route `document`'s collection through a gate for `parties` calls of `method`
        (or through a `Held` gate)."""
        collection = document.get_pymongo_collection()
        gated = cls(collection, method, parties if isinstance(parties, Held) else asyncio.Barrier(parties))
        monkeypatch.setattr(document, "get_pymongo_collection", classmethod(lambda _: gated))
        cls.installed.append(gated)


class StillClock:
    """A clock that stands still at `now` until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


def ticking_clock(behind: timedelta = timedelta(0)) -> Callable[[], datetime]:
    """A clock that is a second later at every reading: concurrent actions never share
    a time, so a write that should not happen is never hidden as a no-op. Started
    `behind` the real time, its sessions' tokens are not issued in the future (which
    token decoding refuses)."""
    start = datetime.now(UTC).replace(microsecond=0) - behind
    readings = iter(range(1_000_000))
    return lambda: start + timedelta(seconds=next(readings))
