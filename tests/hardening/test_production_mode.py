"""`python -m app` as deployed: PRODUCTION=true closes the schema and GraphiQL and
requires real keys and a real database; configuration errors are one line each; the
start-up log says where the API is, once per launch whatever the workers."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.database import free_port
from app.settings import Settings
from tests.launched import AppProcess, launcher_env, running_apps

pytestmark = pytest.mark.launcher

STARTUP_ATTEMPTS = 400  # looks at the log, 0.1 s apart
INTROSPECTION = "{ __schema { queryType { name } } }"
MISSPELT = "{ mee { id } }"  # graphql-core would suggest `me`
RANDOM_KEY = "Qm9bX2xLr7TfZ0c4VwP1yHs8NaJd6EgUo3iK5tRb_zM"  # secrets.token_urlsafe(32), once
WEAK = (
    "python -m app: PRODUCTION is set, so {} must be a random key: it has under 128 bits of entropy (its length "
    "times the Shannon entropy of its characters; a repeated character or word has little); "
    'generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
)
RELYING_PARTY = {
    "WEBAUTHN_RP_ID": "auth.example",
    "WEBAUTHN_RP_NAME": "Example",
    "WEBAUTHN_ORIGINS": "https://auth.example",
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[dict[str, AppProcess]]:
    production = {
        "PRODUCTION": "true",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "MONGODB_URL": database_url,
        "MONGODB_DB": f"production_{uuid.uuid4().hex}",
        **RELYING_PARTY,
    }
    settings = {
        "closed": production,
        "opened": {**production, "GRAPHQL_INTROSPECTION": "true", "GRAPHIQL": "true", "USER_DIRECTORY": "on"},
        "development": {
            "WORKERS": "2",
            "DEBUG_FLOWS": "true",
            "CORS_ORIGINS": "HTTP://LocalHost:3000/, https://app.example:443",
        },
        "any origin": {"CORS_ORIGINS": "*"},
    }
    with running_apps(tmp_path_factory.mktemp("production"), *settings.values()) as running:
        yield dict(zip(settings, running, strict=True))


def gql(app: AppProcess, query: str) -> dict[str, Any]:
    response = httpx.post(f"{app.url}/graphql", json={"query": query}, timeout=10.0)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def graphiql(app: AppProcess) -> httpx.Response:
    return httpx.get(f"{app.url}/graphql", headers={"Accept": "text/html"}, timeout=10.0)


def test_production_answers_no_introspection(apps: dict[str, AppProcess]) -> None:
    body = gql(apps["closed"], INTROSPECTION)

    assert body.get("data") is None, body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}, body
    assert all("introspection has been disabled" in error["message"] for error in body["errors"]), body


def test_production_suggests_no_names(apps: dict[str, AppProcess]) -> None:
    closed, opened = gql(apps["closed"], MISSPELT), gql(apps["opened"], MISSPELT)

    assert "Did you mean" in opened["errors"][0]["message"], opened  # the check below can fail
    assert closed["errors"][0]["message"] == "Cannot query field 'mee' on type 'Query'.", closed
    assert "me" not in closed["errors"][0]["message"].replace("'mee'", "")


def test_production_serves_no_graphiql(apps: dict[str, AppProcess]) -> None:
    response = graphiql(apps["closed"])

    assert response.status_code == 404, response.text
    assert "graphiql" not in response.text.lower()


def test_production_still_answers_operations_and_typename(apps: dict[str, AppProcess]) -> None:
    assert gql(apps["closed"], "{ __typename me { id } }") == {"data": {"__typename": "Query", "me": None}}


def test_settings_open_introspection_and_graphiql_in_production(apps: dict[str, AppProcess]) -> None:
    body = gql(apps["opened"], INTROSPECTION)

    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert graphiql(apps["opened"]).status_code == 200


def test_production_lists_no_users_unless_the_directory_is_turned_on(apps: dict[str, AppProcess]) -> None:
    closed = apps["closed"].gql("{ allUsers { username } }", token=apps["closed"].register("ada_closed")[1])
    opened = apps["opened"].gql("{ allUsers { username } }", token=apps["opened"].register("ada_opened")[1])

    assert closed["data"] is None
    assert [error["extensions"]["code"] for error in closed["errors"]] == ["FORBIDDEN"]
    assert {"username": "ada_opened"} in opened["data"]["allUsers"]


def test_the_start_up_log_says_where_graphql_and_graphiql_are(apps: dict[str, AppProcess]) -> None:
    development, closed = apps["development"], apps["closed"]

    # Passkeys are for localhost in development, and never work on a page at 127.0.0.1.
    local = development.url.replace("127.0.0.1", "localhost")
    assert f"GraphQL at {local}/graphql" in development.output()
    assert f"GraphiQL at {local}/graphql in a browser" in development.output()
    assert f"GraphQL at {closed.url}/graphql" in closed.output()
    assert "GraphiQL off" in closed.output()


def test_the_development_key_warning_prints_once_per_launch_with_two_workers(apps: dict[str, AppProcess]) -> None:
    output = ""
    for _ in range(STARTUP_ATTEMPTS):  # the second worker may still be starting
        output = apps["development"].log.read_text(errors="replace")
        if output.count("Application startup complete") == 2:
            break
        time.sleep(0.1)

    assert output.count("Application startup complete") == 2, output  # both workers ran
    assert output.count("JWT_SECRET is not set") == 1, output


def test_debug_flows_with_several_workers_is_warned_about_at_start_up(apps: dict[str, AppProcess]) -> None:
    output = apps["development"].output()

    assert "DEBUG_FLOWS with WORKERS=2: each worker keeps only the flows it ran" in output, output
    assert "DEBUG_FLOWS with" not in apps["closed"].output()


PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


def test_cors_origins_may_be_comma_separated_and_are_read_as_browsers_send_them(apps: dict[str, AppProcess]) -> None:
    # Written with capitals, a trailing slash and the default port; sent by browsers without.
    for origin in ["http://localhost:3000", "https://app.example"]:
        response = httpx.options(f"{apps['development'].url}/graphql", headers={"Origin": origin, **PREFLIGHT})

        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == origin
    other = httpx.options(f"{apps['development'].url}/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert other.status_code == 400


def test_any_origin_is_allowed_with_a_warning_outside_production(apps: dict[str, AppProcess]) -> None:
    response = httpx.options(
        f"{apps['any origin'].url}/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT}
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "CORS_ORIGINS is *: any web site may call the API from its visitors' browsers" in apps["any origin"].output()
    assert "CORS_ORIGINS is *" not in apps["development"].output()


# -- refusing to start ------------------------------------------------------------------------


def start(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m app` with these settings, expected to exit at once."""
    env = {**launcher_env(free_port(), tmp_path / "data"), **settings}
    return subprocess.run(
        [sys.executable, "-m", "app"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (
            {"PRODUCTION": "true", **RELYING_PARTY},
            "python -m app: PRODUCTION is set, so JWT_SECRET and MONGODB_URL must be set too "
            "(a generated key and the embedded database are for development)",
        ),
        (
            {"PRODUCTION": "true", "JWT_SECRET": RANDOM_KEY, **RELYING_PARTY},
            "python -m app: PRODUCTION is set, so MONGODB_URL must be set too "
            "(a generated key and the embedded database are for development)",
        ),
        (
            {"PRODUCTION": "true", "JWT_SECRET": RANDOM_KEY, "MONGODB_URL": "mongodb://db.example"},
            "python -m app: PRODUCTION is set, so WEBAUTHN_RP_ID, WEBAUTHN_RP_NAME and WEBAUTHN_ORIGINS must be "
            "set too (passkeys are bound to your site's domain; the defaults are for a development server on "
            "localhost)",
        ),
        (
            {"WEBAUTHN_ORIGINS": "http://127.0.0.1:8000"},
            "python -m app: WEBAUTHN_ORIGINS: http://127.0.0.1:8000 is not on WEBAUTHN_RP_ID (localhost) or one "
            "of its subdomains",
        ),
        (
            {"PORT": "eighty"},
            "python -m app: PORT: Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"CORS_ORIGINS": '["http://a.example"'},
            "python -m app: CORS_ORIGINS: must be a JSON list or comma-separated values",
        ),
        (
            {"CORS_ORIGINS": "garbage["},
            "python -m app: CORS_ORIGINS: 'garbage[' is not an origin: scheme://host[:port], such as "
            "https://app.example.com or http://localhost:3000 (no path, query or credentials)",
        ),
        (
            {"CORS_ORIGINS": "not a url, *"},
            "python -m app: CORS_ORIGINS: 'not a url' is not an origin: scheme://host[:port], such as "
            "https://app.example.com or http://localhost:3000 (no path, query or credentials)",
        ),
        (
            {"CORS_ORIGINS": "https://app.example/login"},
            "python -m app: CORS_ORIGINS: 'https://app.example/login' is not an origin: scheme://host[:port], such "
            "as https://app.example.com or http://localhost:3000 (no path, query or credentials)",
        ),
        (
            {
                "PRODUCTION": "true",
                "JWT_SECRET": RANDOM_KEY,
                "MONGODB_URL": "mongodb://db.example",
                "CORS_ORIGINS": "https://app.example, *",
                **RELYING_PARTY,
            },
            "python -m app: PRODUCTION is set, so CORS_ORIGINS cannot be * (any web site could call the API from "
            "its visitors' browsers): list the origins of your front ends, such as https://app.example.com",
        ),
        (
            {"JWT_SECRET": "too short"},
            "python -m app: JWT_SECRET: must be at least 32 bytes (got 9); "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"',
        ),
        (
            {"LOG_LEVEL": "LOUD"},
            "python -m app: LOG_LEVEL: Input should be 'CRITICAL', 'ERROR', 'WARNING', 'INFO' or 'DEBUG'",
        ),
    ],
    ids=[
        "production without key or database",
        "production without database",
        "production without a relying party",
        "an origin passkeys cannot use",
        "port",
        "cors",
        "cors garbage",
        "cors not a url",
        "cors with a path",
        "cors any origin in production",
        "key",
        "log level",
    ],
)
def test_a_configuration_error_is_one_clear_line(tmp_path: Path, settings: dict[str, str], line: str) -> None:
    result = start(tmp_path, **settings)

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [line], result.stderr
    assert "too short" not in result.stderr  # a secret is never echoed
    assert not (tmp_path / "data").exists()  # nothing was started


@pytest.mark.parametrize(
    ("settings", "weak"),
    [
        ({"JWT_SECRET": "k" * 40}, ["JWT_SECRET"]),
        ({"JWT_SECRET": "password" * 4}, ["JWT_SECRET"]),
        ({"JWT_SECRET": RANDOM_KEY, "JWT_SECRET_PREVIOUS": "changeme" * 5}, ["JWT_SECRET_PREVIOUS"]),
    ],
    ids=["one character", "a word repeated", "the previous key"],
)
def test_production_refuses_a_key_with_little_entropy(
    tmp_path: Path, database_url: str, settings: dict[str, str], weak: list[str]
) -> None:
    result = start(tmp_path, PRODUCTION="true", MONGODB_URL=database_url, **RELYING_PARTY, **settings)

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [WEAK.format(name) for name in weak], result.stderr
    assert "k" * 40 not in result.stderr and "password" not in result.stderr and "changeme" not in result.stderr


def test_development_takes_any_key_of_32_bytes() -> None:
    assert Settings(_env_file=None, jwt_secret="k" * 40).jwt_secret is not None  # type: ignore[call-arg]
