"""Abuse limits of the GraphQL endpoint: an operation over the depth, alias or token
limit is refused with a clear message and runs nothing (no flow, nothing stored),
every time; the same operation within the limits runs. Browser-made ("simple")
POSTs are not executed (CSRF), and cross-origin browser access is only for
CORS_ORIGINS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.helpers import SESSIONS, USERS, Api, StartApi

# register -> user -> id: depth 2, through fragments.
DEEP_REGISTER = """
fragment Who on User { id username }
fragment Success on AuthSuccess { user { ...Who } session }
mutation Deep { register(username: "alice", password: "correct horse") { ...Success } }
"""
THREE_ALIASES = """
mutation Many {
  a: register(username: "alice", password: "correct horse") { __typename }
  b: register(username: "bob", password: "correct horse") { __typename }
  c: register(username: "carol", password: "correct horse") { __typename }
}
"""
REGISTER_PADDED = """
mutation Padded {
  register(username: "alice", password: "correct horse") {
    __typename __typename __typename __typename __typename __typename __typename __typename
  }
}
"""  # 23 tokens

LIMITS: dict[str, tuple[str, dict[str, int], dict[str, int], str, int]] = {
    # name: operation, settings refusing it, settings allowing it, words of the message, users it creates
    "depth": (DEEP_REGISTER, {"graphql_max_depth": 1}, {"graphql_max_depth": 2}, "depth", 1),
    "aliases": (THREE_ALIASES, {"graphql_max_aliases": 2}, {"graphql_max_aliases": 3}, "aliases", 3),
    "tokens": (REGISTER_PADDED, {"graphql_max_tokens": 22}, {"graphql_max_tokens": 23}, "tokens", 1),
}


async def post(api: Api, query: str) -> dict[str, Any]:
    response = await api.http.post("/graphql", json={"query": query})
    assert response.status_code in (200, 400), response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("limit", LIMITS)
async def test_an_operation_over_a_limit_is_refused_every_time_and_runs_nothing(
    start_api: StartApi, limit: str
) -> None:
    operation, refusing, _, words, _ = LIMITS[limit]
    async with start_api(**refusing) as api:
        for _ in range(2):  # the second time from the parse and validation caches
            body = await post(api, operation)

            assert body.get("data") is None, body
            [error] = body["errors"]
            assert words in error["message"], error
            assert error["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED"), error

        assert list(api.engine.recent) == []
        await api.flush()
        assert await api.count(USERS) == 0
        assert await api.count(SESSIONS) == 0


@pytest.mark.parametrize("limit", LIMITS)
async def test_the_same_operation_within_the_limit_runs(start_api: StartApi, limit: str) -> None:
    operation, _, allowing, _, users = LIMITS[limit]
    async with start_api(**allowing) as api:
        body = await post(api, operation)

        assert "errors" not in body, body
        assert await api.count(USERS) == users


# -- CSRF: a browser may POST these content types cross-site without asking (no preflight) ------

REGISTER_QUERY = 'mutation { register(username: "alice", password: "correct horse") { __typename } }'
REGISTER_JSON = json.dumps({"query": REGISTER_QUERY})
SIMPLE_REQUESTS: dict[str, dict[str, Any]] = {
    "text/plain": {"content": REGISTER_JSON, "headers": {"Content-Type": "text/plain"}},
    "text/plain with a charset": {"content": REGISTER_JSON, "headers": {"Content-Type": "text/plain; charset=utf-8"}},
    "a urlencoded form": {"data": {"query": REGISTER_QUERY}},
    "a multipart form": {"files": {"query": (None, REGISTER_QUERY)}},
    "a multipart form of operations": {
        "files": {"operations": (None, REGISTER_JSON), "map": (None, "{}")},
    },
    "no content type": {"content": REGISTER_JSON, "headers": {"Content-Type": ""}},
}


@pytest.mark.parametrize("request_kwargs", SIMPLE_REQUESTS.values(), ids=SIMPLE_REQUESTS.keys())
async def test_a_mutation_posted_as_a_simple_browser_request_is_not_executed(
    api: Api, request_kwargs: dict[str, Any]
) -> None:
    kwargs = {**request_kwargs, "headers": {"Origin": "https://evil.example", **request_kwargs.get("headers", {})}}

    response = await api.http.post("/graphql", **kwargs)

    assert 400 <= response.status_code < 500, response.text
    assert list(api.engine.recent) == []
    assert await api.count(USERS) == 0


# -- CORS ----------------------------------------------------------------------------------------


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("path", ["/graphql", "/api/me"])
async def test_by_default_no_origin_is_allowed_across_origins(api: Api, path: str) -> None:
    options = await api.http.options(path, headers=preflight("https://app.example"))
    post = await api.http.post(path, json={"query": "{ me { id } }"}, headers={"Origin": "https://app.example"})

    assert "access-control-allow-origin" not in options.headers
    assert "access-control-allow-origin" not in post.headers


@pytest.mark.parametrize("path", ["/graphql", "/api/me"])
async def test_a_configured_origin_passes_the_preflight(start_api: StartApi, path: str) -> None:
    async with start_api(cors_origins=["https://app.example"]) as api:
        response = await api.http.options(path, headers=preflight("https://app.example"))

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example.evil.example", "null"])
async def test_another_origin_fails_the_preflight(start_api: StartApi, origin: str) -> None:
    async with start_api(cors_origins=["https://app.example"]) as api:
        response = await api.http.options("/graphql", headers=preflight(origin))

    assert response.status_code == 400, response.text
    assert "access-control-allow-origin" not in response.headers, response.headers


async def test_a_configured_origin_can_read_the_answer(start_api: StartApi) -> None:
    async with start_api(cors_origins=["https://app.example"]) as api:
        allowed = await api.http.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Origin": "https://app.example"}
        )
        other = await api.http.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Origin": "https://evil.example"}
        )

    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers
