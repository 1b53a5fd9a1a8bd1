"""The transport rules, checked on `python -m app` over a real socket: headers on
every response, JSON-only bodies, and GraphQL-shaped refusals on /graphql."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.helpers import REGISTER

from .conftest import AppProcess, running_apps

pytestmark = pytest.mark.launcher

ALICE = {"username": "alice", "password": "correct horse"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with running_apps(tmp_path_factory.mktemp("transport"), {}) as (running,):
        yield running


def post(app: AppProcess, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{app.url}{path}", timeout=10.0, **kwargs)


def get(app: AppProcess, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{app.url}{path}", timeout=10.0, **kwargs)


def test_every_response_says_nosniff_and_names_no_server(app: AppProcess) -> None:
    responses = {
        "healthz": get(app, "/healthz"),
        "readyz": get(app, "/readyz"),
        "graphiql": get(app, "/graphql", headers={"Accept": "text/html"}),
        "graphql": post(app, "/graphql", json={"query": "{ me { id } }"}),
        "rest": post(app, "/api/me", json={}),
        "not found": get(app, "/nowhere"),
        "refused": post(app, "/api/me", content=b"{}", headers={"Content-Type": "text/plain"}),
    }
    for name, response in responses.items():
        assert response.headers.get("x-content-type-options") == "nosniff", (name, response.headers)
        assert "server" not in response.headers, (name, response.headers)


def test_api_responses_carrying_a_session_are_not_stored_by_caches(app: AppProcess) -> None:
    graphql = post(app, "/graphql", json={"query": REGISTER, "variables": ALICE})
    rest = post(app, "/api/login", json=ALICE)

    assert graphql.json()["data"]["register"]["session"]
    assert rest.json()["session"]
    assert graphql.headers["cache-control"] == "no-store"
    assert rest.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_rest_takes_only_json_bodies(app: AppProcess, content_type: str) -> None:
    body = json.dumps({"username": "mallory", "password": "correct horse"}).encode()

    response = post(app, "/api/UserAuthentication/register", content=body, headers={"Content-Type": content_type})

    assert response.status_code == 415, response.text
    assert response.json() == {"error": "The request body must be application/json.", "code": "BAD_REQUEST"}
    assert post(app, "/api/login", json={"username": "mallory", "password": "correct horse"}).status_code == 400


def graphql_error(response: httpx.Response) -> tuple[int, str, str]:
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    return response.status_code, error["extensions"]["code"], error["message"]


def test_graphql_refusals_are_graphql_errors(app: AppProcess) -> None:
    query = {"query": "{ me { id } }"}
    refused = {
        "text/plain": post(app, "/graphql", content=json.dumps(query), headers={"Content-Type": "text/plain"}),
        "a batch": post(app, "/graphql", json=[query, query]),
        "a persisted query": post(
            app,
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}},
        ),
        "no query": post(app, "/graphql", json={"variables": {}}),
        "not JSON": post(app, "/graphql", content=b"{", headers={"Content-Type": "application/json"}),
        "too large": post(app, "/graphql", json={"query": "{ me { id } }", "padding": "x" * 100_000}),
    }

    assert {name: graphql_error(response)[:2] for name, response in refused.items()} == {
        "text/plain": (415, "BAD_REQUEST"),
        "a batch": (400, "BAD_REQUEST"),
        "a persisted query": (400, "PERSISTED_QUERY_NOT_SUPPORTED"),
        "no query": (400, "BAD_REQUEST"),
        "not JSON": (400, "BAD_REQUEST"),
        "too large": (413, "BAD_USER_INPUT"),
    }


def test_the_app_still_serves_after_the_refusals(app: AppProcess) -> None:
    assert app.me(None) is None
