"""Mail templates: the shipped ones, a deployment's replacements, and the mistakes refused
at start-up rather than in a user's inbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.concepts.mailing import RESET_PASSWORD, VERIFY_EMAIL, templates
from app.concepts.mailing.templates import load
from app.settings import ConfigurationError
from tests.concepts.helpers import make_settings

from .conftest import mail_settings


def test_the_shipped_mails_say_what_they_are_for_and_how_long_their_link_works() -> None:
    shipped = templates(mail_settings(reset_password_ttl=1800))

    verify = shipped[VERIFY_EMAIL].render("ada@example.com", {"username": "ada"}, "t0k")
    reset = shipped[RESET_PASSWORD].render("ada@example.com", {"username": "ada"}, "t0k")

    assert verify.subject == "Confirm your email address"
    assert "https://app.example.com/verify?token=t0k" in verify.text and "for 24 hours" in verify.text
    assert "ada@example.com" in verify.text and "ada@example.com" in verify.html
    assert reset.subject == "Reset your password"
    assert "https://app.example.com/reset?token=t0k" in reset.text and "for 30 minutes" in reset.text
    assert 'href="https://app.example.com/reset?token=t0k"' in reset.html


def test_in_development_a_link_opens_graphiql_with_the_mutation_that_takes_the_token() -> None:
    shipped = templates(make_settings(port=8123))

    text = shipped[RESET_PASSWORD].render("ada@example.com", {"username": "ada"}, "t0k").text

    assert "http://127.0.0.1:8123/graphql?query=mutation%20%7B%20resetPassword%28token%3A%20%22t0k%22" in text


def test_a_token_is_percent_encoded_into_its_link() -> None:
    reset = templates(mail_settings())[RESET_PASSWORD]

    assert "reset?token=a%2Fb%26c%3Dd" in reset.render("ada@example.com", {"username": "ada"}, "a/b&c=d").text


def test_the_subject_is_one_line_whatever_the_values_hold(tmp_path: Path) -> None:
    (tmp_path / "reset-password.txt").write_text("Subject: For $username\n\nHello\n")

    reset = templates(mail_settings(mail_templates=tmp_path))[RESET_PASSWORD]

    assert reset.render("a@example.com", {"username": "ada\r\nBcc: eve@example.com"}, "t").subject == (
        "For ada Bcc: eve@example.com"
    )


def test_a_deployment_replaces_the_files_it_has_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "reset-password.html").write_text("<p>Bonjour $username, <a href='$link'>ici</a> ($valid_for)</p>")

    shipped = templates(mail_settings(mail_templates=tmp_path))
    reset = shipped[RESET_PASSWORD].render("ada@example.com", {"username": "<ada>"}, "t0k")

    assert (
        reset.html == "<p>Bonjour &lt;ada&gt;, <a href='https://app.example.com/reset?token=t0k'>ici</a> (1 hour)</p>"
    )
    assert reset.subject == "Reset your password"  # the shipped text part
    assert shipped[VERIFY_EMAIL].render("a@example.com", {"username": "ada"}, "t").subject == (
        "Confirm your email address"
    )


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        (
            "verify-email.html",
            "<p>$usrname</p>",
            "verify-email.html uses $usrname, which this mail does not have "
            "(it has $address, $link, $username, $valid_for)",
        ),
        (
            "verify-email.txt",
            "Hello $link\n",
            "verify-email.txt must start with a `Subject: ...` line and a blank line",
        ),
        ("reset-password.txt", "Subject: Pay $5 now\n\nx\n", "has a `$` that starts no placeholder (write `$$`)"),
    ],
)
def test_a_template_mistake_stops_the_start_naming_the_file(
    tmp_path: Path, filename: str, content: str, message: str
) -> None:
    (tmp_path / filename).write_text(content)

    with pytest.raises(ConfigurationError) as refused:
        templates(mail_settings(mail_templates=tmp_path))

    assert str(refused.value).startswith(f"MAIL_TEMPLATES: {tmp_path / filename}")
    assert message in str(refused.value)


def test_a_mail_without_a_link_may_not_use_one() -> None:
    with pytest.raises(ConfigurationError, match=r"uses \$link"):
        load("verify-email", None, given=("username",), fixed={"valid_for": "1 hour"})
