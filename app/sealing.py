"""Secrets the database must keep but never show: encrypted with AES-256-GCM under a key
derived (HKDF-SHA256) from JWT_SECRET for one purpose, so a copy of the database
without the key reveals none of them.

Each sealed value is bound to a context (e.g. the id of the record holding it): it
opens only in that context, so a sealed value copied into another record is refused.
With JWT_SECRET_PREVIOUS set, values sealed under the previous key still open, and new
ones are sealed under the current one."""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
"""AES-GCM's standard nonce, random for each value: with 2^32 values per key the chance
of a repeated nonce stays below NIST's 2^-32 bound."""
TAG_BYTES = 16


def derive_key(secret: str, purpose: str) -> bytes:
    """A 256-bit key for `purpose` alone: the keys of two purposes say nothing of each other."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"concept-auth {purpose}".encode())
    return hkdf.derive(secret.encode())


class Sealer:
    """Seals with the first key; opens with any of them."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("sealing needs a key")
        self._ciphers = [AESGCM(key) for key in keys]

    @classmethod
    def for_purpose(cls, secrets: Sequence[str], purpose: str) -> Sealer:
        """A sealer whose keys are derived from `secrets` (the current one first)."""
        return cls([derive_key(secret, purpose) for secret in secrets])

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._ciphers[0].encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str | None:
        """The plaintext; None if no key opens it in this context (tampered, moved, or
        sealed under a key no longer configured)."""
        if not isinstance(sealed, bytes) or len(sealed) < NONCE_BYTES + TAG_BYTES:
            return None
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(nonce, ciphertext, context.encode()).decode()
            except InvalidTag:
                continue
        return None
