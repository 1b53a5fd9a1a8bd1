"""Variables: the named placeholders a sync declares (its function's parameter names)."""

from __future__ import annotations

import json
from typing import Any


class Var:
    """A sync variable. A frame is keyed by Var objects, so lookups are identity-fast."""

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


def describe_value(value: Any) -> str:
    """A literal as the specification notation writes it (JSON, e.g. "/logout", null)."""
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def describe_pattern(pattern: dict[str, Any]) -> str:
    """`key` when bound to the variable of the same name, `key: var` or `key: literal` otherwise."""

    def one(key: str, value: Any) -> str:
        if isinstance(value, Var):
            return key if value.name == key else f"{key}: {value.name}"
        return f"{key}: {describe_value(value)}"

    return ", ".join(one(key, value) for key, value in pattern.items())
