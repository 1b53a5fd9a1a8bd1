"""Settings: environment variables, validation that keeps secrets out of errors, the JWT key."""

from __future__ import annotations

import logging
import re
import secrets
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from app import keys as keys_module
from app.keys import jwt_secret
from app.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting comes from the developer's environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def load() -> Settings:
    return Settings(_env_file=None)


def test_defaults() -> None:
    settings = load()
    assert settings.mongodb_url is None
    assert settings.mongodb_db == "concepts"
    assert settings.data_dir == Path(".data")
    assert settings.jwt_secret is None and settings.jwt_secret_previous is None
    assert settings.jwt_issuer == "concept-auth"
    assert settings.session_ttl == 7 * 24 * 3600
    assert (settings.session_cache, settings.session_cache_size) == (True, 10_000)
    assert settings.requesting_timeout == 10.0
    assert (settings.requesting_journal, settings.requesting_sample_queries) == ("default", 0.01)
    assert settings.requesting_ttl == 7 * 24 * 3600
    assert settings.log_level == "INFO"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert (settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism) == (
        19456,
        2,
        1,
    )


def test_read_from_the_environment_and_a_dotenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=9000\nSESSION_TTL=60\nMONGODB_DB=from_file\n")
    monkeypatch.setenv("MONGODB_DB", "from_env")  # the environment wins over .env
    monkeypatch.setenv("MONGODB_URL", "mongodb://db.example:27017/?replicaSet=rs0")
    monkeypatch.setenv("REQUESTING_JOURNAL", "OFF")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "state"))

    settings = Settings(_env_file=dotenv)

    assert (settings.port, settings.session_ttl, settings.mongodb_db) == (9000, 60, "from_env")
    assert settings.mongodb_url == "mongodb://db.example:27017/?replicaSet=rs0"
    assert settings.requesting_journal == "off"
    assert settings.log_level == "DEBUG"
    assert settings.data_dir == tmp_path / "state"
    assert "db.example" not in repr(settings)  # a URL may carry credentials


@pytest.mark.parametrize(
    ("environment", "journal"),
    [
        ({"REQUESTING_SAVE_RESPONSES": "false"}, "off"),
        ({"REQUESTING_SAVE_RESPONSES": "true"}, "default"),
        ({"REQUESTING_SAVE_RESPONSES": "false", "REQUESTING_JOURNAL": "all"}, "all"),
    ],
)
def test_the_deprecated_save_responses_still_turns_the_journal_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, environment: dict[str, str], journal: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with caplog.at_level(logging.WARNING, "app.settings"):
        settings = load()

    assert settings.requesting_journal == journal
    assert "REQUESTING_SAVE_RESPONSES is deprecated" in caplog.text


@pytest.mark.parametrize(
    ("name", "value"),
    [("REQUESTING_JOURNAL", "some"), ("REQUESTING_SAMPLE_QUERIES", "1.5"), ("REQUESTING_SAMPLE_QUERIES", "-0.1")],
)
def test_a_journal_setting_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=name.lower()):
        load()


@pytest.mark.parametrize("variable", ["JWT_SECRET", "JWT_SECRET_PREVIOUS"])
def test_a_short_jwt_secret_is_rejected_without_showing_it(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    secret = "s3cret-but-only-31-bytes-long!!"
    assert len(secret.encode()) == 31
    monkeypatch.setenv(variable, secret)

    with pytest.raises(ValidationError) as raised:
        load()

    error = raised.value
    assert "at least 32 bytes" in str(error)
    for text in (str(error), repr(error), error.json(), repr(error.errors())):
        assert secret not in text


def test_a_jwt_secret_of_32_bytes_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = "é" * 16  # 16 characters, 32 bytes: the rule counts bytes
    monkeypatch.setenv("JWT_SECRET", secret)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    settings = load()

    assert jwt_secret(settings) == secret
    assert secret not in repr(settings)
    assert not (tmp_path / "jwt_secret").exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SESSION_TTL", "0"),
        ("REQUESTING_TTL", "-1"),
        ("REQUESTING_TIMEOUT", "0"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("WORKERS", "0"),
        ("ARGON2_TIME_COST", "0"),
        ("ARGON2_MEMORY_KIB", "4"),
        ("LOG_LEVEL", "LOUD"),
        ("MONGODB_URL", "localhost:27017"),
    ],
)
def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.lower()):
        load()


def test_argon2_memory_must_cover_its_lanes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "16")
    monkeypatch.setenv("ARGON2_PARALLELISM", "4")
    with pytest.raises(ValidationError, match="8 \\* ARGON2_PARALLELISM"):
        load()


def test_without_jwt_secret_a_private_key_file_is_generated_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    settings = load()

    with caplog.at_level(logging.WARNING, logger="app.keys"):
        first = jwt_secret(settings)
        second = jwt_secret(settings)

    path = data_dir / "jwt_secret"
    assert first == second == path.read_text().strip()
    assert len(first.encode()) >= 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in data_dir.iterdir()) == ["jwt_secret"]  # no temporary file left
    warnings = [r for r in caplog.records if r.name == "app.keys" and r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per launch, not per use
    assert "Production must set JWT_SECRET" in warnings[0].getMessage()
    assert first not in caplog.text


def test_concurrent_first_uses_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "jwt_secret"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: keys_module._read_or_create_secret(path), range(16)))
    assert keys == {path.read_text().strip()}


def test_a_truncated_key_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text("short\n")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="delete it"):
        jwt_secret(load())


@pytest.mark.parametrize(
    ("value", "proxies"), [("true", 1), ("TRUE", 1), ("false", 0), ("0", 0), ("1", 1), ("2", 2), ("yes", 1)]
)
def test_trust_proxy_is_a_number_of_proxies_or_a_boolean(
    monkeypatch: pytest.MonkeyPatch, value: str, proxies: int
) -> None:
    monkeypatch.setenv("TRUST_PROXY", value)
    assert load().trust_proxy == proxies


@pytest.mark.parametrize("value", ["maybe", "-1", "11"])
def test_trust_proxy_refuses_anything_else(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TRUST_PROXY", value)
    with pytest.raises(ValidationError, match="trust_proxy"):
        load()


def test_metrics_port_must_differ_from_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("METRICS_PORT", "9000")
    with pytest.raises(ValidationError, match="METRICS_PORT must differ from PORT"):
        load()
    monkeypatch.setenv("METRICS_PORT", "9100")
    assert load().metrics_port == 9100


# -- CORS ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("https://app.example/", ["https://app.example"]),
        ("HTTPS://App.Example:443, http://app.example:80/", ["https://app.example", "http://app.example"]),
        ('["http://localhost:3000", "http://[::1]:5173/"]', ["http://localhost:3000", "http://[::1]:5173"]),
        ("https://app.example:8443, https://app.example:8443/", ["https://app.example:8443"]),
        ("capacitor://localhost", ["capacitor://localhost"]),
        ("*", ["*"]),
    ],
)
def test_cors_origins_are_read_as_browsers_send_them(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)
    assert load().cors_origins == origins


@pytest.mark.parametrize(
    "value",
    [
        "garbage[",
        "not a url",
        "null",
        "localhost:3000",
        "https://app.example/login",
        "https://app.example?x=1",
        "https://user:pw@app.example",
        "https://app.example:99999",
        "http://exa mple.com",
        "https://#",
    ],
)
def test_cors_origins_that_are_not_origins_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)
    with pytest.raises(ValidationError, match="is not an origin: scheme://host"):
        load()


# -- passkeys (WebAuthn) ----------------------------------------------------------------------------


def test_passkeys_default_to_the_development_server_on_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load()
    assert (settings.webauthn_rp_id, settings.webauthn_rp_name) == ("localhost", "concept-auth")
    assert settings.webauthn_accepted_origins == ["http://localhost:8000"]

    monkeypatch.setenv("PORT", "9000")
    assert load().webauthn_accepted_origins == ["http://localhost:9000"]


def test_passkey_settings_are_read_in_any_case_and_as_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBAUTHN_RP_ID", "Example.COM")
    monkeypatch.setenv("WEBAUTHN_RP_NAME", "Example")
    monkeypatch.setenv(
        "WEBAUTHN_ORIGINS", "HTTPS://example.com, https://app.example.com:8443,android:apk-key-hash:Ab-C_d"
    )

    settings = load()

    assert (settings.webauthn_rp_id, settings.webauthn_rp_name) == ("example.com", "Example")
    assert settings.webauthn_accepted_origins == [
        "https://example.com",
        "https://app.example.com:8443",
        "android:apk-key-hash:Ab-C_d",
    ]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"WEBAUTHN_RP_ID": "127.0.0.1"}, "WEBAUTHN_RP_ID: must be a domain name"),
        ({"WEBAUTHN_RP_ID": "https://example.com"}, "WEBAUTHN_RP_ID: must be a domain name"),
        ({"WEBAUTHN_RP_ID": ""}, "WEBAUTHN_RP_ID: must be a domain name"),
        ({"WEBAUTHN_RP_NAME": ""}, "webauthn_rp_name"),
        ({"WEBAUTHN_ORIGINS": "http://localhost:8000/"}, "is not an origin"),
        ({"WEBAUTHN_ORIGINS": "localhost:8000"}, "is not an origin"),
        ({"WEBAUTHN_ORIGINS": "http://127.0.0.1:8000"}, "is not on WEBAUTHN_RP_ID (localhost)"),
        ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "https://badexample.com"}, "is not on WEBAUTHN_RP_ID"),
        ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "http://example.com"}, "must be https"),
        ({"WEBAUTHN_RP_ID": "example.com"}, "http://localhost:8000 is not on WEBAUTHN_RP_ID"),
    ],
    ids=[
        "an address",
        "a URL",
        "empty",
        "no name",
        "a path",
        "no scheme",
        "an address origin",
        "another domain",
        "http off localhost",
        "a domain without its origins",
    ],
)
def test_a_relying_party_browsers_would_refuse_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=re.escape(message)):
        load()


def test_production_needs_its_own_relying_party(monkeypatch: pytest.MonkeyPatch) -> None:
    production = {"PRODUCTION": "true", "JWT_SECRET": secrets.token_urlsafe(48), "MONGODB_URL": "mongodb://db.example"}
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="WEBAUTHN_RP_ID, WEBAUTHN_RP_NAME and WEBAUTHN_ORIGINS must be set"):
        load()

    monkeypatch.setenv("WEBAUTHN_RP_ID", "example.com")
    monkeypatch.setenv("WEBAUTHN_ORIGINS", "https://example.com")
    with pytest.raises(ValidationError, match="so WEBAUTHN_RP_NAME must be set"):
        load()

    monkeypatch.setenv("WEBAUTHN_RP_NAME", "Example")
    assert load().webauthn_accepted_origins == ["https://example.com"]
