"""Matching a sync's `when` patterns against the completed records of one flow."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .concepts import ActionSpec
from .records import ActionRecord, Flow
from .vars import Frame, Var

_MISSING = object()


@dataclass(frozen=True)
class Pattern:
    """One `when` pattern, split into literals and variables for fast matching."""

    action: ActionSpec
    input_literals: tuple[tuple[str, Any], ...]
    input_vars: tuple[tuple[str, Var], ...]
    output_literals: tuple[tuple[str, Any], ...]
    output_vars: tuple[tuple[str, Var], ...]

    @classmethod
    def of(cls, action: ActionSpec, inputs: dict[str, Any], outputs: dict[str, Any]) -> Pattern:
        def split(pattern: dict[str, Any]) -> tuple[tuple[tuple[str, Any], ...], tuple[tuple[str, Var], ...]]:
            literals = tuple((k, v) for k, v in pattern.items() if not isinstance(v, Var))
            variables = tuple((k, v) for k, v in pattern.items() if isinstance(v, Var))
            return literals, variables

        return cls(action, *split(inputs), *split(outputs))

    def match(self, record: ActionRecord, frame: Frame) -> Frame | None:
        """The frame extended by this record, or None if the record does not fit."""
        output = record.output
        assert output is not None
        for values, literals in ((record.input, self.input_literals), (output, self.output_literals)):
            for key, literal in literals:
                if values.get(key, _MISSING) != literal:
                    return None
        extended = frame
        for values, variables in ((record.input, self.input_vars), (output, self.output_vars)):
            for key, var in variables:
                value = values.get(key, _MISSING)
                if value is _MISSING:
                    return None
                bound = extended.get(var, _MISSING)
                if bound is _MISSING:
                    if extended is frame:
                        extended = dict(frame)
                    extended[var] = value
                elif bound != value:
                    return None
        return extended


def match_all(patterns: tuple[Pattern, ...], trigger: ActionRecord, flow: Flow) -> list[Frame]:
    """Every consistent assignment of distinct completed records to the patterns,
    the trigger among them, using only records that completed no later than it
    (so a set of records fires a sync once: when the last of them completes).

    Identical patterns are interchangeable: the trigger takes the first of them and
    the others take their records in completion order, so no set of records is
    matched twice in different orders."""
    twins = any(pattern in patterns[:i] for i, pattern in enumerate(patterns))
    frames: list[Frame] = []
    for i, pattern in enumerate(patterns):
        if pattern.action is not trigger.action or (twins and pattern in patterns[:i]):
            continue
        frame = pattern.match(trigger, {})
        if frame is None:
            continue
        rest = patterns[:i] + patterns[i + 1 :]
        frames.extend(_extend(rest, frame, [trigger], [], flow, trigger.seq, twins))
    return frames


def _extend(
    patterns: tuple[Pattern, ...],
    frame: Frame,
    used: list[ActionRecord],
    assigned: list[tuple[Pattern, ActionRecord]],
    flow: Flow,
    before: int,
    twins: bool,
) -> Iterator[Frame]:
    if not patterns:
        yield frame
        return
    first, rest = patterns[0], patterns[1:]
    for record in flow.completed.get(first.action, ()):
        if record.seq >= before or any(record is u for u in used):
            continue
        if twins and any(p == first and r.seq > record.seq for p, r in assigned):
            continue
        extended = first.match(record, frame)
        if extended is not None:
            yield from _extend(rest, extended, [*used, record], [*assigned, (first, record)], flow, before, twins)
