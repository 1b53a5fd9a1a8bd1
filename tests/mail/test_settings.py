"""The mail settings: what they accept, and what they refuse at start-up, never showing a password."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.concepts.mailing import SmtpServer
from tests.concepts.helpers import make_settings
from tests.launched import launcher_env

from .smtp import free_port


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        make_settings(**values)
    return str(refused.value)


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 587, False)),
        ("smtp://mail.example.com:25", SmtpServer("mail.example.com", 25, False)),
        ("smtps://u%40x:p%3Aw%2Fd@mail.example.com", SmtpServer("mail.example.com", 465, True, "u@x", "p:w/d")),
    ],
)
def test_an_smtp_url_names_the_server_the_tls_and_the_credentials(url: str, server: SmtpServer) -> None:
    settings = make_settings(smtp_url=url)

    assert settings.smtp_url is not None
    assert SmtpServer.from_url(settings.smtp_url.get_secret_value()) == server
    assert "p:w" not in repr(settings) and "p%3Aw" not in repr(settings) and "p:w" not in repr(server)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2secret@mail.example.com",
        "smtp://user:hunter2secret@",
        "smtp://user:hunter2secret@host:99999",
    ],
)
def test_an_smtp_url_that_cannot_work_is_refused_without_showing_it(url: str) -> None:
    message = refusal(smtp_url=url)

    assert "smtp_url" in message and "hunter2secret" not in message


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com/reset",
        "https://app.example.com/reset?token={token}&again={token}",
        "ftp://app.example.com/reset?token={token}",
        "app.example.com/reset?token={token}",
    ],
)
def test_a_link_template_is_an_http_url_with_one_token_placeholder(url: str) -> None:
    assert "reset_password_url" in refusal(reset_password_url=url)


def test_mail_from_is_an_address() -> None:
    assert "mail_from" in refusal(mail_from="Example <no address>")
    assert "mail_from" in refusal(mail_from="a@example.com\r\nBcc: eve@example.com")
    assert make_settings(mail_from="Example <no-reply@example.com>").mail_from == "Example <no-reply@example.com>"


def test_mail_templates_is_a_directory(tmp_path: Path) -> None:
    assert "mail_templates" in refusal(mail_templates=tmp_path / "missing")


def test_production_with_smtp_needs_the_sender_and_the_links_of_its_own() -> None:
    production = {
        "production": True,
        "jwt_secret": secrets.token_urlsafe(48),
        "mongodb_url": "mongodb://db.example.com",
        "webauthn_rp_id": "app.example.com",
        "webauthn_rp_name": "Example",
        "webauthn_origins": ["https://app.example.com"],
    }

    message = refusal(**production, smtp_url="smtp://mail.example.com")

    assert (
        "PRODUCTION and SMTP_URL are set, so MAIL_FROM, VERIFY_EMAIL_URL and RESET_PASSWORD_URL must be set" in message
    )
    make_settings(**production)  # mail off: it says so at start-up
    make_settings(
        **production,
        smtp_url="smtp://mail.example.com",
        mail_from="no-reply@example.com",
        verify_email_url="https://app.example.com/verify?token={token}",
        reset_password_url="https://app.example.com/reset?token={token}",
    )


@pytest.mark.launcher
@pytest.mark.parametrize(
    ("files", "line"),
    [
        (
            {"reset-password.txt": "Subject: Hi $nobody\n\nOpen $link\n"},
            "python -m app: MAIL_TEMPLATES: {dir}/reset-password.txt uses $nobody, which this mail does not have "
            "(it has $address, $link, $username, $valid_for)",
        ),
        (
            {"verify-email.txt": "Open $link\n"},
            "python -m app: MAIL_TEMPLATES: {dir}/verify-email.txt must start with a `Subject: ...` line and a "
            "blank line",
        ),
        (
            {"verify-email.html": "<p>50$ off</p>"},
            "python -m app: MAIL_TEMPLATES: {dir}/verify-email.html has a `$` that starts no placeholder (write `$$`)",
        ),
    ],
    ids=["an unknown value", "no subject", "a stray dollar"],
)
def test_a_bad_mail_template_stops_python_m_app_with_one_line_before_anything_starts(
    tmp_path: Path, files: dict[str, str], line: str
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    for name, text in files.items():
        (templates / name).write_text(text)
    env = {**launcher_env(free_port(), tmp_path / "data"), "MAIL_TEMPLATES": str(templates)}

    result = subprocess.run(
        [sys.executable, "-m", "app"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [line.format(dir=templates)], result.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


@pytest.mark.launcher
def test_a_mail_setting_python_m_app_refuses_is_one_line(tmp_path: Path) -> None:
    env = {**launcher_env(free_port(), tmp_path / "data"), "MAIL_FROM": "not an address"}

    result = subprocess.run(
        [sys.executable, "-m", "app"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "python -m app: MAIL_FROM: must be an email address, as `Name <address>` or the address alone"
    ], result.stderr
