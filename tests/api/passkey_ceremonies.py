"""Passkey ceremonies through the API, as a frontend runs them, with the software
authenticator of tests/concepts/authenticator.py standing in for the browser: the
GraphQL documents, and helpers that run one step each."""

from __future__ import annotations

import json
from typing import Any

from tests.concepts.authenticator import SoftwareAuthenticator

from .helpers import Api

PASSKEYS = "{ passkeys { id name createdAt lastUsedAt backedUp } }"

BEGIN_REGISTRATION = """
mutation Begin($password: String!) {
  beginPasskeyRegistration(password: $password) {
    __typename
    ... on PasskeyChallenge { optionsJson ticket }
    ... on UserError { code message }
  }
}
"""

FINISH_REGISTRATION = """
mutation Finish($ticket: String!, $credentialJson: String!, $name: String) {
  finishPasskeyRegistration(ticket: $ticket, credentialJson: $credentialJson, name: $name) {
    __typename
    ... on PasskeyAdded { passkey { id name createdAt lastUsedAt backedUp } }
    ... on UserError { code message }
  }
}
"""

REMOVE = """
mutation Remove($id: ID!) {
  removePasskey(id: $id) {
    __typename
    ... on PasskeyRemoved { id }
    ... on UserError { code message }
  }
}
"""

BEGIN_LOGIN = """
mutation Begin($username: String) {
  beginPasskeyLogin(username: $username) { optionsJson ticket }
}
"""

FINISH_LOGIN = """
mutation Finish($ticket: String!, $credentialJson: String!) {
  finishPasskeyLogin(ticket: $ticket, credentialJson: $credentialJson) {
    __typename
    ... on AuthSuccess { user { id username } session expiresAt }
    ... on UserError { code message }
  }
}
"""


def result(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"][field]  # type: ignore[no-any-return]


async def begin_registration(api: Api, token: str, password: str = "correct horse") -> dict[str, Any]:
    return result(await api.gql(BEGIN_REGISTRATION, {"password": password}, token), "beginPasskeyRegistration")


async def finish_registration(
    api: Api, token: str, ticket: str, credential_json: str, name: str | None = None
) -> dict[str, Any]:
    variables = {"ticket": ticket, "credentialJson": credential_json, "name": name}
    return result(await api.gql(FINISH_REGISTRATION, variables, token), "finishPasskeyRegistration")


async def add_passkey(
    api: Api, token: str, device: SoftwareAuthenticator, name: str | None = None, **knobs: Any
) -> dict[str, Any]:
    """Both steps of a registration: the options, the device's answer, its verification."""
    started = await begin_registration(api, token)
    assert started["__typename"] == "PasskeyChallenge", started
    return await finish_registration(
        api, token, started["ticket"], device.create(started["optionsJson"], **knobs), name
    )


async def begin_login(api: Api, username: str | None = None) -> dict[str, Any]:
    return result(await api.gql(BEGIN_LOGIN, {"username": username}), "beginPasskeyLogin")


async def finish_login(api: Api, ticket: str, credential_json: str) -> dict[str, Any]:
    return result(
        await api.gql(FINISH_LOGIN, {"ticket": ticket, "credentialJson": credential_json}), "finishPasskeyLogin"
    )


async def sign_in(api: Api, device: SoftwareAuthenticator, username: str | None = None, **knobs: Any) -> dict[str, Any]:
    """Both steps of a sign-in: the options (for a username, or none), the device's answer, its verification."""
    started = await begin_login(api, username)
    return await finish_login(api, started["ticket"], device.get(started["optionsJson"], **knobs))


def options(started: dict[str, Any]) -> dict[str, Any]:
    return json.loads(started["optionsJson"])  # type: ignore[no-any-return]
