"""GraphQL over HTTP (POST, GET, GraphiQL), the exported schema, and the probes."""

from __future__ import annotations

from pathlib import Path

import pytest
from strawberry.printer import print_schema

from tests.assembled import schema

from .helpers import REGISTER, REQUESTS, SESSIONS, USERS, Api, assert_gql_error

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


# -- GET /graphql -------------------------------------------------------------------------


async def test_graphiql_is_served_to_a_browser(api: Api) -> None:
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_a_query_over_get_works(api: Api) -> None:
    user, token = await api.register("alice")

    response = await api.http.get(
        "/graphql",
        params={"query": "{ me { id username } }"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"me": {"id": user, "username": "alice"}}}


async def test_a_query_with_variables_over_get_works(api: Api) -> None:
    user, token = await api.register("alice")

    response = await api.http.get(
        "/graphql",
        params={"query": "query Q($u: ID!) { usernameById(user: $u) }", "variables": f'{{"u": "{user}"}}'},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"usernameById": "alice"}}


async def test_a_mutation_over_get_is_refused_and_creates_nothing(api: Api) -> None:
    response = await api.http.get(
        "/graphql",
        params={"query": REGISTER, "variables": '{"username": "alice", "password": "correct horse"}'},
        headers={"Accept": "application/json"},
    )

    assert 400 <= response.status_code < 500, response.text
    await api.flush()
    assert await api.count(USERS) == 0
    assert await api.count(SESSIONS) == 0
    assert await api.count(REQUESTS) == 0


async def test_a_logout_over_get_is_refused_and_keeps_the_session(api: Api) -> None:
    _, token = await api.register("alice")

    response = await api.http.get(
        "/graphql",
        params={"query": "mutation { logout { ok } }"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )

    assert 400 <= response.status_code < 500, response.text
    assert await api.me(token) is not None


# -- POST /graphql: invalid documents --------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ nope }",
        '{ allUsers(first: "ten") { id } }',
        "{ checkUserExists }",
        "mutation { register(username: 1, password: 2) { __typename } }",
    ],
)
async def test_an_invalid_document_is_bad_user_input(api: Api, query: str) -> None:
    body = await api.gql_response(query)

    assert body.status_code in (200, 400), body.text
    errors = body.json()["errors"]
    assert errors and {error["extensions"]["code"] for error in errors} == {"BAD_USER_INPUT"}, errors
    assert await api.count(USERS) == 0


async def test_a_syntax_error_is_reported_with_a_code(api: Api) -> None:
    response = await api.gql_response("{ me { id ")

    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", errors


async def test_a_query_field_needing_a_session_is_unauthenticated_with_a_bearer_of_another_scheme(api: Api) -> None:
    user, token = await api.register("alice")

    response = await api.http.post(
        "/graphql",
        json={"query": "query Q($u: ID!) { checkUserExists(user: $u) }", "variables": {"u": user}},
        headers={"Authorization": f"Basic {token}"},
    )

    assert_gql_error(response.json(), "UNAUTHENTICATED")


# -- the exported schema ------------------------------------------------------------------------


def test_schema_graphql_is_the_running_schema_as_strawberry_exports_it() -> None:
    # `python -m app schema` prints print_schema() and a newline.
    assert print_schema(schema()) + "\n" == SDL.read_text(encoding="utf-8")


def test_optional_arguments_have_no_default_in_the_sdl() -> None:
    sdl = print_schema(schema())

    assert "\n    user: ID\n" in sdl
    assert "= null" not in sdl
    assert "\n    first: Int! = 100\n" in sdl and "\n    after: ID\n  ): [User!]!" in sdl


# -- probes -------------------------------------------------------------------------------------------


async def test_healthz_answers_200(api: Api) -> None:
    response = await api.http.get("/healthz")

    assert response.status_code == 200


async def test_readyz_answers_200_while_the_database_answers(api: Api) -> None:
    response = await api.http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"ready": True}
