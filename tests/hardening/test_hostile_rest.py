"""Hostile REST bodies: every path of the REST protocol, every field, given what a
client should never send. Each is answered 400 (413 over the body limit) before any
action runs: no new flow in the engine, no user, session or request stored.

One app serves the whole module (the bodies change nothing, and each test checks
that against the state it found); alice is registered up front so the paths that
need a session have one."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.api.endpoint import GraphQLEndpoint
from app.api.handler import RequestHandler
from app.concepts.throttling import Count
from app.database import Client
from app.protocol.bounds import MAX_CLIENT_TEXT
from app.protocol.routes import ID
from app.server.application import create_app
from app.settings import Settings
from tests.api.helpers import REQUESTS, SESSIONS, USERS, Api, served, settings_for
from tests.assembled import routes

THROTTLED = Count.Settings.name
COLLECTIONS = [USERS, SESSIONS, REQUESTS, THROTTLED]
BODY_LIMIT = Settings.model_fields["max_body_bytes"].default
ROUTES = {route.path: route for route in routes() if route.rest}
"""Every REST path, as the routes declare it: a new route is tested here without an edit."""


@dataclass
class Alice:
    user: str
    session: str


@pytest.fixture(scope="module")
async def module_api(database_url: str, mongo_client: Client) -> AsyncIterator[Api]:
    name = f"hostile_{uuid.uuid4().hex}"
    app = create_app(settings_for(database_url, name))
    try:
        async with served(app, "http://t", raise_app_exceptions=False) as (services, http):
            yield Api(app, services, http, mongo_client, name)
    finally:
        await mongo_client.drop_database(name)


@pytest.fixture(scope="module")
async def alice(module_api: Api) -> Alice:
    user, session = await module_api.register("alice", "correct horse")
    return Alice(user, session)


ANY: dict[type, Any] = {str: "x", ID: "x", int: 1, bool: True}


def valid_body(path: str, alice: Alice) -> dict[str, Any]:
    """A body the path accepts (every input given; inputs not named here get any text or number)."""
    values = {
        "username": "mallory",
        "password": "correct horse",
        "session": alice.session,
        "user": alice.user,
        "oldPassword": "correct horse",
        "newPassword": "another horse",
        "first": 10,
        "after": alice.user,
        "id": "a-session-id",
        "keepCurrent": True,
    }
    return {i.name: values.get(i.name, ANY[i.type]) for i in ROUTES[path].inputs}


async def snapshot(api: Api) -> tuple[list[str], dict[str, int]]:
    """The flows the engine has seen and the documents stored, to compare after a request."""
    await api.flush()
    counts = {collection: await api.count(collection) for collection in COLLECTIONS}
    return [flow.id for flow in api.engine.recent], counts


async def assert_rejected_before_any_action(api: Api, content: bytes, path: str, status: int = 400) -> None:
    before = await snapshot(api)

    response = await api.http.post(f"/api{path}", content=content, headers={"Content-Type": "application/json"})

    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == "BAD_USER_INPUT", body
    assert isinstance(body["error"], str) and body["error"], body
    flows, counts = await snapshot(api)
    assert flows == before[0], "a flow ran: an action was invoked"
    assert counts == before[1]


PATHS = sorted(ROUTES)
OPERATOR = {"$gt": ""}
WRONG_VALUES: dict[str, Any] = {
    "an operator": OPERATOR,
    "an $ne operator": {"$ne": None},
    "a nested object": {"a": {"b": {"c": ["d"]}}},
    "an array": ["alice"],
    "an array of operators": [OPERATOR],
    "a number": 12345,
    "a float": 1.5,
    "a boolean": True,
}
INPUTS = [(path, i) for path in PATHS for i in ROUTES[path].inputs]
STRING_FIELDS = [(path, i.name) for path, i in INPUTS if i.type in (str, ID)]
REQUIRED_FIELDS = [(path, i.name) for path, i in INPUTS if not i.optional]


def field_id(case: tuple[str, str]) -> str:
    return f"{case[0]}.{case[1]}"


@pytest.mark.parametrize("value", WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
@pytest.mark.parametrize("field", STRING_FIELDS, ids=field_id)
async def test_a_string_field_of_another_type_is_400_before_any_action(
    module_api: Api, alice: Alice, field: tuple[str, str], value: Any
) -> None:
    path, name = field
    body = {**valid_body(path, alice), name: value}

    await assert_rejected_before_any_action(module_api, json.dumps(body).encode(), path)


@pytest.mark.parametrize(
    "value",
    ["10", 10.0, True, OPERATOR, [10], 1e400],
    ids=["a string", "a float", "a boolean", "an operator", "an array", "infinity"],
)
async def test_first_of_another_type_than_integer_is_400_before_any_action(
    module_api: Api, alice: Alice, value: Any
) -> None:
    path = "/UserAuthentication/_getAllUsers"
    body = {**valid_body(path, alice), "first": value}

    await assert_rejected_before_any_action(module_api, json.dumps(body).encode(), path)


@pytest.mark.parametrize("field", STRING_FIELDS, ids=field_id)
async def test_a_string_field_of_10_kb_or_over_its_own_bound_is_400_before_any_action(
    module_api: Api, alice: Alice, field: tuple[str, str]
) -> None:
    path, name = field
    given = ROUTES[path].input(name)
    assert given is not None
    body = {**valid_body(path, alice), name: "x" * max(10_000, given.max_length + 1)}
    assert MAX_CLIENT_TEXT < 10_000

    await assert_rejected_before_any_action(module_api, json.dumps(body).encode(), path)


@pytest.mark.parametrize("field", REQUIRED_FIELDS, ids=field_id)
async def test_a_required_field_given_as_null_is_400_before_any_action(
    module_api: Api, alice: Alice, field: tuple[str, str]
) -> None:
    path, name = field
    body = {**valid_body(path, alice), name: None}

    await assert_rejected_before_any_action(module_api, json.dumps(body).encode(), path)


@pytest.mark.parametrize("key", ["admin", "$where", "path", "client", "request", "session.user"])
@pytest.mark.parametrize("path", PATHS)
async def test_an_unknown_key_is_400_before_any_action(module_api: Api, alice: Alice, path: str, key: str) -> None:
    body = {**valid_body(path, alice), key: "x"}

    await assert_rejected_before_any_action(module_api, json.dumps(body).encode(), path)


def whole_bodies(path: str, alice: Alice) -> dict[str, bytes]:
    valid = json.dumps(valid_body(path, alice))
    return {
        "not JSON": b"username=alice&password=correct+horse",
        "truncated JSON": valid[:-3].encode(),
        "a JSON array": f"[{valid}]".encode(),
        "an empty JSON array": b"[]",
        "a JSON string": json.dumps(valid).encode(),
        "a JSON number": b"42",
        "JSON null": b"null",
        "JSON true": b"true",
        "invalid UTF-8": valid.replace('"', '"\xff', 1).encode("latin-1"),
        "two JSON objects": f"{valid}{valid}".encode(),
    }


WHOLE_BODY_KINDS = list(whole_bodies(PATHS[0], Alice("u", "s")))


@pytest.mark.parametrize("kind", WHOLE_BODY_KINDS)
@pytest.mark.parametrize("path", PATHS)
async def test_a_body_that_is_not_one_json_object_is_400_before_any_action(
    module_api: Api, alice: Alice, path: str, kind: str
) -> None:
    await assert_rejected_before_any_action(module_api, whole_bodies(path, alice)[kind], path)


DEEP = 5_000  # levels of nesting, far past the recursion limit and within the body limit


@pytest.mark.parametrize(
    "content",
    [
        b"[" * DEEP + b"]" * DEEP,
        b'{"username": "alice", "password": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"username": "alice", "password": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
    ],
    ids=["nested arrays", "a nested array as a field", "a nested object as a field"],
)
@pytest.mark.parametrize("path", ["/UserAuthentication/register", "/login"])
async def test_deeply_nested_json_is_400_before_any_action(module_api: Api, path: str, content: bytes) -> None:
    """Nesting deeper than Python's recursion limit makes `json.loads` raise
    RecursionError, which is not a ValueError."""
    assert len(content) < BODY_LIMIT

    await assert_rejected_before_any_action(module_api, content, path)


@pytest.mark.parametrize("path", [path for path in PATHS if any(not i.optional for i in ROUTES[path].inputs)])
async def test_an_empty_body_where_fields_are_required_is_400_before_any_action(module_api: Api, path: str) -> None:
    await assert_rejected_before_any_action(module_api, b"", path)


@pytest.mark.parametrize("path", PATHS)
async def test_a_body_of_100_kb_is_413_before_any_action(module_api: Api, alice: Alice, path: str) -> None:
    body = {**valid_body(path, alice), "padding": "x" * 100_000}
    assert BODY_LIMIT < 100_000

    await assert_rejected_before_any_action(module_api, json.dumps(body).encode(), path, status=413)


async def test_a_body_of_100_kb_streamed_without_a_length_is_413_before_any_action(
    module_api: Api, alice: Alice
) -> None:
    path = "/UserAuthentication/register"
    content = json.dumps({**valid_body(path, alice), "padding": "x" * 100_000}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 8192):
            yield content[start : start + 8192]

    before = await snapshot(module_api)
    response = await module_api.http.post(f"/api{path}", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413, response.text
    assert await snapshot(module_api) == before


async def test_an_integer_beyond_64_bits_costs_no_request_its_record(module_api: Api, alice: Alice) -> None:
    """`first` is an integer, so 10**30 passes the body check and is answered by the
    syncs; its request record, and those stored with it, must still be kept."""
    await module_api.flush()
    before = await module_api.count(REQUESTS)

    me = await module_api.rest("/me", {"session": alice.session})
    huge = await module_api.rest("/UserAuthentication/_getAllUsers", {"session": alice.session, "first": 10**30})
    await module_api.flush()

    assert me.status_code == 200, me.text
    assert huge.status_code == 400, huge.text
    assert huge.json()["code"] == "BAD_USER_INPUT"
    assert await module_api.count(REQUESTS) == before + 2


@pytest.mark.parametrize("field", STRING_FIELDS, ids=field_id)
async def test_a_lone_surrogate_in_a_string_field_is_a_client_error_not_a_crash(
    module_api: Api, alice: Alice, field: tuple[str, str]
) -> None:
    """JSON may escape a lone UTF-16 surrogate (\\ud800), which is no Unicode text:
    rejected, or taken as an unknown name, id, password or session, but never a 500."""
    path, name = field
    content = json.dumps({**valid_body(path, alice), name: "\ud800\udfff\ud800 surrogates"}).encode()

    response = await module_api.rest(path, content=content)

    assert response.status_code < 500, response.text
    assert response.status_code in (200, 400, 401, 403), response.text


LAST_RESORT = [
    ("/api/me", RequestHandler, "handle", {"error": "Internal server error.", "code": "INTERNAL_SERVER_ERROR"}),
    # A resolver's exception is Strawberry's to mask; making the context comes before it.
    (
        "/graphql",
        GraphQLEndpoint,
        "get_context",
        {"errors": [{"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]},
    ),
]


@pytest.mark.parametrize(("path", "owner", "method", "expected"), LAST_RESORT, ids=["rest", "graphql"])
async def test_an_unexpected_exception_is_a_500_in_the_apis_shape_with_the_usual_headers(
    database_url: str, db_name: str, monkeypatch: pytest.MonkeyPatch, path: str, owner: type, method: str, expected: Any
) -> None:
    """Starlette's last resort answers outside every middleware: it says nosniff and
    no-store all the same, and the masked error comes as the API's error."""

    async def crash(self: Any, *args: Any) -> None:
        raise RuntimeError("a bug of ours, with a secret in its message: hunter2")

    monkeypatch.setattr(owner, method, crash)
    app = create_app(settings_for(database_url, db_name))
    async with served(app, "http://t", raise_app_exceptions=False) as (_, http):
        response = await http.post(
            path, json={"session": "x"} if path.startswith("/api") else {"query": "{ me { id } }"}
        )

    assert response.status_code == 500
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == expected
    assert "hunter2" not in response.text
