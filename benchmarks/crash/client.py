"""The GraphQL calls the crash checker makes, and how it reads their answers."""

from __future__ import annotations

from typing import Any, Literal

import httpx

REGISTER = """mutation($u: String!, $p: String!) {
  register(username: $u, password: $p) { __typename ... on AuthSuccess { session } ... on UserError { code } }
}"""
AUTHENTICATE = """mutation($u: String!, $p: String!) {
  authenticate(username: $u, password: $p) { __typename ... on AuthSuccess { session } ... on UserError { code } }
}"""
LOGOUT = "mutation { logout { ok } }"
CURRENT = "{ sessions { id current } }"
REVOKE = "mutation($id: ID!) { revokeSession(id: $id) { __typename ... on UserError { code } } }"
REVOKE_ALL = "mutation { logoutEverywhere(keepCurrent: true) { revoked } }"
CHANGE_PASSWORD = """mutation($o: String!, $n: String!) {
  changePassword(oldPassword: $o, newPassword: $n) { __typename ... on UserError { code } }
}"""
DELETE_ACCOUNT = "mutation { deleteAccount { __typename ... on UserError { code } } }"
ME = "{ me { id } }"

Answer = Literal["ok", "refused", "none"]
"""ok: done as asked. refused: the server answered that it would not (a UserError,
UNAUTHENTICATED). none: no answer the client can rely on (no connection, a database
that is down, a timeout): it may or may not have happened."""

REFUSALS = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"}


async def call(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> tuple[Answer, dict[str, Any]]:
    """POST the query; what the answer means, and the field's data."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    try:
        response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return "none", {}
    errors = body.get("errors")
    if errors:
        codes = {(error.get("extensions") or {}).get("code") for error in errors}
        return ("refused" if codes <= REFUSALS else "none"), {}
    data = body.get("data")
    if not isinstance(data, dict):
        return "none", {}
    value = next(iter(data.values()), None)
    if isinstance(value, dict) and value.get("__typename") == "UserError":
        return "refused", value
    return "ok", value if isinstance(value, dict) else {"value": value}


async def logs_in(http: httpx.AsyncClient, username: str, password: str) -> bool | None:
    """Whether the password logs in now (the session it makes is ended at once); None if
    the server did not answer."""
    answer, data = await call(http, AUTHENTICATE, {"u": username, "p": password})
    if answer == "ok":
        await call(http, LOGOUT, token=data["session"])
        return True
    return False if answer == "refused" else None


async def works(http: httpx.AsyncClient, token: str) -> bool | None:
    """Whether the session is alive now; None if the server did not answer."""
    answer, data = await call(http, ME, token=token)
    if answer != "ok":
        return None
    return data.get("value") is not None or bool(data.get("id"))
