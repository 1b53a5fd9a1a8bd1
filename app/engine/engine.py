"""The engine: runs actions, records them in flows, and fires the syncs they match."""

from __future__ import annotations

import inspect
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .concepts import ActionSpec, QuerySpec, class_members, concept_name, is_query, read_actions, read_query
from .errors import FlowError, SyncDeclarationError
from .matching import Pattern, match_all
from .observers import Observer
from .plan import Plan, Query, Without, maybe_await
from .records import ActionRecord, Flow
from .syncs import Sync
from .tracing import Trace, format_record, logger
from .vars import Frame, Var, bind


@dataclass(eq=False)
class CompiledSync:
    """A registered sync: its patterns resolved to actions, its where as a plan."""

    index: int
    sync: Sync
    patterns: tuple[Pattern, ...]
    plan: Plan
    then: tuple[tuple[ActionSpec, dict[str, Any]], ...]

    @property
    def name(self) -> str:
        return self.sync.name


class _ActionIndex:
    """The syncs whose `when` mentions one action, indexed by their literal inputs,
    so a completion only tries syncs that can match it (e.g. one request path)."""

    def __init__(self) -> None:
        self.any: list[CompiledSync] = []
        self.by_literal: dict[tuple[str, Any], list[CompiledSync]] = {}
        self.keys: list[str] = []

    def add(self, compiled: CompiledSync, pattern: Pattern) -> None:
        for key, literal in pattern.input_literals:
            try:
                self.by_literal.setdefault((key, literal), []).append(compiled)
            except TypeError:
                continue
            if key not in self.keys:
                self.keys.append(key)
            return
        self.any.append(compiled)

    def candidates(self, record: ActionRecord) -> list[CompiledSync]:
        found = list(self.any)
        for key in self.keys:
            value = record.input.get(key)
            try:
                found.extend(self.by_literal.get((key, value), ()))
            except TypeError:
                continue
        if len(found) > 1:
            found = sorted(dict.fromkeys(found), key=lambda c: c.index)
        return found


class Engine:
    """Concepts and syncs, wired together.

    `run()` invokes an action as the start of a new flow and returns the flow once
    it is quiescent: every sync the action triggered, transitively, has fired.

    The syncs one completion triggers are all matched, and their `where` evaluated,
    against the state as it is at that completion; then they fire, in registration
    order. So a sync's decision never depends on what a sibling's cascade did first
    (e.g. a response sync cannot see the sessions another sync just revoked).
    """

    def __init__(
        self, *, trace: Trace | str = Trace.OFF, recent_flows: int = 100, observer: Observer | None = None
    ) -> None:
        self.trace = Trace(trace)
        self.recent: deque[Flow] = deque(maxlen=recent_flows)
        self.concepts: dict[str, object] = {}
        self.syncs: list[CompiledSync] = []
        self.secrets: set[str] = set()
        self._actions: dict[Callable[..., Any], ActionSpec] = {}
        self._instances: dict[ActionSpec, object] = {}
        self._queries: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._query_specs: dict[Callable[..., Any], QuerySpec] = {}
        self._index: dict[ActionSpec, _ActionIndex] = {}
        self.observer = observer

    # -- registration ---------------------------------------------------------

    def register(self, *concepts: object) -> None:
        """Register concept instances: their actions become instrumented."""
        for concept in concepts:
            name = concept_name(concept)
            if name in self.concepts:
                raise ValueError(f"concept {name} is registered twice")
            self.concepts[name] = concept
            cls = type(concept)
            for spec in read_actions(cls):
                self._actions[spec.fn] = spec
                self._instances[spec] = concept
                self.secrets |= spec.secrets
                setattr(concept, spec.name, self._instrumented(spec))
            for attr, fn in class_members(cls).items():
                if is_query(attr) and callable(fn):
                    self._queries[fn] = getattr(concept, attr)
                    self._query_specs[fn] = read_query(cls, attr, fn)

    def _instrumented(self, spec: ActionSpec) -> Callable[..., Any]:
        async def invoke(**input: Any) -> dict[str, Any]:
            flow = await self.run(spec.fn, input)
            assert flow.root.output is not None
            return flow.root.output

        invoke.__name__ = spec.name
        invoke.__doc__ = spec.fn.__doc__
        return invoke

    def add_syncs(self, syncs: Iterable[Sync]) -> None:
        """Check and index syncs; raises SyncDeclarationError naming the broken one
        (and then adds none of them)."""
        names = {c.name for c in self.syncs}
        compiled_syncs: list[CompiledSync] = []
        for sync in syncs:
            if sync.name in names:
                raise SyncDeclarationError(f"sync {sync.name}: a sync with this name is already registered")
            names.add(sync.name)
            compiled_syncs.append(self._compile(sync, len(self.syncs) + len(compiled_syncs)))
        for compiled in compiled_syncs:
            self.syncs.append(compiled)
            for pattern in compiled.patterns:
                self._index.setdefault(pattern.action, _ActionIndex()).add(compiled, pattern)

    def _action(self, sync: Sync, where: str, ref: Callable[..., Any]) -> ActionSpec:
        spec = self._actions.get(ref)
        if spec is not None:
            return spec
        label = getattr(ref, "__qualname__", repr(ref))
        if is_query(getattr(ref, "__name__", "")):
            raise SyncDeclarationError(f"sync {sync.name}: {where} names {label}, a query, not an action")
        raise SyncDeclarationError(
            f"sync {sync.name}: {where} names {label}, which is not an action of a registered concept"
        )

    def _compile(self, sync: Sync, index: int) -> CompiledSync:
        if not sync.when:
            raise SyncDeclarationError(f"sync {sync.name}: `when` has no pattern")
        patterns = []
        bound: set[Var] = set()
        for i, (ref, inputs, outputs) in enumerate(sync.when):
            where = f"when pattern {i + 1}"
            spec = self._action(sync, where, ref)
            where = f"{where} ({spec.qualname})"
            _check_keys(sync, where, spec, inputs, outputs)
            patterns.append(Pattern.of(spec, inputs, outputs))
            for pattern in (inputs, outputs):
                bound |= {v for v in pattern.values() if isinstance(v, Var)}
        try:
            plan = sync.where_plan()
        except Exception as exc:
            raise SyncDeclarationError(f"sync {sync.name}: `where` is not a pipeline of steps: {exc}") from exc
        if not isinstance(plan, Plan):
            raise SyncDeclarationError(
                f"sync {sync.name}: `where` returned {type(plan).__name__}, not the plan it was given with "
                "steps chained on (frames.query(...).filter(...))"
            )
        for i, step in enumerate(plan.steps):
            if isinstance(step, Query | Without):
                self._check_query(sync, f"where step {i + 1}", step)
        bound |= plan.binds()
        then = []
        for i, (ref, inputs) in enumerate(sync.then):
            where = f"then action {i + 1}"
            spec = self._action(sync, where, ref)
            where = f"{where} ({spec.qualname})"
            _check_keys(sync, where, spec, inputs, {})
            for key, value in inputs.items():
                if isinstance(value, Var) and value not in bound:
                    raise SyncDeclarationError(
                        f"sync {sync.name}: {where}: input key {key!r} uses variable {value.name!r}, "
                        "which neither `when` nor `where` binds"
                    )
            missing = _required(spec) - inputs.keys()
            if missing:
                raise SyncDeclarationError(
                    f"sync {sync.name}: {where}: missing required input(s) {', '.join(sorted(missing))}"
                )
            then.append((spec, dict(inputs)))
        return CompiledSync(index, sync, tuple(patterns), plan, tuple(then))

    def _check_query(self, sync: Sync, where: str, step: Query | Without) -> None:
        """The keys a where step gives a query and reads of its rows are its parameters and row keys."""
        spec = self._query_specs.get(step.fn)
        if spec is None:
            raise SyncDeclarationError(
                f"sync {sync.name}: {where} queries {getattr(step.fn, '__qualname__', step.fn)}, "
                "which is not a query of a registered concept"
            )
        where = f"{where} ({spec.qualname})"
        if not spec.open_inputs:
            for key in step.inputs:
                if key not in spec.params:
                    raise SyncDeclarationError(
                        f"sync {sync.name}: {where}: input key {key!r} is not a parameter of {spec.qualname} "
                        f"(parameters: {', '.join(sorted(spec.params)) or 'none'})"
                    )
        if spec.rows is None or isinstance(step, Without):
            return
        for key in [*step.outputs, *(step.default or {})]:
            if key not in spec.rows:
                raise SyncDeclarationError(
                    f"sync {sync.name}: {where}: output key {key!r} is not a key of {spec.qualname}'s rows "
                    f"(keys: {', '.join(sorted(spec.rows))})"
                )

    # -- running ----------------------------------------------------------------

    @property
    def actions(self) -> list[ActionSpec]:
        """Every instrumented action, in registration order."""
        return list(self._instances)

    def action(self, ref: Callable[..., Any]) -> ActionSpec:
        spec = self._actions.get(ref)
        if spec is None:
            raise KeyError(f"{getattr(ref, '__qualname__', ref)} is not a registered action")
        return spec

    async def run(self, ref: Callable[..., Any], input: dict[str, Any], *, flow: Flow | None = None) -> Flow:
        """Invoke an action as a new flow; return the flow once it is quiescent.

        Raises FlowError (with the flow and the failing sync) if an action or a
        where clause raised; the flow is finished and recorded either way. A caller
        that must watch the flow while it runs (e.g. under a timeout) passes it in.
        """
        flow = flow if flow is not None else Flow()
        try:
            await self.invoke(ref, input, flow)
        finally:
            self.finish(flow)
        return flow

    async def invoke(self, ref: Callable[..., Any], input: dict[str, Any], flow: Flow) -> dict[str, Any]:
        """Invoke an action at the top of `flow`, with its whole cascade; its output. One
        flow may hold several such invocations (a gate, then a request); `finish` ends it."""
        try:
            record = await self._invoke(self.action(ref), dict(input), flow, None)
        except FlowError as error:
            flow.error = error
            raise
        assert record.output is not None
        return record.output

    def finish(self, flow: Flow) -> None:
        """The flow is quiescent: keep it among the recent ones."""
        flow.quiescent = True
        flow.ms = (time.time() - flow.started) * 1000
        self.recent.append(flow)

    async def _invoke(
        self, spec: ActionSpec, input: dict[str, Any], flow: Flow, sync: str | None, cause: int | None = None
    ) -> ActionRecord:
        record = flow.start(spec, input, sync, cause)
        try:
            output = await spec.fn(self._instances[spec], **input)
            if not isinstance(output, dict):
                raise TypeError(f"{spec.qualname} returned {type(output).__name__}, not a dict")
            if spec.errors is not None and "error" in output and output.get("code") not in spec.errors:
                raise ValueError(
                    f"{spec.qualname} answered code {output.get('code')!r}, which it does not declare "
                    f"(declares: {', '.join(sorted(spec.errors))})"
                )
        except Exception as exc:
            raise FlowError(flow, sync, spec.qualname, exc) from exc
        flow.complete(record, output)
        if self.observer is not None:
            self.observer.action_completed(record)
        if self.trace is not Trace.OFF:
            logger.debug("%s", format_record(record, flow, self.secrets))
        index = self._index.get(spec)
        if index is None:
            return record
        firing = []
        for compiled in index.candidates(record):
            frames = await self._frames(compiled, record, flow)
            if frames:
                firing.append((compiled, frames))
        for compiled, frames in firing:
            await self._fire(compiled, frames, record, flow)
        return record

    async def _frames(self, compiled: CompiledSync, trigger: ActionRecord, flow: Flow) -> list[Frame]:
        """The frames a sync fires with for this completion: its matches, through its where."""
        frames = match_all(compiled.patterns, trigger, flow)
        if frames and compiled.plan.steps:
            try:
                frames = await compiled.plan.run(frames, self._resolver(flow))
            except Exception as exc:
                raise FlowError(flow, compiled.name, f"where of sync {compiled.name}", exc) from exc
        return frames

    async def _fire(self, compiled: CompiledSync, frames: list[Frame], trigger: ActionRecord, flow: Flow) -> None:
        if self.observer is not None:
            self.observer.sync_fired(compiled.name)
        for frame in frames:
            for spec, pattern in compiled.then:
                try:
                    input = bind(pattern, frame)
                except KeyError as missing:
                    error = NameError(f"sync {compiled.name}: variable {missing.args[0]!r} is unbound in `then`")
                    raise FlowError(flow, compiled.name, spec.qualname, error) from error
                await self._invoke(spec, input, flow, compiled.name, trigger.seq)

    def _resolver(self, flow: Flow) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]:
        """Queries as a where step calls them: through the flow's memo of query results."""

        def resolve(ref: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
            query = self._queries[ref]

            async def call(**inputs: Any) -> Any:
                try:
                    key = (ref, *inputs.items())
                    rows = flow.queries.get(key)
                except TypeError:
                    return await maybe_await(query(**inputs))
                if rows is None:
                    rows = flow.queries[key] = await maybe_await(query(**inputs))
                return rows

            return call

        return resolve

    def find_flow(self, flow_id: str) -> Flow | None:
        return next((flow for flow in self.recent if flow.id == flow_id), None)


def _check_keys(sync: Sync, where: str, spec: ActionSpec, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    if not spec.open_inputs:
        for key in inputs:
            if key not in spec.params:
                raise SyncDeclarationError(
                    f"sync {sync.name}: {where}: input key {key!r} is not a parameter of {spec.qualname} "
                    f"(parameters: {', '.join(sorted(spec.params)) or 'none'})"
                )
    for key in outputs:
        if key not in spec.outputs:
            raise SyncDeclarationError(
                f"sync {sync.name}: {where}: output key {key!r} is not an output of {spec.qualname} "
                f"(outputs: {', '.join(sorted(spec.outputs))})"
            )


def _required(spec: ActionSpec) -> set[str]:
    parameters = inspect.signature(spec.fn).parameters.values()
    return {
        p.name
        for p in parameters
        if p.name != "self" and p.default is p.empty and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
