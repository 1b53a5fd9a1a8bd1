"""Password hashing: argon2id through passlib, off the event loop; passwords in one Unicode form."""

from __future__ import annotations

import asyncio
import os
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from passlib.context import CryptContext

T = TypeVar("T")

_WORKERS = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="argon2")
"""One pool per process, shared by every hasher: hashing is bound by the cores."""


def normalized(password: str) -> str:
    """The password in Unicode's NFKC form, the one hashed and checked (NIST SP 800-63B):
    "é" typed as one code point or as "e" and a combining accent, or a full-width letter
    and its ASCII one, are the same password, whatever keyboard or system typed it."""
    return unicodedata.normalize("NFKC", password)


class PasswordHasher:
    """Hashes and verifies passwords with argon2id in worker threads.

    There are as many workers as cores: more would not hash faster, only hold more
    argon2 memory (19 MiB each by default) at once. Verification reports when a
    stored hash used other parameters than the current ones, so the caller can store
    the re-hash (`verify_and_update`).
    """

    def __init__(self, *, memory_kib: int = 19456, time_cost: int = 2, parallelism: int = 1) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__memory_cost=memory_kib,
            argon2__rounds=time_cost,
            argon2__parallelism=parallelism,
        )
        self._dummy: str | None = None

    async def _off_loop(self, fn: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(_WORKERS, fn, *args)

    async def hash(self, password: str) -> str:
        return await self._off_loop(self._context.hash, password)

    async def verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one should be replaced)."""
        return await self._off_loop(self._context.verify_and_update, password, hashed)

    async def verify_nothing(self, password: str) -> None:
        """Spend one verification, as for a real user, so an unknown name costs the same time."""
        if self._dummy is None:
            self._dummy = await self.hash("not a real password, only here to spend time")
        await self.verify(password, self._dummy)
