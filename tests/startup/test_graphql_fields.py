"""GraphQL fields are generated from routes, so a field cannot take other arguments than
its route's inputs; what start-up refuses is a route and its presenters that do not
fit, naming both."""

from __future__ import annotations

import textwrap

import pytest

from app.api.fields import FieldDeclarationError
from app.api.schema import build_schema
from app.parts import discover
from tests.throwaway import Throwaway

ROUTES = """
from typing import TypedDict
from app.concepts.outputs import USERNAME_TAKEN
from app.protocol.routes import SESSION, Input, Route

class Noted(TypedDict):
    note: str

class Other(TypedDict):
    other: str

NOTE = Route("/Notes/add", Input("text"), SESSION, output=Noted, {extra} graphql="Mutation.addNote")
HIDDEN = Route("/Notes/hidden", SESSION, output=Noted)
"""

GRAPHQL = """
import strawberry
from app.api.fields import presenter
from {routes} import *

@strawberry.type
class NoteAdded:
    note: str
{presenters}
"""


def refusal(throwaway: Throwaway, presenters: str, extra: str = "") -> str:
    routes = throwaway.module("app.api.routes", ROUTES.format(extra=extra))
    throwaway.module("app.api.graphql", GRAPHQL.format(routes=routes, presenters=textwrap.dedent(presenters)))
    with pytest.raises(FieldDeclarationError) as refused:
        build_schema(discover(), [])
    return str(refused.value)


def test_a_route_exposed_in_graphql_without_a_presenter(throwaway: Throwaway) -> None:
    message = refusal(throwaway, "")

    assert message == (
        "route /Notes/add is GraphQL's Mutation.addNote, but no presenter shows its output(s) Noted "
        "(a function taking it, decorated with @presenter and the route, in a module of app/api/graphql/)"
    )


def test_a_presenter_of_a_shape_the_route_does_not_answer(throwaway: Throwaway) -> None:
    message = refusal(
        throwaway,
        """
        @presenter(NOTE)
        def added(out: Other) -> NoteAdded:
            return NoteAdded(note=out["other"])
        """,
    )

    assert message.startswith("presenter app.api.graphql.throwaway_")
    assert message.endswith(".added takes Other, which is not an output of route /Notes/add (outputs: Noted)")


def test_a_route_that_can_answer_a_domain_error_needs_a_result_union(throwaway: Throwaway) -> None:
    message = refusal(
        throwaway,
        """
        @presenter(NOTE)
        def added(out: Noted) -> NoteAdded:
            return NoteAdded(note=out["note"])
        """,
        extra="errors=[USERNAME_TAKEN],",
    )

    assert message == (
        "route /Notes/add can answer USERNAME_TAKEN, so its GraphQL field answers a union with UserError: "
        "give its presenter result='...Result', the union's name"
    )


def test_a_presenter_of_a_route_not_exposed_in_graphql(throwaway: Throwaway) -> None:
    message = refusal(
        throwaway,
        """
        @presenter(NOTE)
        def added(out: Noted) -> NoteAdded:
            return NoteAdded(note=out["note"])

        @presenter(HIDDEN)
        def hidden(out: Noted) -> NoteAdded:
            return NoteAdded(note=out["note"])
        """,
    )

    assert message.endswith(
        ".hidden presents route /Notes/hidden, which is not exposed in GraphQL "
        "(give the route graphql='Query.name' or 'Mutation.name')"
    )


def test_a_fitting_presenter_makes_the_field_with_exactly_the_routes_inputs(throwaway: Throwaway) -> None:
    routes = throwaway.module("app.api.routes", ROUTES.format(extra="errors=[USERNAME_TAKEN],"))
    presenters = """
        @presenter(NOTE, result="AddNoteResult")
        def added(out: Noted) -> NoteAdded:
            return NoteAdded(note=out["note"])
        """
    throwaway.module("app.api.graphql", GRAPHQL.format(routes=routes, presenters=textwrap.dedent(presenters)))

    printed = build_schema(discover(), []).as_str()

    assert "addNote(text: String!): AddNoteResult!" in printed
    assert "union AddNoteResult = NoteAdded | UserError" in printed
