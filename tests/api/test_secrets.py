"""Passwords and session tokens never reach the log or the database, even with the
engine tracing every action at DEBUG."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from .helpers import AUTHENTICATE, CHANGE_OWN_PASSWORD, REGISTER, Api, StartApi

PASSWORDS = ["first secret pässword", "second secret pässword"]


async def every_document(api: Api) -> str:
    database = api.mongo[api.db_name]
    dump: list[Any] = []
    for name in await database.list_collection_names():
        dump.append(name)
        dump.extend(await database[name].find().to_list())
    return str(dump)


async def test_passwords_and_tokens_reach_neither_the_log_nor_the_database(
    caplog: pytest.LogCaptureFixture, start_api: StartApi
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    async with start_api(log_level="DEBUG") as api:
        old, new = PASSWORDS
        registered = (await api.gql(REGISTER, {"username": "alice", "password": old}))["data"]["register"]
        authenticated = (await api.gql(AUTHENTICATE, {"username": "ALICE", "password": old}))["data"]["authenticate"]
        changed = await api.gql(CHANGE_OWN_PASSWORD, {"old": old, "new": new}, token=authenticated["session"])
        login = (await api.rest("/login", {"username": "alice", "password": new})).json()
        rest_change = await api.rest(
            "/UserAuthentication/changePassword",
            {"session": login["session"], "oldPassword": new, "newPassword": old},
        )
        logged_out = await api.gql("mutation { logout { ok } }", token=login["session"])
        failed = (await api.gql(AUTHENTICATE, {"username": "alice", "password": new}))["data"]["authenticate"]
        await api.flush()
        database = await every_document(api)

    assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess", changed
    assert rest_change.status_code == 200, rest_change.text
    assert logged_out == {"data": {"logout": {"ok": True}}}
    assert failed["code"] == "INVALID_CREDENTIALS"
    tokens = [registered["session"], authenticated["session"], login["session"]]
    # The engine traced every action (so the checks below look at something) ...
    for action in ["UserAuthentication.register", "UserAuthentication.authenticate", "Sessioning.create"]:
        assert action in caplog.text
    assert "UserAuthentication.changePassword" in caplog.text
    assert "Sessioning.delete" in caplog.text
    assert "Requesting.requests" in database and "alice" in database
    # ... and showed no secret.
    for secret in [*PASSWORDS, *tokens]:
        assert secret not in caplog.text
        assert secret not in database
    # Nor any part of a token (its signature alone would do harm).
    for token in tokens:
        assert token.split(".")[2] not in caplog.text
        assert token.split(".")[2] not in database
