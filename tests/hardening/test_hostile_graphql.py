"""Hostile input to GraphQL that the fuzzer does not send: variables of the wrong
type, JSON nested beyond the parser's recursion limit, text that is not Unicode.
Each is the client's error (BAD_USER_INPUT, or a 400 for a body that is no JSON),
never an internal one, and nothing runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import GraphQLScalarType, get_named_type

from tests.api.helpers import AUTHENTICATE, REGISTER, SESSIONS, USERS, Api, assert_gql_error
from tests.assembled import routes, schema

ALL_USERS = "query AllUsers($first: Int!) { allUsers(first: $first) { id } }"
USERNAME_BY_ID = "query UsernameById($user: ID!) { usernameById(user: $user) }"
DEEP = 5_000  # levels of nesting, far past the recursion limit and within the body limit

WRONG_VARIABLES: list[tuple[str, str, dict[str, Any]]] = [
    ("first as a string", ALL_USERS, {"first": "ten"}),
    ("first beyond 32 bits", ALL_USERS, {"first": 10**12}),
    ("first as a float", ALL_USERS, {"first": 10.5}),
    ("first as null", ALL_USERS, {"first": None}),
    ("first missing", ALL_USERS, {}),
    ("user as an operator", USERNAME_BY_ID, {"user": {"$gt": ""}}),
    ("user as a list", USERNAME_BY_ID, {"user": ["a", "b"]}),
    ("username as an operator", REGISTER, {"username": {"$gt": ""}, "password": "correct horse"}),
    ("username as a number", REGISTER, {"username": 12345, "password": "correct horse"}),
    ("password as a boolean", REGISTER, {"username": "mallory", "password": True}),
    ("password as an operator", AUTHENTICATE, {"username": "alice", "password": {"$ne": ""}}),
]


@pytest.mark.parametrize(
    ("query", "variables"), [case[1:] for case in WRONG_VARIABLES], ids=[case[0] for case in WRONG_VARIABLES]
)
async def test_a_variable_of_the_wrong_type_is_bad_user_input_and_runs_nothing(
    api: Api, query: str, variables: dict[str, Any]
) -> None:
    _, token = await api.register("alice")
    flows = [flow.id for flow in api.engine.recent]

    response = await api.gql_response(query, variables, token)

    assert response.status_code in (200, 400), response.text
    error = assert_gql_error(response.json(), "BAD_USER_INPUT")
    assert error["message"] != "Internal server error.", error
    assert [flow.id for flow in api.engine.recent] == flows
    assert await api.count(USERS) == 1
    assert await api.count(SESSIONS) == 1


@pytest.mark.parametrize(
    "content",
    [
        b'{"query": "{ me { id } }", "variables": {"x": ' + b"[" * DEEP + b"]" * DEEP + b"}}",
        b'{"query": "{ me { id } }", "extensions": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
        b"[" * DEEP + b"]" * DEEP,
    ],
    ids=["nested arrays in variables", "nested objects in extensions", "nested arrays"],
)
async def test_deeply_nested_json_is_answered_as_json_that_cannot_be_parsed(api: Api, content: bytes) -> None:
    """Nesting deeper than Python's recursion limit makes `json.loads` raise
    RecursionError (not a JSONDecodeError): it must be a 400 like any unparsable body."""
    headers = {"Content-Type": "application/json"}
    truncated = await api.http.post("/graphql", content=b'{"query": "{ me { id } }"', headers=headers)

    deep = await api.http.post("/graphql", content=content, headers=headers)

    assert truncated.status_code == 400, truncated.text
    assert (deep.status_code, deep.text) == (truncated.status_code, truncated.text)
    assert list(api.engine.recent) == []


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (AUTHENTICATE, {"username": "\ud800lice", "password": "correct horse"}),
        (AUTHENTICATE, {"username": "alice", "password": "correct \ud800orse"}),
        (REGISTER, {"username": "\ud800\udc00ab", "password": "correct horse"}),
        (REGISTER, {"username": "mallory", "password": "correct \ud800orse"}),
        (USERNAME_BY_ID, {"user": "\ud800"}),
    ],
    ids=["authenticate username", "authenticate password", "register username", "register password", "user id"],
)
async def test_a_lone_surrogate_in_a_variable_is_not_an_internal_error(
    api: Api, query: str, variables: dict[str, Any]
) -> None:
    """JSON may escape a lone UTF-16 surrogate (\\ud800), which is no Unicode text:
    it is refused or taken as an unknown name, but never crashes the request."""
    _, token = await api.register("alice")
    content = json.dumps({"query": query, "variables": variables}).encode()  # ASCII: the surrogate stays escaped

    response = await api.http.post(
        "/graphql", content=content, headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )

    assert response.status_code in (200, 400), response.text
    codes = {error["extensions"]["code"] for error in response.json().get("errors") or []}
    assert codes <= {"BAD_USER_INPUT"}, response.text
    assert await api.count(USERS) == 1


VALID = {"String": "x", "ID": "x", "Int": 10, "Boolean": True}


def operations_per_input() -> list[tuple[str, str, dict[str, Any]]]:
    """(id, operation, variables) for every input of every route exposed in GraphQL, as
    the routes declare them, that input given an operator: a new route is tested here
    without an edit."""
    cases = []
    for route in routes():
        if route.graphql is None:
            continue
        kind, name = route.graphql.split(".")
        field = schema()._schema.get_type(kind).fields[name]  # type: ignore[union-attr]
        selection = "" if isinstance(get_named_type(field.type), GraphQLScalarType) else " { __typename }"
        declared = ", ".join(f"${arg}: {definition.type}" for arg, definition in field.args.items())
        passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
        operation = f"{kind.lower()} Op({declared}) {{ {name}({passed}){selection} }}"
        valid = {arg: VALID[get_named_type(definition.type).name] for arg, definition in field.args.items()}
        for argument in field.args:
            cases.append((f"{route.graphql}.{argument}", operation, {**valid, argument: {"$gt": ""}}))
    return cases


CASES = operations_per_input()


@pytest.mark.parametrize(("operation", "variables"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_an_operator_as_any_routes_argument_is_bad_user_input_and_runs_nothing(
    api: Api, operation: str, variables: dict[str, Any]
) -> None:
    _, token = await api.register("alice")
    flows = [flow.id for flow in api.engine.recent]

    response = await api.gql_response(operation, variables, token)

    assert response.status_code in (200, 400), response.text
    assert_gql_error(response.json(), "BAD_USER_INPUT")
    assert [flow.id for flow in api.engine.recent] == flows
