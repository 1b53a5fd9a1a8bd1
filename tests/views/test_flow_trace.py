"""The trace of a request: with DEBUG_FLOWS, each
GraphQL response's `extensions.flow`, each REST response's X-Flow-Id, the recent
flows at /flows; without it, none of them. Secrets show as `***`; every access-log
line carries the flow id."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.api.helpers import ME, REGISTER, Api, StartApi

PASSWORD = "correct horse battery"
REGISTER_FLOW = [  # (action, the sync that fired it, the action whose completion fired that sync)
    ("Requesting.request", None, None),
    ("Throttling.attempt", "RegisterAttempt", "Requesting.request"),
    ("UserAuthentication.register", "RegisterRequest", "Throttling.attempt"),
    ("Gating.ask", "RegisterAsksForSession", "UserAuthentication.register"),
    ("Gating.decide", "RegisterAsksForSession", "UserAuthentication.register"),
    ("Sessioning.create", "RegisterCreatesSession", "Gating.decide"),
    ("Requesting.respond", "RegisterResponse", "Sessioning.create"),
]
REGISTER_ACTIONS = [action for action, _, _ in REGISTER_FLOW]
REGISTER_SYNCS = [sync for _, sync, _ in REGISTER_FLOW]


async def register(api: Api, username: str) -> dict[str, Any]:
    """Register through GraphQL; the whole response body."""
    body = await api.gql(REGISTER, {"username": username, "password": PASSWORD})
    assert body["data"]["register"]["__typename"] == "AuthSuccess", body
    return body


async def rest_register(api: Api, username: str) -> Any:
    response = await api.rest("/UserAuthentication/register", {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


def links(tree: list[dict[str, Any]], parent: str | None = None) -> list[tuple[str, str | None, str | None]]:
    """The (action, firing sync, parent action) of every node of a tree, depth first."""
    found = []
    for node in tree:
        found.append((node["action"], node["sync"], parent))
        found += links(node["then"], node["action"])
    return found


# -- With DEBUG_FLOWS -----------------------------------------------------------------------


async def test_a_traced_register_shows_each_action_and_the_sync_that_fired_it(start_api: StartApi) -> None:
    async with start_api(debug_flows=True) as api:
        body = await register(api, "ada")
    flow = body["extensions"]["flow"]
    assert set(flow) == {"id", "actions"}
    assert [a["action"] for a in flow["actions"]] == REGISTER_ACTIONS
    assert [a["sync"] for a in flow["actions"]] == REGISTER_SYNCS
    for action in flow["actions"]:
        assert set(action) == {"action", "input", "output", "sync", "ms"}
        assert isinstance(action["ms"], int | float) and action["ms"] >= 0
    request, attempted, registered, _, _, created, responded = flow["actions"]
    assert attempted["input"]["kind"] == "registration"
    assert request["input"]["path"] == "/UserAuthentication/register"
    assert registered["output"]["user"] == body["data"]["register"]["user"]["id"]
    assert created["input"]["user"] == registered["output"]["user"]
    assert responded["input"]["request"] == request["output"]["request"]


async def test_a_traced_register_shows_the_password_and_the_session_token_as_stars(start_api: StartApi) -> None:
    async with start_api(debug_flows=True) as api:
        body = await register(api, "ada")
    token = body["data"]["register"]["session"]
    extensions = json.dumps(body["extensions"])
    assert PASSWORD not in extensions
    assert token not in extensions
    request, _, registered, _, _, created, responded = body["extensions"]["flow"]["actions"]
    assert request["input"]["password"] == "***"
    assert registered["input"]["password"] == "***"
    assert created["output"]["session"] == "***"
    assert responded["input"]["session"] == "***"


async def test_a_rest_response_carries_the_id_of_its_flow_which_flows_lists(start_api: StartApi) -> None:
    async with start_api(debug_flows=True) as api:
        response = await rest_register(api, "ada")
        flow_id = response.headers["x-flow-id"]
        listed = await api.http.get("/flows")
    assert listed.status_code == 200
    flows = listed.json()["flows"]
    [summary] = [f for f in flows if f["id"] == flow_id]
    assert summary["path"] == "/UserAuthentication/register"
    assert summary["status"] == "OK"
    assert datetime.fromisoformat(summary["time"]).tzinfo is not None
    assert isinstance(summary["ms"], int | float) and summary["ms"] >= 0
    assert PASSWORD not in listed.text


async def test_flows_lists_a_refused_request_with_its_error_code(start_api: StartApi) -> None:
    async with start_api(debug_flows=True) as api:
        await rest_register(api, "ada")
        again = await api.rest("/UserAuthentication/register", {"username": "ada", "password": PASSWORD})
        flows = (await api.http.get("/flows")).json()["flows"]
    [summary] = [f for f in flows if f["id"] == again.headers["x-flow-id"]]
    assert summary["status"] == again.json()["code"]


async def test_a_flow_is_shown_as_a_causal_tree_of_which_sync_fired_which_action(start_api: StartApi) -> None:
    async with start_api(debug_flows=True) as api:
        response = await rest_register(api, "ada")
        flow_id = response.headers["x-flow-id"]
        shown = await api.http.get(f"/flows/{flow_id}")
    assert shown.status_code == 200
    assert shown.headers["content-type"].startswith("application/json")
    flow = shown.json()
    assert flow["id"] == flow_id
    assert links(flow["tree"]) == REGISTER_FLOW
    assert PASSWORD not in shown.text
    assert response.json()["session"] not in shown.text


async def test_a_browser_is_shown_the_flow_as_a_page(start_api: StartApi) -> None:
    async with start_api(debug_flows=True) as api:
        response = await rest_register(api, "ada")
        shown = await api.http.get(f"/flows/{response.headers['x-flow-id']}", headers={"Accept": "text/html"})
    assert shown.status_code == 200
    assert shown.headers["content-type"].startswith("text/html")
    page = shown.text
    for action, fired_by in zip(REGISTER_ACTIONS, REGISTER_SYNCS, strict=True):
        assert action in page
        assert fired_by is None or fired_by in page
    assert PASSWORD not in page
    assert response.json()["session"] not in page


async def test_an_unknown_flow_is_not_found(start_api: StartApi) -> None:
    async with start_api(debug_flows=True) as api:
        shown = await api.http.get("/flows/no-such-flow")
    assert shown.status_code == 404


# -- Without it (the default) ----------------------------------------------------------------


async def test_without_debug_flows_nothing_shows_a_flow(start_api: StartApi) -> None:
    async with start_api() as api:
        body = await register(api, "ada")
        response = await rest_register(api, "grace")
        flow_id = api.engine.recent[-1].id
        listed = await api.http.get("/flows")
        shown = await api.http.get(f"/flows/{flow_id}")
    assert "flow" not in body.get("extensions", {})
    assert "flows" not in body.get("extensions", {})
    assert "x-flow-id" not in response.headers
    assert listed.status_code == 404
    assert shown.status_code == 404


def test_debug_flows_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="DEBUG_FLOWS"):
        Settings(_env_file=None, debug_flows=True, production=True)
    assert Settings(_env_file=None, debug_flows=True).debug_flows
    production = {
        "jwt_secret": secrets.token_urlsafe(48),
        "mongodb_url": "mongodb://db.example",
        "webauthn_rp_id": "auth.example",
        "webauthn_rp_name": "Example",
        "webauthn_origins": ["https://auth.example"],
    }
    assert Settings(_env_file=None, production=True, **production).production


# -- The access log -------------------------------------------------------------------------


def access_lines(caplog: pytest.LogCaptureFixture, path: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "app.access" and f" {path}" in r.getMessage()]


async def test_the_access_log_line_of_a_graphql_call_names_its_operation_and_flow(
    start_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    async with start_api(debug_flows=True) as api:
        body = await register(api, "ada")
    [line] = access_lines(caplog, "/graphql")
    assert "/graphql Register " in line
    assert line.endswith(f"flow={body['extensions']['flow']['id']}")


@pytest.mark.parametrize("debug_flows", [False, True], ids=["flag-off", "flag-on"])
async def test_every_access_log_line_carries_the_flow_id(
    start_api: StartApi, caplog: pytest.LogCaptureFixture, debug_flows: bool
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    async with start_api(debug_flows=debug_flows) as api:
        await api.me(None)
        graphql_flow = api.engine.recent[-1].id
        await rest_register(api, "ada")
        rest_flow = api.engine.recent[-1].id
    [graphql] = access_lines(caplog, "/graphql")
    [rest] = access_lines(caplog, "/api/UserAuthentication/register")
    assert " /graphql 200 " in graphql  # an anonymous operation: no name to show
    assert graphql.endswith(f"flow={graphql_flow}")
    assert rest.endswith(f"flow={rest_flow}")
    assert PASSWORD not in caplog.text


async def test_the_flow_id_in_the_access_log_is_the_one_the_response_shows(
    start_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    async with start_api(debug_flows=True) as api:
        response = await rest_register(api, "ada")
        body = await api.gql(ME)
    [rest] = access_lines(caplog, "/api/UserAuthentication/register")
    [graphql] = access_lines(caplog, "/graphql")
    assert rest.endswith(f"flow={response.headers['x-flow-id']}")
    assert graphql.endswith(f"flow={body['extensions']['flow']['id']}")
