"""Unexpected failures: INTERNAL_SERVER_ERROR (500 in REST) with a masked message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.concepts.user_authentication import PasswordHasher

from .helpers import REGISTER, USERS, Api, StartApi, assert_gql_error

DETAIL = "hasher exploded: secret internal detail"


@pytest.fixture
async def broken_api(start_api: StartApi, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    async def explode(self: PasswordHasher, password: str) -> str:
        raise RuntimeError(DETAIL)

    monkeypatch.setattr(PasswordHasher, "hash", explode)
    async with start_api() as api:
        yield api


async def test_an_unexpected_failure_is_an_internal_server_error_with_a_masked_message(broken_api: Api) -> None:
    body = await broken_api.gql(REGISTER, {"username": "alice", "password": "correct horse"})

    error = assert_gql_error(body, "INTERNAL_SERVER_ERROR")
    assert DETAIL not in str(body)
    assert "exploded" not in error["message"]
    assert await broken_api.count(USERS) == 0


async def test_rest_an_unexpected_failure_is_500_with_a_masked_message(broken_api: Api) -> None:
    response = await broken_api.rest("/UserAuthentication/register", {"username": "alice", "password": "long enough"})

    assert response.status_code == 500, response.text
    assert response.json()["code"] == "INTERNAL_SERVER_ERROR"
    assert "exploded" not in response.text


async def test_an_unexpected_failure_leaves_the_next_request_unharmed(broken_api: Api) -> None:
    await broken_api.gql(REGISTER, {"username": "alice", "password": "correct horse"})

    assert await broken_api.me(None) is None
