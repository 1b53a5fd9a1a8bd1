"""GraphQL fields generated from routes: a field's arguments are its route's inputs, its
resolver is one `Requesting.request`, and what it answers is a presenter's work.

A presenter turns one success shape of a route (an output TypedDict) into the GraphQL
value, and is typed by it, so a misspelt key is a type error:

    @presenter(CHANGE_PASSWORD, result="ChangePasswordResult")
    def password_changed(out: PasswordChanged) -> ChangePasswordSuccess:
        return ChangePasswordSuccess(user=User(id=ID(out["user"]), username=out["username"]))

A field answers a domain error as a `UserError`, so a route that can answer one needs
a `result`: the name of the union of its presenters' types and `UserError`. Routes
that name the same union share it: it is of every type any of them answers (each sign-in
answers `AuthResult`, though only a password sign-in may answer `SecondFactorRequired`). A
presenter that returns None makes the field nullable.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import ModuleType
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from app.protocol import codes
from app.protocol.routes import ID, SESSION, Input, Route, typeddicts

from .context import Context

Present = Callable[[Any], Any]


class FieldDeclarationError(Exception):
    """A route exposed in GraphQL that its presenters do not fit; raised at start-up."""


@dataclass(frozen=True, eq=False)
class Presenter:
    """How the GraphQL field of `routes` shows the responses of one or more of their shapes."""

    routes: tuple[Route, ...]
    present: Present
    result: str | None = None

    @cached_property
    def hints(self) -> dict[str, Any]:
        return typing.get_type_hints(self.present)

    @property
    def name(self) -> str:
        return f"{self.present.__module__}.{self.present.__qualname__}"

    @property
    def shapes(self) -> tuple[Any, ...]:
        """The route outputs it presents: its parameter's TypedDict (or union of them)."""
        parameters = [hint for name, hint in self.hints.items() if name != "return"]
        if len(parameters) != 1:
            raise FieldDeclarationError(f"presenter {self.name} takes one parameter, typed by the output it presents")
        return typeddicts(parameters[0])

    @property
    def returns(self) -> Any:
        return self.hints["return"]

    def __call__(self, response: Any) -> Any:
        return self.present(response)


def presenter(*routes: Route, result: str | None = None) -> Callable[[Present], Presenter]:
    """Declare how `routes`' GraphQL fields show the shape the function takes."""

    def declare(present: Present) -> Presenter:
        return Presenter(routes, present, result)

    return declare


def presenters_in(modules: Iterable[ModuleType]) -> list[Presenter]:
    """Every Presenter the modules define at top level, in definition order."""
    return [value for module in modules for value in vars(module).values() if isinstance(value, Presenter)]


GRAPHQL_TYPES: dict[Any, Any] = {str: str, ID: strawberry.ID, int: int, bool: bool}


def _argument(given: Input) -> inspect.Parameter:
    """The resolver parameter for an input: `T` (or `T = default`), optional ones without
    a default as `T | None` with no default in the schema; described as the input is."""
    kind: Any = GRAPHQL_TYPES[given.type]
    default: Any = inspect.Parameter.empty
    if given.optional:
        default = strawberry.UNSET if given.default is None else given.default
        kind = kind | None if given.default is None else kind
    if given.description is not None:
        kind = Annotated[kind, strawberry.argument(description=given.description)]
    return inspect.Parameter(given.name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)


class Fields:
    """The Query and Mutation fields of the routes exposed in GraphQL, in route order."""

    def __init__(
        self,
        routes: Iterable[Route],
        presenters: Iterable[Presenter],
        user_error: Any,
        answers: Mapping[str, Iterable[str]],
    ) -> None:
        self.user_error = user_error
        self.answers = answers
        self.error_code = typing.get_type_hints(user_error)["code"]
        self.presenters = list(presenters)
        self.unions: dict[str, tuple[Any, Any]] = {}
        self.fields: dict[str, dict[str, StrawberryField]] = {"Query": {}, "Mutation": {}}
        exposed = [route for route in routes if route.graphql]
        for presenter in self.presenters:
            for route in presenter.routes:
                if route not in exposed:
                    raise FieldDeclarationError(
                        f"presenter {presenter.name} presents route {route.path}, which is not exposed in GraphQL "
                        "(give the route graphql='Query.name' or 'Mutation.name')"
                    )
        self.members: dict[str, tuple[Any, ...]] = {}
        """Each union's types: those of every route that names it (AuthResult is a sign-in's
        answer, whichever route signs in and whichever of its types a route answers)."""
        for route in exposed:
            ours = [p for p in self.presenters if route in p.routes]
            result = next(iter({p.result for p in ours}), None)
            if result is not None:
                known = self.members.get(result, ())
                self.members[result] = tuple(dict.fromkeys((*known, *self._own_members(route, ours))))
        for route in exposed:
            self._add(route)

    def _add(self, route: Route) -> None:
        assert route.graphql is not None
        parent, name = route.graphql.split(".")
        if parent not in self.fields:
            raise FieldDeclarationError(f"route {route.path}: graphql={route.graphql!r} is not Query.x or Mutation.x")
        ours = [p for p in self.presenters if route in p.routes]
        by_shape: dict[Any, Presenter] = {}
        for presenter in ours:
            for shape in presenter.shapes:
                if shape not in route.outputs:
                    raise FieldDeclarationError(
                        f"presenter {presenter.name} takes {shape.__name__}, which is not an output of route "
                        f"{route.path} (outputs: {', '.join(o.__name__ for o in route.outputs)})"
                    )
                if by_shape.setdefault(shape, presenter) is not presenter:
                    raise FieldDeclarationError(
                        f"route {route.path}: {shape.__name__} is presented twice "
                        f"({by_shape[shape].name}, {presenter.name})"
                    )
        missing = [shape.__name__ for shape in route.outputs if shape not in by_shape]
        if missing:
            raise FieldDeclarationError(
                f"route {route.path} is GraphQL's {route.graphql}, but no presenter shows its output(s) "
                f"{', '.join(missing)} (a function taking it, decorated with @presenter and the route, in a module "
                "of app/api/graphql/)"
            )
        resolver = self._resolver(route, by_shape, self._returns(route, ours))
        make = strawberry.field if parent == "Query" else strawberry.mutation
        self.fields[parent][name] = make(resolver=resolver, name=name, description=route.description)

    def _returns(self, route: Route, ours: list[Presenter]) -> Any:
        """The field's type: its presenter's, or the union its presenters name (with
        `UserError` when the route can answer a domain error)."""
        answered = [*route.errors, *self.answers.get(route.path, ())]
        domain = list(dict.fromkeys(code for code in answered if not codes.request_level(code)))
        names = {p.result for p in ours}
        if len(names) > 1:
            raise FieldDeclarationError(
                f"route {route.path}: its presenters name different results {sorted(map(str, names))}"
            )
        result = names.pop()
        if result is None:
            if domain:
                raise FieldDeclarationError(
                    f"route {route.path} can answer {', '.join(domain)}, so its GraphQL field answers a union with "
                    "UserError: give its presenter result='...Result', the union's name"
                )
            kinds = {p.returns for p in ours} - {type(None)}
            if len(kinds) != 1:
                raise FieldDeclarationError(f"route {route.path} has presenters of several types: name their union")
            kind = kinds.pop()
            return kind | None if any(p.returns is type(None) for p in ours) else kind  # a presenter of None: null
        if result not in self.unions:
            members = self.members[result]
            if self.user_error in members:  # UserError last, as the contract lists it
                members = (*(m for m in members if m is not self.user_error), self.user_error)
            union = Annotated[typing.Union[members], strawberry.union(result)]  # type: ignore[valid-type]  # noqa: UP007
            self.unions[result] = (members, union)
        return self.unions[result][1]

    def _own_members(self, route: Route, ours: list[Presenter]) -> tuple[Any, ...]:
        """The types a route's field answers: its presenters', and UserError if it can answer a domain error."""
        answered = [*route.errors, *self.answers.get(route.path, ())]
        domain = any(not codes.request_level(code) for code in answered)
        return (*dict.fromkeys(p.returns for p in ours), *((self.user_error,) if domain else ()))

    def _resolver(self, route: Route, by_shape: dict[Any, Presenter], returns: Any) -> Callable[..., Any]:
        user_error, error_code = self.user_error, self.error_code

        async def resolve(info: Info[Context, None], **arguments: Any) -> Any:
            given = {name: None if value is strawberry.UNSET else value for name, value in arguments.items()}
            response = await info.context.request(route, **given)
            code = codes.failure(response)
            if code is not None:
                return user_error(code=error_code(code), message=str(response["error"]))
            shape = route.shape_of(response)
            if shape is None:
                raise ValueError(f"the response to {route.path} has keys {sorted(response)}, not one of its outputs")
            return by_shape[shape](response)

        info = inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info[Context, None])
        arguments = [_argument(i) for i in route.inputs if i is not SESSION]
        resolve.__signature__ = inspect.Signature([info, *arguments], return_annotation=returns)  # type: ignore[attr-defined]
        resolve.__name__ = route.graphql.split(".")[1] if route.graphql else route.name
        return resolve

    def operation(self, parent: str) -> type | None:
        """The `Query` or `Mutation` type (None without fields)."""
        fields = self.fields[parent]
        if not fields:
            return None
        return strawberry.type(type(parent, (), dict(fields)))
