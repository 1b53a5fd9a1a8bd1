"""One declaration per route: the GraphQL fields (generated from it), REST and
`python -m app routes` agree with it."""

from __future__ import annotations

import subprocess
import sys
from typing import TypedDict

import pytest
from graphql import GraphQLNonNull, GraphQLScalarType, get_named_type

from app.protocol.routes import ID, SESSION, Input, InvalidInput, Route
from tests.assembled import routes, schema

ROUTES = routes()
GRAPHQL_ROUTES = [route for route in ROUTES if route.graphql]
SCALARS = {str: "String", ID: "ID", int: "Int", bool: "Boolean"}


class Noted(TypedDict):
    note: str


@pytest.mark.parametrize("route", GRAPHQL_ROUTES, ids=lambda route: route.path)
def test_a_routes_graphql_field_takes_exactly_its_inputs(route: Route) -> None:
    """The session comes from the bearer token, never as an argument."""
    assert route.graphql is not None
    type_name, field_name = route.graphql.split(".")
    graphql_type = schema()._schema.get_type(type_name)
    field = graphql_type.fields[field_name]  # type: ignore[union-attr]

    arguments = {name: argument.type for name, argument in field.args.items()}
    inputs = {i.name: i for i in route.inputs if i is not SESSION}
    assert set(arguments) == set(inputs)
    for name, argument in arguments.items():
        named = get_named_type(argument)
        assert isinstance(named, GraphQLScalarType) and named.name == SCALARS[inputs[name].type], name
        assert isinstance(argument, GraphQLNonNull) is (not inputs[name].optional or inputs[name].default is not None)


def test_every_graphql_operation_field_is_a_route() -> None:
    fields = {f"{t}.{name}" for t in ("Query", "Mutation") for name in schema()._schema.get_type(t).fields}  # type: ignore[union-attr]
    assert fields == {route.graphql for route in GRAPHQL_ROUTES}


def test_a_route_refuses_an_input_declared_twice_and_names_its_syncs_after_its_path() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Route("/notes/add", Input("text"), Input("text"), output=Noted)
    assert Route("/UserAuthentication/_getAllUsers", output=Noted).name == "GetAllUsers"
    assert Route("/logout", output=Noted).name == "Logout"


def test_each_input_has_its_own_bound() -> None:
    """Strings are bounded at 1024 characters unless the input says otherwise."""
    route = Route("/notes/add", Input("title"), Input("body", max_length=10_000), output=Noted)

    assert route.accept({"title": "t", "body": "b" * 10_000}, "Field") == {"title": "t", "body": "b" * 10_000}
    with pytest.raises(InvalidInput, match=r"^Field body is too long \(more than 10000 characters\)\.$"):
        route.accept({"title": "t", "body": "b" * 10_001}, "Field")
    with pytest.raises(InvalidInput, match=r"^Argument title is too long \(more than 1024 characters\)\.$"):
        route.accept({"title": "t" * 1025, "body": ""}, "Argument")


def test_python_m_app_routes_prints_each_route_with_its_inputs_exposure_and_syncs() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "app", "routes"], capture_output=True, text=True, check=True, timeout=120
    ).stdout

    block = printed.split("route /UserAuthentication/changePassword\n")[1].split("\n\n")[0]
    assert "exposed: POST /api/UserAuthentication/changePassword, GraphQL Mutation.changePassword" in block
    assert "oldPassword: str (secret)" in block and "user: ID (optional)" in block
    assert "ChangePasswordRequest" in block and "ChangePasswordResponseError" in block
    assert all(f"route {route.path}\n" in printed for route in ROUTES)
