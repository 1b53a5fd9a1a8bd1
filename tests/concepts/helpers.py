"""Shared pieces of the concept tests: cheap hashers, a hasher that counts, and the settings."""

from __future__ import annotations

from typing import Any

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
