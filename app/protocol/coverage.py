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
- two syncs are both certain to respond to the same outcome.

The walk. Each route's flow is imagined as a tree of *events*, an event being an
action completing with one of its output variants (each TypedDict of its return type,
errors too), starting from the request. At each event, the syncs that can fire are
those with a pattern that fits it and whose other patterns fit events earlier on the
same branch. An event is *answered* when one of them responds, or invokes an action
whose outcome some sync follows: every variant of that action is then an event to
walk. An action whose outcome no sync follows (counting a failure, say) is a side
effect and needs no answer. A branch that repeats an event, or grows longer than
MAX_STEPS, is assumed to end.

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
from .routes import Route

MAX_STEPS = 12
"""The longest branch the walk follows; our longest flow (a login) has 7 steps."""

ERROR_SHAPE = frozenset({"error", "code"})


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


@dataclass
class Coverage:
    """What the check found for one route: the syncs that fire on each outcome, the
    codes it can answer, the syncs it assumed fire, and the problems."""

    route: Route
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, list[str]] = field(default_factory=dict)
    conditional: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


class RouteCheck:
    def __init__(
        self,
        engine: Engine,
        routes: Iterable[Route],
        *,
        request: ActionSpec,
        respond: ActionSpec,
        implicit: Collection[str],
    ) -> None:
        self.engine = engine
        self.routes = {route.path: route for route in routes}
        self.request = request
        self.respond = respond
        self.implicit = implicit

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
        source = self._code_source(compiled, code)
        if source is None:
            return [
                f"{where} answers a `code` the check cannot trace: bind it from an action's error output "
                "in `when`, or answer a literal code"
            ]
        if source.errors is None:
            return [
                f"{where} passes on {source.qualname}'s error, whose codes {source.qualname} does not declare "
                f"(-> ... | Annotated[Error, CODE, ...])"
            ]
        return self._codes(where, route, sorted(source.errors), f"{compiled.name} ({source.qualname})", found)

    def _codes(self, where: str, route: Route, answered: Iterable[str], by: str, found: Coverage) -> list[str]:
        problems = []
        for code in answered:
            found.codes.setdefault(code, [])
            if by not in found.codes[code]:
                found.codes[code].append(by)
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

    def _code_source(self, compiled: CompiledSync, code: Var) -> ActionSpec | None:
        """The action whose error output binds `code` in the sync's `when`."""
        for pattern in compiled.patterns:
            if any(key == "code" and var is code for key, var in pattern.output_vars):
                return pattern.action
        return None

    # -- the walk ---------------------------------------------------------------------------

    def walk(self, found: Coverage) -> None:
        route = found.route
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

    def _follow(self, history: tuple[Event, ...], event: Event, by: str | None, found: Coverage) -> None:
        """Walk one imagined completion; record a problem if nothing answers it."""
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
        answered = bool(responders)
        side_effects = []
        for compiled in firing:
            for spec, _ in compiled.then:
                if spec is self.respond:
                    continue
                if not self._followed(history, spec):
                    side_effects.append(f"{compiled.name} invokes {spec.qualname}, whose outcome no sync matches")
                    continue
                answered = True
                if history.count(event) > 1 or len(history) > MAX_STEPS:
                    found.conditional.add(compiled.name)  # a cycle: assume it ends
                    continue
                for variant, keys in spec.variants:
                    self._follow(history, Event(spec, variant, keys), compiled.name, found)
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
    engine: Engine, routes: Iterable[Route], *, request: ActionSpec, respond: ActionSpec, implicit: Collection[str]
) -> list[Coverage]:
    """Every route's coverage; raises SyncDeclarationError listing every problem found."""
    check = RouteCheck(engine, routes, request=request, respond=respond, implicit=implicit)
    coverages = {path: Coverage(route) for path, route in check.routes.items()}
    problems = [problem for spec in engine.actions for problem in action_problems(spec)]
    problems += [problem for compiled in engine.syncs for problem in check.sync_problems(compiled, coverages)]
    for coverage in coverages.values():
        check.walk(coverage)
        problems += coverage.problems
    if problems:
        raise SyncDeclarationError("the syncs do not fit the routes:\n  " + "\n  ".join(problems))
    return list(coverages.values())
