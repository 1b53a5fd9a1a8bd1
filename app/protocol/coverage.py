"""The start-up check of routes against syncs: every request is answered.

The engine checks each sync on its own (actions, keys, bound variables). This checks
them together, against the declared routes:

- every `when` pattern on the request action names a declared path, and only keys
  that route has (or that the API layer adds to every request); a pattern without a
  path (a sync on every request) names only the keys every request has;
- every `code` a sync answers with is a declared error code;
- every route is answered: starting from its request, each sync that can fire is
  followed; for every action a sync invokes whose outcome some sync follows, every
  output variant (each TypedDict of its return type, success and error) must be
  matched by a sync that responds or carries the flow on. An action whose outcome no
  sync follows (e.g. counting a failure) is a side effect and needs no answer.

A `where` clause or a literal in a pattern (besides a path) can still drop a frame at run
time; the check assumes such a sync fires, and says which syncs it could not see
through. The handler's "no sync responded" answer stays as the net for those.
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


@dataclass(frozen=True)
class Event:
    """An action completing with one of its output variants, as the check imagines it."""

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
    """What the check found for one route: who answers each outcome, what it could not prove."""

    route: Route
    outcomes: dict[str, list[str]] = field(default_factory=dict)
    unseen: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


MAX_DEPTH = 12


class RouteCheck:
    def __init__(self, engine: Engine, routes: Iterable[Route], request: ActionSpec, respond: ActionSpec) -> None:
        self.engine = engine
        self.routes = {route.path: route for route in routes}
        self.request = request
        self.respond = respond

    # -- the request patterns --------------------------------------------------------------

    def pattern_problems(self, implicit: Collection[str]) -> list[str]:
        problems = []
        for compiled in self.engine.syncs:
            for i, (pattern, (_, inputs, _)) in enumerate(zip(compiled.patterns, compiled.sync.when, strict=True)):
                if pattern.action is self.request:
                    problems += self._request_pattern(compiled, i + 1, inputs, implicit)
            for spec, inputs in compiled.then:
                code = inputs.get("code")
                if (
                    spec is self.respond
                    and code is not None
                    and not isinstance(code, Var)
                    and not codes.is_declared(code)
                ):
                    problems.append(
                        f"sync {compiled.name}: then {spec.qualname} answers code {code!r}, which is not "
                        "declared (declare it with app.protocol.codes.declare, e.g. in app/concepts/outputs.py)"
                    )
        return problems

    def _request_pattern(
        self, compiled: CompiledSync, index: int, inputs: dict[str, Any], implicit: Collection[str]
    ) -> list[str]:
        where = f"sync {compiled.name}: when pattern {index} ({self.request.qualname})"
        if "path" not in inputs:
            return [
                f"{where}: input key {key!r} is not an input of every request (a pattern without a path "
                f"matches every route; every request has {', '.join(implicit)})"
                for key in inputs
                if key not in implicit
            ]
        path = inputs["path"]
        if not isinstance(path, str):
            return [f"{where} must name a declared path, e.g. {{'path': ROUTE.path}}"]
        route = self.routes.get(path)
        if route is None:
            known = ", ".join(sorted(self.routes))
            return [f"{where} names path {path!r}, which no route declares (routes: {known})"]
        allowed = route.keys | set(implicit) | {"path"}
        return [
            f"{where}: input key {key!r} is not an input of route {path} "
            f"(inputs: {', '.join(i.name for i in route.inputs) or 'none'}; "
            f"every request also has {', '.join(implicit)})"
            for key in inputs
            if key not in allowed
        ]

    # -- answering ---------------------------------------------------------------------------

    def coverage(self, route: Route) -> Coverage:
        found = Coverage(route)
        start = Event(self.request, "request", frozenset({"request"}), route.path)
        if not any(
            dict(p.input_literals).get("path") == route.path for c in self._firing((), start) for p in c.patterns
        ):
            found.problems.append(
                f"route {route.path}: no sync handles its requests "
                f"(a sync whose `when` has ({self.request.qualname}, {{'path': {route.path!r}, ...}}))"
            )
            return found
        self._answer((), start, None, found)
        return found

    def _answer(self, world: tuple[Event, ...], event: Event, by: str | None, found: Coverage) -> None:
        """Follow one imagined completion; record a problem if nothing answers it."""
        world = (*world, event)
        firing = self._firing(world[:-1], event)
        found.outcomes.setdefault(event.describe(), [])
        found.outcomes[event.describe()] += [c.name for c in firing if c.name not in found.outcomes[event.describe()]]
        answered = False
        unfollowed = []
        for compiled in firing:
            if compiled.plan.steps or any(_filters(pattern) for pattern in compiled.patterns):
                found.unseen.add(compiled.name)
            for spec, _ in compiled.then:
                if spec is self.respond:
                    answered = True
                elif not self._followed(world, spec):
                    unfollowed.append(f"{compiled.name} invokes {spec.qualname}, whose outcome no sync matches")
                else:
                    answered = True
                    if world.count(event) > 1 or len(world) > MAX_DEPTH:
                        found.unseen.add(compiled.name)  # a cycle: assume it ends
                        continue
                    for variant, keys in spec.variants:
                        self._answer(world, Event(spec, variant, keys), compiled.name, found)
        if not answered:
            after = f" (invoked by sync {by})" if by else ""
            hint = f" ({'; '.join(unfollowed)})" if unfollowed else ""
            found.problems.append(
                f"route {found.route.path}: when {event.describe()}{after}, no sync responds to the route "
                f"or carries the flow on{hint}"
            )

    def _followed(self, world: tuple[Event, ...], spec: ActionSpec) -> bool:
        """Some sync would fire on some outcome of this action: its outcome matters."""
        return any(self._firing(world, Event(spec, variant, keys)) for variant, keys in spec.variants)

    def _firing(self, world: tuple[Event, ...], event: Event) -> list[CompiledSync]:
        """The syncs that could fire when `event` completes after the events of `world`."""
        return [
            compiled
            for compiled in self.engine.syncs
            if any(
                self._fits(pattern, event)
                and all(
                    any(self._fits(other, earlier) for earlier in world)
                    for k, other in enumerate(compiled.patterns)
                    if k != j
                )
                for j, pattern in enumerate(compiled.patterns)
            )
        ]

    def _fits(self, pattern: Pattern, event: Event) -> bool:
        if pattern.action is not event.action:
            return False
        if event.path is not None and dict(pattern.input_literals).get("path", event.path) != event.path:
            return False
        return all(key in event.keys for key, _ in (*pattern.output_literals, *pattern.output_vars))


def _filters(pattern: Pattern) -> bool:
    """The pattern holds literals (other than a request's path) the check does not follow."""
    return bool(pattern.output_literals) or any(key != "path" for key, _ in pattern.input_literals)


def check_routes(
    engine: Engine, routes: Iterable[Route], *, request: ActionSpec, respond: ActionSpec, implicit: Collection[str]
) -> list[Coverage]:
    """Every route's coverage; raises SyncDeclarationError listing every problem found."""
    check = RouteCheck(engine, routes, request, respond)
    problems = check.pattern_problems(implicit)
    found = [check.coverage(route) for route in check.routes.values()]
    problems += [problem for coverage in found for problem in coverage.problems]
    if problems:
        raise SyncDeclarationError("the syncs do not fit the routes:\n  " + "\n  ".join(problems))
    return found
