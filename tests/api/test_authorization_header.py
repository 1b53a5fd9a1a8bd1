"""An Authorization header the server cannot read is said so, on every field and route:
UNAUTHENTICATED with the form it expects, never a silent `me: null`."""

from __future__ import annotations

import pytest

from app.api.context import MALFORMED_AUTHORIZATION

from .helpers import ME, REGISTER, SESSIONS, USERS, Api, assert_gql_error

MALFORMED = {
    "another scheme": "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==",
    "no scheme": "{token}",
    "no token": "Bearer",
    "an empty token": "Bearer   ",
    "two tokens": "Bearer {token} {token}",
    "a token with a comma": "Bearer {token},",
}


@pytest.fixture
async def token(api: Api) -> str:
    return (await api.register("alice"))[1]


@pytest.mark.parametrize("header", MALFORMED.values(), ids=MALFORMED.keys())
async def test_me_with_a_malformed_header_is_unauthenticated_saying_the_expected_form(
    api: Api, token: str, header: str
) -> None:
    response = await api.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": header.format(token=token)}
    )

    error = assert_gql_error(response.json(), "UNAUTHENTICATED", field="me")
    assert error["message"] == MALFORMED_AUTHORIZATION
    assert '"Bearer <session>"' in error["message"]


@pytest.mark.parametrize("header", MALFORMED.values(), ids=MALFORMED.keys())
async def test_rest_with_a_malformed_header_is_401_saying_the_expected_form(api: Api, token: str, header: str) -> None:
    response = await api.http.post("/api/me", json={}, headers={"Authorization": header.format(token=token)})

    assert (response.status_code, response.json()) == (
        401,
        {"error": MALFORMED_AUTHORIZATION, "code": "UNAUTHENTICATED"},
    )


async def test_every_field_of_an_operation_is_unauthenticated_and_nothing_runs(api: Api, token: str) -> None:
    users, sessions = await api.count(USERS), await api.count(SESSIONS)
    headers = {"Authorization": f"Token {token}"}

    query = await api.http.post("/graphql", json={"query": "{ me { id } sessions { id } }"}, headers=headers)
    mutation = await api.http.post(
        "/graphql", json={"query": REGISTER, "variables": {"username": "bob", "password": "x" * 12}}, headers=headers
    )
    login = await api.http.post("/api/login", json={"username": "alice", "password": "correct horse"}, headers=headers)

    errors = query.json()["errors"]
    assert sorted(error["path"][0] for error in errors) == ["me", "sessions"]
    assert {error["extensions"]["code"] for error in errors} == {"UNAUTHENTICATED"}
    assert_gql_error(mutation.json(), "UNAUTHENTICATED")
    assert (login.status_code, login.json()["code"]) == (401, "UNAUTHENTICATED")
    assert (await api.count(USERS), await api.count(SESSIONS)) == (users, sessions)


async def test_two_authorization_headers_are_refused(api: Api, token: str) -> None:
    response = await api.http.post(
        "/graphql",
        json={"query": ME},
        headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")],
    )

    assert assert_gql_error(response.json(), "UNAUTHENTICATED", field="me")["message"] == MALFORMED_AUTHORIZATION


async def test_the_scheme_in_any_case_and_spaces_around_the_token_are_read(api: Api, token: str) -> None:
    for header in (f"bearer {token}", f"BEARER {token}", f"Bearer   {token}  "):
        response = await api.http.post("/graphql", json={"query": ME}, headers={"Authorization": header})

        assert response.json() == {"data": {"me": {"id": response.json()["data"]["me"]["id"], "username": "alice"}}}


async def test_an_empty_header_is_no_session_as_signed_out_clients_send_it(api: Api) -> None:
    me = await api.http.post("/graphql", json={"query": ME}, headers={"Authorization": ""})
    registered = await api.http.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"username": "bob", "password": "correct horse"}},
        headers={"Authorization": " "},
    )

    assert me.json() == {"data": {"me": None}}
    assert registered.json()["data"]["register"]["__typename"] == "AuthSuccess"


async def test_a_well_formed_token_that_is_no_session_is_still_just_no_session(api: Api) -> None:
    response = await api.http.post("/graphql", json={"query": ME}, headers={"Authorization": "Bearer not.a.session"})

    assert response.json() == {"data": {"me": None}}
