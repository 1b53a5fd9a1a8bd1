"""Schemathesis in GraphQL mode against the live app (`python -m app` on a loopback
port): a bounded, deterministic number of generated operations (about 250), valid
and invalid ones, for every field of the schema, signed in or not. No answer is a
5xx, and every answer is well-formed GraphQL: `data` and/or `errors`, each error
with a message and one of the API's request-level codes (never
INTERNAL_SERVER_ERROR), and the data fits the schema.

The schema is read by introspection from the running app; the operations to fuzz
are listed from `schema.graphql`, which a transport test keeps equal to it."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.specs.graphql.schemas import GraphQLSchema
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.launched import ROOT, AppProcess, running_apps

pytestmark = pytest.mark.launcher

SDL = ROOT / "schema.graphql"
EXAMPLES = 15  # per operation and mode: 12 fields x 2 modes x 15 = 360 operations at most
OPERATIONS = [result.ok().label for result in schemathesis.graphql.from_path(SDL).get_all_operations()]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
EXPECTED_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED"}
"""Request-level errors a fuzzed operation may get while the database is up."""
ENDS_SESSIONS = {"Mutation.logout", "Mutation.changePassword", "Mutation.deleteAccount", "Mutation.logoutEverywhere"}
"""Operations that may revoke the token they were sent with: each gets a new user."""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[AppProcess]:
    settings = {
        "MONGODB_URL": database_url,
        "MONGODB_DB": f"fuzz_{uuid.uuid4().hex}",
        "JWT_SECRET": secrets.token_urlsafe(36),
        "THROTTLE_ADDRESS_FAILURES": "100000",  # keep authenticate checking passwords
        "THROTTLE_ADDRESS_REGISTRATIONS": "100000",  # and register making users
    }
    with running_apps(tmp_path_factory.mktemp("fuzz"), settings) as (app,):
        yield app


@pytest.fixture(scope="module")
def live_schema(live: AppProcess) -> GraphQLSchema:
    return schemathesis.graphql.from_url(f"{live.url}/graphql", wait_for_schema=10.0)


@pytest.fixture(scope="module")
def token(live: AppProcess) -> str:
    """A session shared by the operations that cannot end it."""
    return live.register("fuzzer")[1]


def test_the_live_schema_has_the_fields_of_schema_graphql(live_schema: GraphQLSchema) -> None:
    assert [result.ok().label for result in live_schema.get_all_operations()] == OPERATIONS


def assert_well_formed(case: Case, response: requests.Response) -> None:
    where = f"{case.operation.label}: {case.body!r} -> {response.status_code} {response.text[:500]}"
    assert response.status_code < 500, where
    body: Any = response.json()
    assert isinstance(body, dict), where
    assert set(body) <= {"data", "errors", "extensions"}, where
    assert "data" in body or "errors" in body, where
    assert body.get("data") is None or isinstance(body["data"], dict), where
    for error in body.get("errors") or []:
        assert isinstance(error.get("message"), str), where
        assert error.get("extensions", {}).get("code") in EXPECTED_CODES, where
    if response.status_code != 200:  # only a document refused as a whole is not a 200
        assert body.get("data") is None and body.get("errors"), where
    case.validate_response(response, checks=[response_schema_conformance])


@pytest.mark.parametrize("mode", MODES, ids=[mode.value for mode in MODES])
@pytest.mark.parametrize("label", OPERATIONS)
def test_fuzzed_operations_get_well_formed_answers_and_no_5xx(
    live: AppProcess, live_schema: GraphQLSchema, token: str, label: str, mode: GenerationMode
) -> None:
    root, field = label.split(".")
    operation = live_schema[root][field]
    users = count(1)
    calls: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode), signed_in=st.booleans())
    def fuzz(case: Case, signed_in: bool) -> None:
        headers = {}
        if signed_in:
            session = token if label not in ENDS_SESSIONS else live.register(f"{field}{mode.value[:3]}{next(users)}")[1]
            headers["Authorization"] = f"Bearer {session}"
        response = case.call(base_url=f"{live.url}/graphql", headers=headers, timeout=10)
        calls.append(response.status_code)
        assert_well_formed(case, response)

    fuzz()

    assert len(calls) >= 3, f"only {len(calls)} operations generated for {label}"


def test_fuzzing_leaves_the_shared_session_valid(live: AppProcess, token: str) -> None:
    """The fuzzed operations that cannot end a session did not end the shared one."""
    assert live.me(token) is not None
