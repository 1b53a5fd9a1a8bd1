"""Routes: the operations the API offers, each declared once, at the top of the syncs
module that answers it:

    CHANGE_PASSWORD = Route(
        "/UserAuthentication/changePassword",
        SESSION,
        Input("user", optional=True),
        Input("oldPassword", secret=True),
        Input("newPassword", secret=True),
        graphql="Mutation.changePassword",
    )

REST validates bodies against it, GraphQL resolvers pass it to `Requesting.request`,
the start-up check holds the syncs' request patterns to it, and `python -m app routes`
prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Input:
    """One input of a route: a JSON string, integer or boolean; absent optional ones are `default`."""

    name: str
    type: type[str] | type[int] | type[bool] = str
    optional: bool = False
    secret: bool = False
    default: Any = None

    def describe(self) -> str:
        flags = [flag for flag, on in (("optional", self.optional), ("secret", self.secret)) if on]
        if self.optional and self.default is not None:
            flags.append(f"default {self.default!r}")
        return f"{self.name}: {self.type.__name__}" + (f" ({', '.join(flags)})" if flags else "")


SESSION = Input("session", optional=True, secret=True)
"""The caller's session token: the bearer token, or (REST) a `session` field. Absent,
the route's syncs answer UNAUTHENTICATED (or, for `me`, nobody)."""


IMPLICIT = ("session", "client", "userAgent")
"""Inputs the API layer gives every request (None when absent, so syncs can match
"none"): the bearer token, the caller's address and User-Agent. Syncs may match them
on any route."""


class Route:
    """A path of `Requesting.request`, its inputs, and where the API exposes it:
    `rest` (`POST /api<path>`) and `graphql` (the field, e.g. `"Query.me"`)."""

    def __init__(
        self, path: str, *inputs: Input, graphql: str | None = None, rest: bool = True, name: str | None = None
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"route {path!r}: a path starts with /")
        names = [i.name for i in inputs]
        if len(set(names)) != len(names):
            raise ValueError(f"route {path}: an input is declared twice")
        self.path = path
        self.inputs = inputs
        self.graphql = graphql
        self.rest = rest
        last = path.rstrip("/").rsplit("/", 1)[-1].lstrip("_")
        self.name = name or last[:1].upper() + last[1:]
        """The name its syncs start with: by default from the path (`/UserAuthentication/_getAllUsers`
        is GetAllUsers)."""

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(i.name for i in self.inputs)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(i.name for i in self.inputs if i.secret)

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)

    def __repr__(self) -> str:
        return f"Route({self.path})"


def routes_in(modules: Iterable[ModuleType]) -> list[Route]:
    """Every Route a module defines at top level, in definition order; each path once."""
    found: dict[str, Route] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Route) and found.setdefault(value.path, value) is not value:
                raise ValueError(f"route {value.path} is declared twice")
    return list(found.values())
