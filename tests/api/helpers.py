"""What the API tests share: a running app with client helpers, queries, assertions."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from app.concepts.throttling import Throttling
from app.database import Client
from app.engine import Engine
from app.server.services import Services
from app.settings import Settings

USERS = "UserAuthentication.users"
SESSIONS = "Sessioning.sessions"
REQUESTS = "Requesting.requests"

REGISTER = """
mutation Register($username: String!, $password: String!) {
  register(username: $username, password: $password) {
    __typename
    ... on AuthSuccess { user { id username } session expiresAt }
    ... on UserError { code message }
  }
}
"""

AUTHENTICATE = """
mutation Authenticate($username: String!, $password: String!) {
  authenticate(username: $username, password: $password) {
    __typename
    ... on AuthSuccess { user { id username } session expiresAt }
    ... on UserError { code message }
  }
}
"""

CHANGE_OWN_PASSWORD = """
mutation Change($old: String!, $new: String!) {
  changePassword(oldPassword: $old, newPassword: $new) {
    __typename
    ... on ChangePasswordSuccess { user { id username } }
    ... on UserError { code message }
  }
}
"""

ME = "{ me { id username } }"

USERNAME = "query Name($user: ID!) { usernameById(user: $user) }"


@asynccontextmanager
async def served(
    app: Starlette, base_url: str = "http://test", *, raise_app_exceptions: bool = True
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """The app with its lifespan started, and a client calling it as a server would (each
    request gets its own copy of the lifespan's state, as uvicorn gives it). Without
    `raise_app_exceptions`, a crash is a 500, as in production."""
    async with app.router.lifespan_context(app) as state:

        async def server(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=server, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield (state or {})["services"], http


def settings_for(database_url: str, db_name: str, **overrides: Any) -> Settings:
    """The settings of an app under test: this test's database, a random key, cheap hashing."""
    values: dict[str, Any] = {
        "mongodb_url": database_url,
        "mongodb_db": db_name,
        "jwt_secret": secrets.token_urlsafe(36),  # 48 characters
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "log_level": "INFO",
        "requesting_journal": "all",  # tests read the journal
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class Api:
    app: Starlette
    services: Services
    http: httpx.AsyncClient
    mongo: Client
    db_name: str

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def throttling(self) -> Throttling:
        concept = self.engine.concepts["Throttling"]
        assert isinstance(concept, Throttling)
        return concept

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        """POST /graphql; the decoded JSON body (asserting a 200)."""
        response = await self.gql_response(query, variables, token)
        assert response.status_code == 200, response.text
        return response.json()

    async def gql_response(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def rest(self, path: str, body: Any = None, *, content: bytes | None = None) -> httpx.Response:
        """POST /api<path> with `body` as JSON (or raw `content`)."""
        if content is not None:
            return await self.http.post(f"/api{path}", content=content, headers={"Content-Type": "application/json"})
        return await self.http.post(f"/api{path}", json=body)

    async def register(self, username: str, password: str = "correct horse") -> tuple[str, str]:
        """Register through GraphQL; (user id, session token)."""
        body = await self.gql(REGISTER, {"username": username, "password": password})
        result = body["data"]["register"]
        assert result["__typename"] == "AuthSuccess", body
        return result["user"]["id"], result["session"]

    async def authenticate(self, username: str, password: str = "correct horse") -> str:
        """Authenticate through GraphQL; the new session token."""
        body = await self.gql(AUTHENTICATE, {"username": username, "password": password})
        result = body["data"]["authenticate"]
        assert result["__typename"] == "AuthSuccess", body
        return result["session"]  # type: ignore[no-any-return]

    async def me(self, token: str | None) -> dict[str, Any] | None:
        body = await self.gql(ME, token=token)
        assert "errors" not in body, body
        return body["data"]["me"]  # type: ignore[no-any-return]

    async def count(self, collection: str, query: dict[str, Any] | None = None) -> int:
        return await self.mongo[self.db_name][collection].count_documents(query or {})

    async def settled(self) -> None:
        """Once the app's session cache has applied every change committed so far (a test
        that changes sessions or users behind the app's back waits for it, as the app
        answers for them from its cache until its change feed brings the change)."""
        feed = self.services.feed
        if feed is not None:
            await feed.settled()

    async def flush(self) -> None:
        """Write the request journal now (it is written behind the responses)."""
        journal = self.services.journal
        if journal is not None:
            await journal.flush()


def assert_gql_error(body: dict[str, Any], code: str, field: str | None = None) -> dict[str, Any]:
    """`body` is a GraphQL error with `extensions.code == code` and no data for the field
    (`data` null for a non-null field, or `data[field]` null for a nullable one)."""
    assert body.get("errors"), body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code], body
    if field is None:
        assert body["data"] is None, body
    else:
        assert body["data"] == {field: None}, body
    return body["errors"][0]  # type: ignore[no-any-return]


def assert_expiry(value: str, ttl: timedelta = timedelta(days=7)) -> datetime:
    """An ISO 8601 timestamp in UTC, with its offset, about `ttl` from now."""
    expires = datetime.fromisoformat(value)
    assert expires.tzinfo is not None, value
    assert expires.utcoffset() == timedelta(0), value
    now = datetime.now(UTC)
    assert now < expires, value
    assert abs(expires - (now + ttl)) < timedelta(minutes=1), value
    return expires


StartApi = Callable[..., AbstractAsyncContextManager[Api]]
"""The `start_api` fixture: `async with start_api(**settings) as api`."""
