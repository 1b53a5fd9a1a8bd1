"""TwoFactor's state: each user's authenticator app (TOTP) secret and recovery codes."""

from __future__ import annotations

from datetime import datetime

from beanie import Document


class Factor(Document):
    """A user's second factor, keyed by the user (`_id`: one per user, by the `_id` index,
    and every read and write finds it by that index alone). The secrets are sealed
    (app.sealing, AES-256-GCM under a key of their own derived from JWT_SECRET, bound to
    the user), never stored in clear; the recovery codes are kept only as keyed hashes."""

    id: str  # type: ignore[assignment]
    active: bytes | None = None
    """The sealed secret in force; None while a first setup is only pending."""
    pending: bytes | None = None
    """The sealed secret of a setup not confirmed yet (the active one stays in force until it is)."""
    last_step: int = -1
    """The last 30-second step whose code was accepted: a code of that step or earlier is refused (a replay)."""
    recovery: list[str] = []
    """The unused recovery codes' HMAC-SHA256 (hex), under a key derived from JWT_SECRET."""
    enabled: datetime | None = None

    class Settings:
        name = "TwoFactor.factors"
