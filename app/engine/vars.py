"""Variables: the named placeholders a sync declares (its function's parameter names)."""

from __future__ import annotations

from typing import Any


class Var:
    """A sync variable. Frames are keyed by Var objects, so lookups are identity-fast."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


Frame = dict[Var, Any]
"""One consistent binding of a sync's variables to values."""


def bind(pattern: dict[str, Any], frame: Frame) -> dict[str, Any]:
    """Substitute a frame into a pattern; raises KeyError naming the first unbound Var."""
    return {key: frame[v] if isinstance(v, Var) else v for key, v in pattern.items()}
