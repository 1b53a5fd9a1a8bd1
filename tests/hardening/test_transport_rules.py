"""The transport rules, checked on `python -m app` over a real socket: headers on
every response, JSON-only bodies, GraphQL-shaped refusals on /graphql, a bound on
request heads (431) and on every client string."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from app.concepts.throttling import Count
from app.protocol.bounds import MAX_CLIENT_TEXT, MAX_LOGGED_NAME
from app.server.http import MAX_HEAD_BYTES
from tests.api.helpers import AUTHENTICATE, REGISTER, REQUESTS, USERS
from tests.launched import AppProcess, running_apps

pytestmark = pytest.mark.launcher

ALICE = {"username": "alice", "password": "correct horse"}


DB_NAME = f"transport_{uuid.uuid4().hex}"
ATTEMPTS = Count.Settings.name
FLUSH_ATTEMPTS = 100  # the journal and the log write after the answer: look this often, 0.1 s apart


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[AppProcess]:
    settings = {"MONGODB_URL": database_url, "MONGODB_DB": DB_NAME}
    with running_apps(tmp_path_factory.mktemp("transport"), settings) as (running,):
        yield running


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Any]:
    client: MongoClient[dict[str, Any]] = MongoClient(database_url)
    yield client[DB_NAME]
    client.close()


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


# -- request heads --------------------------------------------------------------------------


def raw_request(app: AppProcess, head: bytes, body: bytes = b"") -> bytes:
    """Send a raw HTTP/1.1 request; everything the server answers until it closes."""
    port = int(app.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)  # refused before it read everything: the answer is still there
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def register_head(padding: int, username: str) -> tuple[bytes, bytes]:
    body = json.dumps({"username": username, "password": "correct horse"}).encode()
    head = (
        b"POST /api/UserAuthentication/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
        b"Authorization: Bearer " + b"x" * padding + b"\r\n\r\n"
    )
    return head, body


@pytest.mark.parametrize("size", [MAX_HEAD_BYTES + 1, 16 * 2**20], ids=["16 KiB + 1", "16 MiB"])
def test_a_request_head_over_16_kib_is_431_before_anything_runs(app: AppProcess, db: Any, size: int) -> None:
    username = f"head{size}"
    head, body = register_head(size, username)

    answer = raw_request(app, head, body)

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"code": "BAD_REQUEST"' in answer
    assert b"x-content-type-options: nosniff" in answer
    assert db[USERS].count_documents({"username": username}) == 0


def test_a_request_head_just_under_the_bound_is_served(app: AppProcess, db: Any) -> None:
    head, body = register_head(0, "underbound")
    head, body = register_head(MAX_HEAD_BYTES - len(head) - 100, "underbound")
    assert len(head) < MAX_HEAD_BYTES

    answer = raw_request(app, head, body)

    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert db[USERS].count_documents({"username": "underbound"}) == 1


# -- client strings ---------------------------------------------------------------------------


def stored_strings(db: Any) -> list[str]:
    """Every string in the journal and the throttling state."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for collection in (REQUESTS, ATTEMPTS):
        for document in db[collection].find():
            walk(document)
    return found


def test_a_string_over_the_bound_is_refused_and_nothing_of_it_is_kept(app: AppProcess, db: Any) -> None:
    huge = "u" * 60_000
    graphql = post(app, "/graphql", json={"query": REGISTER, "variables": {"username": huge, "password": "x" * 5000}})
    rest = post(app, "/api/login", json={"username": huge, "password": "correct horse"})
    inline = post(
        app,
        "/graphql",
        json={"query": f'mutation {{ register(username: "{huge[:5000]}", password: "p") {{ __typename }} }}'},
    )

    assert [e["extensions"]["code"] for e in graphql.json()["errors"]] == ["BAD_USER_INPUT"], graphql.text
    assert "too long" in graphql.json()["errors"][0]["message"]
    assert [e["extensions"]["code"] for e in inline.json()["errors"]] == ["BAD_USER_INPUT"], inline.text
    assert rest.status_code == 400, rest.text
    assert rest.json() == {
        "error": f"Field username is too long (more than {MAX_CLIENT_TEXT} characters).",
        "code": "BAD_USER_INPUT",
    }
    assert huge not in app.log.read_text(errors="replace")


def test_a_string_at_the_bound_is_taken_and_a_long_throttling_key_is_hashed(app: AppProcess, db: Any) -> None:
    name = "n" * MAX_CLIENT_TEXT
    body = post(
        app,
        "/graphql",
        json={"query": AUTHENTICATE, "variables": {"username": name, "password": "wrong pass"}},
        headers={"User-Agent": "A" * 10_000},  # journalled with the request
    )
    assert body.json()["data"]["authenticate"]["code"] == "INVALID_CREDENTIALS", body.text

    for _ in range(FLUSH_ATTEMPTS):
        if any(name in text for text in stored_strings(db)):
            break
        time.sleep(0.1)
    keys = [document["_id"] for document in db[ATTEMPTS].find()]

    assert max(len(text) for text in stored_strings(db)) <= MAX_CLIENT_TEXT + 100
    assert any(" login:sha256:" in key for key in keys), keys
    assert not any(name in key for key in keys)


def test_the_access_log_cuts_operation_names(app: AppProcess) -> None:
    name = "Q" * 5000
    response = post(app, "/graphql", json={"query": f"query {name} {{ me {{ id }} }}", "operationName": name})

    assert response.json() == {"data": {"me": None}}, response.text
    log = ""
    for _ in range(FLUSH_ATTEMPTS):  # the access log writes its line after the response
        log = app.log.read_text(errors="replace")
        if "POST /graphql Q" in log:
            break
        time.sleep(0.1)
    assert f"POST /graphql {'Q' * MAX_LOGGED_NAME} 200" in log, log[-3000:]
    assert "Q" * (MAX_LOGGED_NAME + 1) not in log
