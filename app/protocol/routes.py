"""Routes: the operations the API offers, each a typed contract declared once, in a
module of `app/api/routes/`:

    CHANGE_PASSWORD = Route(
        "/UserAuthentication/changePassword",
        Input("oldPassword", secret=True),
        Input("newPassword", secret=True),
        Input("user", ID, optional=True),
        SESSION,
        output=PasswordChanged,
        errors=[WEAK_PASSWORD, INVALID_CREDENTIALS, RATE_LIMITED, USER_NOT_FOUND],
        graphql="Mutation.changePassword",
        description="Change the session user's password; revokes their other sessions.",
    )

Its inputs (each with its bound), its success outputs (TypedDicts: the keys a response
carries) and the domain error codes it can answer. REST validates bodies against it,
GraphQL's field is generated from it, the start-up check holds the syncs that answer
it to it, and `python -m app routes` prints it.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from . import codes
from .bounds import MAX_CLIENT_TEXT, is_text
from .codes import Code


class ID(str):
    """The type of an input that names something (a user, a session handle): a string
    to REST, an `ID` to GraphQL."""


InputType = type[str] | type[ID] | type[int] | type[bool]
KINDS: dict[InputType, str] = {str: "a string", ID: "a string", int: "an integer", bool: "a boolean"}


class InvalidInput(ValueError):
    """A value a route does not take; the message is for the client (it names the input)."""


@dataclass(frozen=True)
class Input:
    """One input of a route: a JSON string (or ID), integer or boolean. An optional one
    left out is `default`. A string is at most `max_length` characters."""

    name: str
    type: InputType = str
    optional: bool = False
    secret: bool = False
    default: Any = None
    max_length: int = MAX_CLIENT_TEXT
    description: str | None = None

    def describe(self) -> str:
        flags = [flag for flag, on in (("optional", self.optional), ("secret", self.secret)) if on]
        if self.optional and self.default is not None:
            flags.append(f"default {self.default!r}")
        if self.type in (str, ID) and self.max_length != MAX_CLIENT_TEXT:
            flags.append(f"at most {self.max_length} characters")
        return f"{self.name}: {self.type.__name__}" + (f" ({', '.join(flags)})" if flags else "")

    def accept(self, value: object, noun: str) -> Any:
        """The value as the syncs get it; raises InvalidInput naming the input (`Field x`,
        `Argument x`) for a missing, mistyped, overlong or non-text value."""
        if value is None:
            if not self.optional:
                raise InvalidInput(f"{noun} {self.name} is required.")
            return self.default
        expected = str if self.type is ID else self.type
        if type(value) is not expected and not (expected is str and isinstance(value, str)):
            raise InvalidInput(f"{noun} {self.name} must be {KINDS[self.type]}.")
        if isinstance(value, str) and len(value) > self.max_length:
            raise InvalidInput(f"{noun} {self.name} is too long (more than {self.max_length} characters).")
        if isinstance(value, str) and not is_text(value):
            raise InvalidInput(f"{noun} {self.name} is not valid Unicode text.")
        return value


SESSION = Input("session", optional=True, secret=True)
"""The caller's session token: the bearer token, or (REST) a `session` field. Absent,
the route's syncs answer UNAUTHENTICATED (or, for `me`, nobody)."""


IMPLICIT = ("session", "client", "userAgent")
"""Inputs the API layer gives every request (None when absent, so syncs can match
"none"): the bearer token, the caller's address and User-Agent. Syncs may match them
on any route."""


def typeddicts(declared: object) -> tuple[Any, ...]:
    """The TypedDicts of `A`, `A | B` or a sequence of them."""
    if typing.is_typeddict(declared):
        return (declared,)
    if isinstance(declared, list | tuple):
        return tuple(td for item in declared for td in typeddicts(item))
    args = typing.get_args(declared)
    if args and all(typing.is_typeddict(arg) for arg in args):
        return args
    raise TypeError(f"{declared!r} is not a TypedDict or a union of them")


class Route:
    """A path of `Requesting.request`: its inputs, its success outputs (each a TypedDict
    naming the keys a response carries), the domain error codes it answers, and where
    the API exposes it: `rest` (`POST /api<path>`) and `graphql` (the field, e.g.
    `"Query.me"`), with `description` for people."""

    def __init__(
        self,
        path: str,
        *inputs: Input,
        output: object,
        errors: Iterable[Code] = (),
        graphql: str | None = None,
        rest: bool = True,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"route {path!r}: a path starts with /")
        names = [i.name for i in inputs]
        if len(set(names)) != len(names):
            raise ValueError(f"route {path}: an input is declared twice")
        self.path = path
        self.inputs = inputs
        self.outputs = typeddicts(output)
        for shape in self.outputs:
            if "error" in shape.__annotations__:
                raise ValueError(f"route {path}: output {shape.__name__} has an `error` key (declare `errors` instead)")
        self.errors = tuple(dict.fromkeys(errors))
        self.graphql = graphql
        self.rest = rest
        self.description = description
        last = path.rstrip("/").rsplit("/", 1)[-1].lstrip("_")
        self.name = name or last[:1].upper() + last[1:]
        """The name its syncs start with: by default from the path (`/UserAuthentication/_getAllUsers`
        is GetAllUsers)."""

    @property
    def outputs_keys(self) -> list[frozenset[str]]:
        return [frozenset(shape.__annotations__) for shape in self.outputs]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(i.name for i in self.inputs)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(i.name for i in self.inputs if i.secret)

    @property
    def takes_session(self) -> bool:
        return SESSION in self.inputs

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)

    def accept(self, values: Mapping[str, object], noun: str) -> dict[str, Any]:
        """Every input of the route (absent optional ones as their default), or InvalidInput
        for an unknown key or a value the route does not take."""
        unknown = sorted(set(values) - self.keys)
        if unknown:
            raise InvalidInput(f"Unknown {noun.lower()}(s): {', '.join(unknown)[:200]}.")
        return {i.name: i.accept(values.get(i.name), noun) for i in self.inputs}

    def shape_of(self, response: Mapping[str, object]) -> Any:
        """The output TypedDict whose keys a success response has (None if none does)."""
        keys = set(response) - {"request"}
        return next((shape for shape in self.outputs if set(shape.__annotations__) == keys), None)

    def answers(self, code: str) -> bool:
        """Whether the route may answer `code`: one it declares, or a request-level code
        (UNAUTHENTICATED only if it takes a session)."""
        if code == codes.UNAUTHENTICATED:
            return self.takes_session
        return code in self.errors or codes.request_level(code)

    def __repr__(self) -> str:
        return f"Route({self.path})"


def routes_in(modules: Iterable[ModuleType]) -> list[Route]:
    """Every Route the modules define at top level, in definition order; each path once."""
    found: dict[str, Route] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Route) and found.setdefault(value.path, value) is not value:
                raise ValueError(f"route {value.path} is declared twice")
    return list(found.values())
