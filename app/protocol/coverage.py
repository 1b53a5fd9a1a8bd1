"""The start-up check of the syncs against the routes they answer.

The engine checks each sync on its own (actions, keys, bound variables). This checks
them together, against the routes' contracts, and refuses to start, naming the sync,
route, action and key, when:

- a `when` pattern on the request action names a path no route declares, or a key
  that route does not take (besides those the API layer gives every request); a
  pattern without a path (a sync on every request) names only those;
- a sync responds with keys that are not exactly one of its route's outputs, or the
  error shape `{error, code}`;
- a sync answers a code its route does not declare: a literal `code`, or the codes of
  an action's error it passes on (which the action must declare);
- a route is not answered: see the walk below;
- two syncs are both certain to respond to the same outcome;
- a guard (a sync on `Gating.ask` at a gate) refuses with a code nobody declared, or
  one the check cannot read (refuse with a literal code).

Gates. A gate's refusals answer the routes that pass it with the guards' codes: these
codes join those routes' contracts (printed by `python -m app routes`), so a rule added
later adds its code without editing the route. A hold is answered by its holder's syncs
(walked from the ask, like any guard's), so the gate's `held` outcome needs no answer.

The walk. Each route's flow is imagined as a tree of *events*, an event being an
action completing with one of its output variants (each TypedDict of its return type,
errors too), starting from the request. At each event, the syncs that can fire are
those with a pattern that fits it and whose other patterns fit events earlier on the
same branch. An event is *answered* when one of them responds, or invokes an action
whose outcome some sync follows: every variant of that action is then an event to
walk. An action whose outcome no sync follows (counting a failure, say) is a side
effect and needs no answer. An action followed by another in the same `then` needs no
answer either: the flow goes on with the next. A branch that repeats an event, or grows
longer than MAX_STEPS, is assumed to end.

A sync with a `where`, or a literal in a pattern (besides a request's path), may not
fire when its patterns fit: the walk assumes it does, and lists it as *conditional*.
The handler's "no sync responded" answer stays the net for those; a second response
fails the flow in development and tests (Requesting's strict mode).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.engine.concepts import ActionSpec
from app.engine.engine import CompiledSync, Engine
from app.engine.errors import SyncDeclarationError
from app.engine.matching import Pattern
from app.engine.vars import Var

from . import codes
from .gates import REQUEST_GATE
from .routes import Route

MAX_STEPS = 12
"""The longest branch the walk follows; our longest flow (a login) has 7 steps."""

ERROR_SHAPE = frozenset({"error", "code"})
HELD = frozenset({"held"})


@dataclass(frozen=True)
class Gating:
    """The actions of the Gating concept, which the check understands."""

    ask: ActionSpec
    refuse: ActionSpec
    hold: ActionSpec
    decide: ActionSpec


@dataclass(frozen=True)
class Event:
    """An action completing with one of its output variants, as the walk imagines it."""

    action: ActionSpec
    variant: str
    keys: frozenset[str]
    path: str | None = None  # a request's path

    def describe(self) -> str:
        if self.path is not None:
            return f"{self.action.qualname} ({self.path})"
        return f"{self.action.qualname} => {{{', '.join(sorted(self.keys))}}} ({self.variant})"


@dataclass(frozen=True)
class Guard:
    """A sync on `Gating.ask` at a gate: the route it watches (None: every route that
    passes the gate), the codes it refuses with, whether it holds."""

    name: str
    gate: str
    path: str | None
    codes: tuple[str, ...]
    holds: bool

    def watches(self, gate: str, path: str) -> bool:
        return self.gate == gate and self.path in (None, path)


@dataclass
class Coverage:
    """What the check found for one route: the syncs that fire on each outcome, the
    codes it can answer (and who answers them), the guards at its gates, the syncs it
    assumed fire, and the problems."""

    route: Route
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, list[str]] = field(default_factory=dict)
    gates: dict[str, list[str]] = field(default_factory=dict)
    conditional: set[str] = field(default_factory=set)
    cut: set[str] = field(default_factory=set)
    """The syncs past which the walk stopped: a cycle, or MAX_STEPS."""
    problems: list[str] = field(default_factory=list)

    def answer(self, code: str, by: str) -> None:
        answered = self.codes.setdefault(code, [])
        if by not in answered:
            answered.append(by)

    @property
    def domain_codes(self) -> list[str]:
        """The codes it can answer that are data (a GraphQL `UserError`), not request-level."""
        return [code for code in self.codes if not codes.request_level(code)]


class RouteCheck:
    def __init__(
        self,
        engine: Engine,
        routes: Iterable[Route],
        *,
        request: ActionSpec,
        respond: ActionSpec,
        implicit: Collection[str],
        gating: Gating | None = None,
    ) -> None:
        self.engine = engine
        self.routes = {route.path: route for route in routes}
        self.request = request
        self.respond = respond
        self.implicit = implicit
        self.gating = gating
        self.guards: list[Guard] = []

    # -- the guards at the gates ------------------------------------------------------------

    def guard_problems(self) -> list[str]:
        """Find every guard, and what is wrong with any."""
        if self.gating is None:
            return []
        problems = []
        for compiled in self.engine.syncs:
            patterns = list(zip(compiled.patterns, (inputs for _, inputs, _ in compiled.sync.when), strict=True))
            asks = [(i + 1, inputs) for i, (p, inputs) in enumerate(patterns) if p.action is self.gating.ask]
            if not asks or not isinstance(asks[0][1].get("gate"), str):
                continue
            index, asked = asks[0]
            paths = [inputs.get("path") for p, inputs in patterns if p.action is self.request] + [asked.get("path")]
            path = next((path for path in paths if isinstance(path, str)), None)
            if asked["gate"] == REQUEST_GATE and path in self.routes:
                problems += self._gate_pattern(compiled, index, asked, self.routes[path])
            found: list[str] = []
            holds = False
            for spec, inputs in compiled.then:
                holds = holds or spec is self.gating.hold
                if spec is self.gating.refuse:
                    problems += self._refusal(compiled, spec, inputs.get("code"), found)
            if holds and not self._answers(compiled):
                problems.append(
                    f"sync {compiled.name}: it holds gate {asked['gate']!r}, so it answers the request: respond in "
                    "its `then`, or invoke an action whose outcome a sync follows"
                )
            self.guards.append(Guard(compiled.name, asked["gate"], path, tuple(found), holds))
        return problems

    def _gate_pattern(self, compiled: CompiledSync, index: int, asked: dict[str, Any], route: Route) -> list[str]:
        """A request gate's subject is the request: its keys are the route's inputs."""
        allowed = route.keys | set(self.implicit) | {"gate", "key", "path"}
        where = f"sync {compiled.name}: when pattern {index} ({self.gating.ask.qualname if self.gating else ''})"
        return [
            f"{where}: input key {key!r} is not an input of route {route.path} "
            f"(inputs: {', '.join(i.name for i in route.inputs) or 'none'}; every request also has "
            f"{', '.join(self.implicit)})"
            for key in asked
            if key not in allowed
        ]

    def _refusal(self, compiled: CompiledSync, spec: ActionSpec, code: object, found: list[str]) -> list[str]:
        where = f"sync {compiled.name}: then {spec.qualname}"
        if not isinstance(code, str):
            return [f"{where} refuses with a `code` the check cannot read: refuse with a literal code"]
        if not codes.is_declared(code):
            return [f"{where} refuses with code {code!r}, which is not declared (app.protocol.codes.declare)"]
        found.append(code)
        return []

    def _answers(self, compiled: CompiledSync) -> bool:
        """The sync responds, or invokes an action (besides the gate's) that some sync follows."""
        gating = (self.gating.hold, self.gating.refuse) if self.gating else ()
        return any(
            spec is self.respond
            or (spec not in gating and any(p.action is spec for c in self.engine.syncs for p in c.patterns))
            for spec, _ in compiled.then
        )

    def gate_codes(self, gate: str, route: Route) -> list[tuple[str, str]]:
        """(code, guard) for every code a guard at `gate` watching `route` refuses with."""
        return [(code, guard.name) for guard in self.guards if guard.watches(gate, route.path) for code in guard.codes]

    # -- each sync against the routes it names ---------------------------------------------

    def sync_problems(self, compiled: CompiledSync, coverages: dict[str, Coverage]) -> list[str]:
        problems: list[str] = []
        paths = []
        for i, (pattern, (_, inputs, _)) in enumerate(zip(compiled.patterns, compiled.sync.when, strict=True)):
            if pattern.action is self.request:
                problems += self._request_pattern(compiled, i + 1, inputs)
                if isinstance(inputs.get("path"), str):
                    paths.append(inputs["path"])
        routes = [self.routes[path] for path in paths if path in self.routes] or list(self.routes.values())
        for spec, inputs in compiled.then:
            if spec is self.respond:
                for route in routes:
                    problems += self._response(compiled, route, inputs, coverages[route.path])
        return problems

    def _request_pattern(self, compiled: CompiledSync, index: int, inputs: dict[str, Any]) -> list[str]:
        where = f"sync {compiled.name}: when pattern {index} ({self.request.qualname})"
        every = ", ".join(self.implicit)
        if "path" not in inputs:
            return [
                f"{where}: input key {key!r} is not an input of every request (a pattern without a path "
                f"matches every route; every request has {every})"
                for key in inputs
                if key not in self.implicit
            ]
        path = inputs["path"]
        if not isinstance(path, str):
            return [f"{where} must name a declared path, e.g. {{'path': ROUTE.path}}"]
        route = self.routes.get(path)
        if route is None:
            known = ", ".join(sorted(self.routes))
            return [f"{where} names path {path!r}, which no route declares (routes: {known})"]
        allowed = route.keys | set(self.implicit) | {"path"}
        return [
            f"{where}: input key {key!r} is not an input of route {path} "
            f"(inputs: {', '.join(i.name for i in route.inputs) or 'none'}; every request also has {every})"
            for key in inputs
            if key not in allowed
        ]

    def _response(self, compiled: CompiledSync, route: Route, inputs: dict[str, Any], found: Coverage) -> list[str]:
        """The keys and codes a sync responds with, against its route's contract."""
        where = f"sync {compiled.name}: then {self.respond.qualname}"
        keys = frozenset(inputs) - {"request"}
        if keys != ERROR_SHAPE:
            if route.shape_of(dict.fromkeys(keys)) is not None:
                return []
            outputs = "; ".join(
                f"{shape.__name__} {{{', '.join(sorted(shape.__annotations__))}}}" for shape in route.outputs
            )
            return [
                f"{where} answers {{{', '.join(sorted(keys))}}}, which is not an output of route {route.path} "
                f"(outputs: {outputs}; or an error: {{code, error}})"
            ]
        code = inputs["code"]
        if not isinstance(code, Var):
            return self._codes(where, route, [code], compiled.name, found)
        source, gate = self._code_source(compiled, code)
        if source is None:
            return [
                f"{where} answers a `code` the check cannot trace: bind it from an action's error output "
                "in `when`, or answer a literal code"
            ]
        if self.gating is not None and source is self.gating.decide and isinstance(gate, str):
            found.gates.setdefault(gate, [])
            for code, guard in self.gate_codes(gate, route):
                found.answer(code, f"{compiled.name} (guard {guard} at gate {gate})")
            return []
        if source.errors is None:
            return [
                f"{where} passes on {source.qualname}'s error, whose codes {source.qualname} does not declare "
                f"(-> ... | Annotated[Error, CODE, ...])"
            ]
        return self._codes(where, route, sorted(source.errors), f"{compiled.name} ({source.qualname})", found)

    def _codes(self, where: str, route: Route, answered: Iterable[str], by: str, found: Coverage) -> list[str]:
        problems = []
        for code in answered:
            found.answer(code, by)
            if not codes.is_declared(code):
                problems.append(
                    f"{where} answers code {code!r}, which is not declared "
                    "(declare it with app.protocol.codes.declare, e.g. in app/concepts/outputs.py)"
                )
            elif not route.answers(code):
                problems.append(
                    f"{where} answers code {code!r}, which route {route.path} does not declare "
                    f"(errors: {', '.join(route.errors) or 'none'})"
                )
        return problems

    def _code_source(self, compiled: CompiledSync, code: Var) -> tuple[ActionSpec | None, object]:
        """The action whose error output binds `code` in the sync's `when` (and the gate it names, if any)."""
        for pattern in compiled.patterns:
            if any(key == "code" and var is code for key, var in pattern.output_vars):
                return pattern.action, dict(pattern.input_literals).get("gate")
        return None, None

    # -- the walk ---------------------------------------------------------------------------

    def walk(self, found: Coverage) -> None:
        route = found.route
        for code, guard in self.gate_codes(REQUEST_GATE, route):
            found.answer(code, f"guard {guard} at gate {REQUEST_GATE}")
        for gate in found.gates:
            found.gates[gate] = [guard.name for guard in self.guards if guard.watches(gate, route.path)]
        start = Event(self.request, "request", frozenset({"request"}), route.path)
        if not any(
            dict(p.input_literals).get("path") == route.path for c in self._firing((), start) for p in c.patterns
        ):
            found.problems.append(
                f"route {route.path}: no sync handles its requests "
                f"(a sync whose `when` has ({self.request.qualname}, {{'path': {route.path!r}, ...}}))"
            )
            return
        self._follow((), start, None, found)

    def _follow(
        self, history: tuple[Event, ...], event: Event, by: str | None, found: Coverage, carried_on: bool = False
    ) -> None:
        """Walk one imagined completion; record a problem if nothing answers it (unless the
        `then` that invoked it goes on: `carried_on`)."""
        firing = self._firing(history, event)
        history = (*history, event)
        named = found.outcomes.setdefault(event.describe(), [])
        named += [c.name for c in firing if c.name not in named]
        found.conditional |= {c.name for c in firing if _conditional(c)}
        responders = [c for c in firing if any(spec is self.respond for spec, _ in c.then)]
        certain = [c.name for c in responders if not _conditional(c)]
        if len(certain) > 1:
            found.problems.append(
                f"route {found.route.path}: when {event.describe()}, syncs {' and '.join(certain)} both respond "
                "(a request is answered once: make them exclusive, e.g. by the outcomes they match)"
            )
        answered = bool(responders) or carried_on
        side_effects = []
        for compiled in firing:
            for i, (spec, _) in enumerate(compiled.then):
                if spec is self.respond:
                    continue
                if not self._followed(history, spec):
                    side_effects.append(f"{compiled.name} invokes {spec.qualname}, whose outcome no sync matches")
                    continue
                answered = True
                if history.count(event) > 1 or len(history) > MAX_STEPS:
                    found.cut.add(compiled.name)  # assume the flow ends
                    continue
                goes_on = i < len(compiled.then) - 1
                for variant, keys in spec.variants:
                    if self.gating is not None and spec is self.gating.decide and keys == HELD:
                        continue  # answered by the holder, whose syncs the walk follows from the ask
                    self._follow(history, Event(spec, variant, keys), compiled.name, found, goes_on)
        if not answered:
            after = f" (invoked by sync {by})" if by else ""
            hint = f" ({'; '.join(side_effects)})" if side_effects else ""
            found.problems.append(
                f"route {found.route.path}: when {event.describe()}{after}, no sync responds to the route "
                f"or carries the flow on{hint}"
            )

    def _followed(self, history: tuple[Event, ...], spec: ActionSpec) -> bool:
        """Some sync would fire on some outcome of this action: its outcome matters."""
        return any(self._firing(history, Event(spec, variant, keys)) for variant, keys in spec.variants)

    def _firing(self, history: tuple[Event, ...], event: Event) -> list[CompiledSync]:
        """The syncs that can fire when `event` completes after the events of `history`."""
        return [compiled for compiled in self.engine.syncs if _can_fire(compiled, event, history)]


def _can_fire(compiled: CompiledSync, event: Event, history: tuple[Event, ...]) -> bool:
    """One pattern fits the event, and each of the others an earlier event."""

    def rest_fit(j: int) -> bool:
        return all(
            any(_fits(other, earlier) for earlier in history) for k, other in enumerate(compiled.patterns) if k != j
        )

    return any(_fits(pattern, event) and rest_fit(j) for j, pattern in enumerate(compiled.patterns))


def _fits(pattern: Pattern, event: Event) -> bool:
    if pattern.action is not event.action:
        return False
    if event.path is not None and dict(pattern.input_literals).get("path", event.path) != event.path:
        return False
    return all(key in event.keys for key, _ in (*pattern.output_literals, *pattern.output_vars))


def _conditional(compiled: CompiledSync) -> bool:
    """The sync may not fire when its patterns fit: a where, or a literal (besides a path)."""
    return bool(compiled.plan.steps) or any(
        pattern.output_literals or any(key != "path" for key, _ in pattern.input_literals)
        for pattern in compiled.patterns
    )


def action_problems(spec: ActionSpec) -> list[str]:
    """An action that can fail declares the codes it answers, each a declared code."""
    if spec.can_fail and spec.errors is None and not spec.passes_codes_on:
        return [f"{spec.qualname} can fail, but declares no codes (-> ... | Annotated[Error, CODE, ...])"]
    return [
        f"{spec.qualname} declares code {code!r}, which is not declared (app.protocol.codes.declare)"
        for code in sorted(spec.errors or ())
        if not codes.is_declared(code)
    ]


def check_routes(
    engine: Engine,
    routes: Iterable[Route],
    *,
    request: ActionSpec,
    respond: ActionSpec,
    implicit: Collection[str],
    gating: Gating | None = None,
) -> list[Coverage]:
    """Every route's coverage; raises SyncDeclarationError listing every problem found."""
    check = RouteCheck(engine, routes, request=request, respond=respond, implicit=implicit, gating=gating)
    coverages = {path: Coverage(route, gates={REQUEST_GATE: []}) for path, route in check.routes.items()}
    problems = [problem for spec in engine.actions for problem in action_problems(spec)]
    problems += check.guard_problems()
    problems += [problem for compiled in engine.syncs for problem in check.sync_problems(compiled, coverages)]
    for coverage in coverages.values():
        check.walk(coverage)
        problems += coverage.problems
    if problems:
        raise SyncDeclarationError("the syncs do not fit the routes:\n  " + "\n  ".join(problems))
    return list(coverages.values())
