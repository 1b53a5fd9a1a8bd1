"""Plan: the `where` clause of a sync, declared as a pipeline of steps.

A sync's `where` is a function from a Plan to a Plan. It is called once, when the
sync is registered, with an empty plan, and the steps it chains are kept as data, so
the engine can check and print them and runs them on the frames of each match:

    where=lambda frames: frames.query(Sessioning._getUser, {"session": session}, {"user": user})

So `where` is not code run per match: it cannot loop over frames or branch on their
values (a comprehension over the plan is refused when the sync is declared). What
varies per frame goes in a step: `filter`, `map`, or a query.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from .vars import Frame, Var, bind, describe_pattern

QueryFn = Callable[..., Any]
Resolve = Callable[[QueryFn], Callable[..., Any]]


class Step(Protocol):
    """One stage of a where pipeline."""

    @property
    def binds(self) -> tuple[Var, ...]: ...

    async def run(self, frames: list[Frame], resolve: Resolve) -> list[Frame]: ...

    def describe(self) -> str: ...


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _label(fn: Callable[..., Any]) -> str:
    """What a filter or map does: its docstring's first line, else its name."""
    return fn.__doc__.strip().splitlines()[0] if fn.__doc__ else getattr(fn, "__name__", "?")


@dataclass(frozen=True)
class Query:
    """Call a concept query per frame; one new frame per row (none: drop, or `default`)."""

    fn: QueryFn
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    default: dict[str, Any] | None = None
    into: Var | None = None

    @property
    def binds(self) -> tuple[Var, ...]:
        if self.into is not None:
            return (self.into,)
        return tuple(value for value in self.outputs.values() if isinstance(value, Var))

    async def run(self, frames: list[Frame], resolve: Resolve) -> list[Frame]:
        query = resolve(self.fn)
        result: list[Frame] = []
        for frame in frames:
            rows = await maybe_await(query(**bind(self.inputs, frame)))
            if self.into is not None:
                result.append({**frame, self.into: [dict(row) for row in rows]})
                continue
            if not rows and self.default is not None:
                rows = [self.default]
            for row in rows:
                extended = dict(frame)
                for key, value in self.outputs.items():
                    found = row[key]
                    if not isinstance(value, Var):
                        if found != value:
                            break
                    elif value in extended and extended[value] != found:
                        break
                    else:
                        extended[value] = found
                else:
                    result.append(extended)
        return result

    def describe(self) -> str:
        outputs = f" : ({describe_pattern(self.outputs)})" if self.outputs else ""
        text = f"{self.fn.__qualname__} ({describe_pattern(self.inputs)}){outputs}"
        if self.into is not None:
            text += f" into {self.into.name}"
        if self.default is not None:
            text += f" or else ({describe_pattern(self.default)})"
        return text


@dataclass(frozen=True)
class Without:
    """Keep the frames for which a concept query has no rows (negation: "there is no ...")."""

    fn: QueryFn
    inputs: dict[str, Any]
    binds: tuple[Var, ...] = ()

    async def run(self, frames: list[Frame], resolve: Resolve) -> list[Frame]:
        query = resolve(self.fn)
        return [frame for frame in frames if not await maybe_await(query(**bind(self.inputs, frame)))]

    def describe(self) -> str:
        return f"no {self.fn.__qualname__} ({describe_pattern(self.inputs)})"


@dataclass(frozen=True)
class Filter:
    """Keep the frames for which a predicate (sync or async) holds."""

    predicate: Callable[[Frame], bool | Awaitable[bool]]
    binds: tuple[Var, ...] = ()

    async def run(self, frames: list[Frame], resolve: Resolve) -> list[Frame]:
        return [frame for frame in frames if await maybe_await(self.predicate(frame))]

    def describe(self) -> str:
        return f"filter {_label(self.predicate)}"


@dataclass(frozen=True)
class Map:
    """Replace each frame by what a function (sync or async) returns for it."""

    fn: Callable[[Frame], Frame | Awaitable[Frame]]
    binds: tuple[Var, ...] = ()

    async def run(self, frames: list[Frame], resolve: Resolve) -> list[Frame]:
        return [await maybe_await(self.fn(frame)) for frame in frames]

    def describe(self) -> str:
        return f"map {_label(self.fn)}"


@dataclass(frozen=True)
class CollectAs:
    """Group frames by their other variables, gathering `collected` into a list."""

    collected: tuple[Var, ...]
    into: Var

    @property
    def binds(self) -> tuple[Var, ...]:
        return (self.into,)

    async def run(self, frames: list[Frame], resolve: Resolve) -> list[Frame]:
        groups: dict[tuple[tuple[Var, Any], ...], Frame] = {}
        for frame in frames:
            rest = tuple(sorted(((v, value) for v, value in frame.items() if v not in self.collected), key=_by_name))
            key = tuple((v, _hashable(value)) for v, value in rest)
            group = groups.setdefault(key, {**dict(rest), self.into: []})
            group[self.into].append({v.name: frame[v] for v in self.collected})
        return list(groups.values())

    def describe(self) -> str:
        return f"collect ({', '.join(v.name for v in self.collected)}) as {self.into.name}"


def _by_name(item: tuple[Var, Any]) -> str:
    return item[0].name


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class Plan:
    """A where pipeline: each method returns a new plan with one more step."""

    __slots__ = ("steps",)

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self.steps: tuple[Step, ...] = tuple(steps)

    def _then(self, step: Step) -> Plan:
        return Plan((*self.steps, step))

    def query(
        self,
        query: QueryFn,
        inputs: dict[str, Any],
        outputs: dict[str, Any] | None = None,
        *,
        default: dict[str, Any] | None = None,
        into: Var | None = None,
    ) -> Plan:
        """Extend each frame with each row of `query`: `outputs` maps row keys to the
        variables they bind (a literal instead keeps only the rows with that value).

        With `default`, a frame whose query has no rows continues with that row
        instead of being dropped (the "zero matches" case: answer with a default).
        With `into` (and no `outputs`), the rows themselves, keyed by the query's own
        keys, are gathered as a list bound to `into` (empty when there are none), so
        the frame is never dropped.
        """
        if into is not None and outputs:
            raise TypeError(
                "a query `into` a variable collects whole rows, keyed by the query's own keys: give it no outputs"
            )
        return self._then(Query(query, inputs, outputs or {}, default, into))

    def without(self, query: QueryFn, inputs: dict[str, Any]) -> Plan:
        """Keep the frames for which `query` returns no rows."""
        return self._then(Without(query, inputs))

    def filter(self, predicate: Callable[[Frame], bool | Awaitable[bool]]) -> Plan:
        return self._then(Filter(predicate))

    def map(self, fn: Callable[[Frame], Frame | Awaitable[Frame]], binds: Iterable[Var] = ()) -> Plan:
        """Transform each frame; `binds` names the variables `fn` adds (for the start-up checks)."""
        return self._then(Map(fn, tuple(binds)))

    def collect_as(self, collected: Iterable[Var], into: Var) -> Plan:
        return self._then(CollectAs(tuple(collected), into))

    async def run(self, frames: list[Frame], resolve: Resolve) -> list[Frame]:
        for step in self.steps:
            if not frames:
                break
            frames = await step.run(frames, resolve)
        return frames

    def __iter__(self) -> NoReturn:
        raise TypeError(
            "a where clause is a plan of steps, declared once and run on each match's frames: chain steps "
            "(frames.query(...).filter(...)) instead of iterating"
        )

    def binds(self) -> set[Var]:
        return {var for step in self.steps for var in step.binds}

    def describe(self) -> list[str]:
        return [step.describe() for step in self.steps]
