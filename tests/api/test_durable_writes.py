"""Acknowledged means durable: every write the app makes to accounts, credentials and
sessions asks to be journaled on a majority before it is answered; only the writes
whose loss is harmless (attempt counts, the request journal, `lastUsedAt`) ask for
less. Seen on the wire, as the database receives them, over a whole workload."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.database.write_concern import durable_options
from tests.database.wire import Command, WireProxy

from .helpers import CHANGE_OWN_PASSWORD, SESSIONS, Api, StartApi

DURABLE = {"w": "majority", "j": True}
CHEAP = {"w": 1}
CHEAP_COLLECTIONS = {"Throttling.counts", "Requesting.requests"}


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("mongodb://db:27017/", {"w": "majority", "journal": True}),
        ("mongodb://db:27017/?retryWrites=false", {"w": "majority", "journal": True}),
        ("mongodb://db:27017/?w=2", {"journal": True}),
        ("mongodb+srv://cluster.example.net/?retryWrites=true&w=majority", {"journal": True}),
        ("mongodb://a:1,b:2/auth?replicaSet=rs&W=1&Journal=false", {}),
        ("mongodb://db/?journal=true&wtimeoutMS=5000", {"w": "majority"}),
    ],
)
def test_the_url_sets_the_write_concern_and_the_rest_is_durable(url: str, options: dict[str, Any]) -> None:
    assert durable_options(url) == options


@pytest.fixture
def proxy(database_url: str) -> Iterator[WireProxy]:
    address = urlsplit(database_url)
    with WireProxy((address.hostname or "127.0.0.1", address.port or 27017)) as running:
        yield running


@pytest.fixture
async def wired(start_api: StartApi, proxy: WireProxy) -> AsyncIterator[Api]:
    async with start_api(mongodb_url=proxy.url) as api:
        yield api


def touches_last_use(command: Command) -> bool:
    """Sessioning.touch: the update that moves a session's lastUsedAt."""
    return command.name == "update" and any(
        isinstance(statement["u"], list) and "last_used" in statement["u"][0].get("$set", {})
        for statement in command.statements
    )


def kind(command: Command) -> str:
    return "lastUsedAt" if touches_last_use(command) else f"{command.name} {command.collection}"


async def workload(api: Api) -> None:
    """Every kind of write a client can cause: accounts, credentials, sessions, counts, the journal."""
    _, token = await api.register("alice")
    other = await api.authenticate("alice")
    third = await api.authenticate("alice")
    handle = (await api.gql("{ sessions { id current } }", token=token))["data"]["sessions"][-1]["id"]
    revoked = await api.gql("mutation($id: ID!) { revokeSession(id: $id) { __typename } }", {"id": handle}, token=token)
    assert revoked["data"]["revokeSession"]["__typename"] == "RevokeSessionSuccess", revoked
    await api.gql("mutation { logoutEverywhere(keepCurrent: true) { revoked } }", token=token)
    changed = await api.gql(CHANGE_OWN_PASSWORD, {"old": "correct horse", "new": "a new password"}, token)
    assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess", changed
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await api.mongo[api.db_name][SESSIONS].update_many({}, {"$set": {"last_used": an_hour_ago}})
    assert await api.me(token) is not None  # marks the session used
    await api.gql("mutation { logout { __typename } }", token=token)
    _, bob = await api.register("bob_the_builder")
    deleted = await api.gql("mutation { deleteAccount { __typename } }", token=bob)
    assert deleted["data"]["deleteAccount"]["__typename"] == "DeleteAccountSuccess", deleted
    assert (await api.gql(CHANGE_OWN_PASSWORD, {"old": "wrong password", "new": "x" * 9}, other)).get("errors")
    assert await api.me(third) is None
    await api.flush()


async def test_writes_to_accounts_credentials_and_sessions_are_journaled_on_a_majority(
    wired: Api, proxy: WireProxy
) -> None:
    proxy.forget()
    await workload(wired)
    writes = proxy.writes()

    durable = [command for command in writes if command.collection not in CHEAP_COLLECTIONS]
    durable = [command for command in durable if not touches_last_use(command)]
    assert {kind(command) for command in durable} >= {
        "insert UserAuthentication.users",
        "update UserAuthentication.users",
        "delete UserAuthentication.users",
        "insert Sessioning.sessions",
        "delete Sessioning.sessions",
    }
    not_durable = [(str(command), command.write_concern) for command in durable if command.write_concern != DURABLE]
    assert not_durable == []


async def test_only_counts_the_request_journal_and_last_use_are_written_cheaply(wired: Api, proxy: WireProxy) -> None:
    proxy.forget()
    await workload(wired)
    writes = proxy.writes()

    cheap = [command for command in writes if command.collection in CHEAP_COLLECTIONS or touches_last_use(command)]
    assert {kind(command) for command in cheap} >= {
        "update Throttling.counts",
        "insert Requesting.requests",
        "lastUsedAt",
    }
    assert [(str(command), command.write_concern) for command in cheap if command.write_concern != CHEAP] == []
