"""Sealing: secrets kept encrypted under a key derived from JWT_SECRET, bound to their
record, still opened after a key rotation, never after the key is replaced."""

from __future__ import annotations

from app.sealing import Sealer, derive_key

CURRENT, PREVIOUS = "c" * 64, "p" * 64


def test_a_sealed_value_opens_in_its_context_only() -> None:
    sealer = Sealer.for_purpose([CURRENT], "mail tokens")

    sealed = sealer.seal("the token", "mail 1")

    assert b"the token" not in sealed
    assert sealer.open(sealed, "mail 1") == "the token"
    assert sealer.open(sealed, "mail 2") is None


def test_each_sealing_differs_and_tampering_is_refused() -> None:
    sealer = Sealer.for_purpose([CURRENT], "mail tokens")

    first, second = sealer.seal("the token", "m"), sealer.seal("the token", "m")

    assert first != second
    tampered = first[:-1] + bytes([first[-1] ^ 1])
    assert sealer.open(tampered, "m") is None
    assert sealer.open(b"short", "m") is None


def test_after_a_rotation_old_values_open_and_new_ones_use_the_new_key() -> None:
    before = Sealer.for_purpose([PREVIOUS], "mail tokens")
    rotated = Sealer.for_purpose([CURRENT, PREVIOUS], "mail tokens")
    sealed_before = before.seal("old", "m")

    assert rotated.open(sealed_before, "m") == "old"
    assert before.open(rotated.seal("new", "m"), "m") is None
    assert Sealer.for_purpose([CURRENT], "mail tokens").open(sealed_before, "m") is None  # the key replaced


def test_each_purpose_has_its_own_key() -> None:
    assert derive_key(CURRENT, "mail tokens") != derive_key(CURRENT, "totp secrets")
    assert len(derive_key(CURRENT, "mail tokens")) == 32
    sealed = Sealer.for_purpose([CURRENT], "mail tokens").seal("x", "m")
    assert Sealer.for_purpose([CURRENT], "totp secrets").open(sealed, "m") is None
