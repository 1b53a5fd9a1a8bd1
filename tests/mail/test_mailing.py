"""Mailing.queue: a mail is recorded only as its template takes it, to an address mail can
be sent to, and only while mail goes somewhere; the sender is woken."""

from __future__ import annotations

from typing import Any

import pytest

from app.concepts.mailing import Mail, Mailing
from app.sealing import Sealer

from .conftest import START

OUTBOX = Mail.Settings.name
TOKEN = "tOkEn-0123456789_abcdefghijklmnopqrstuvwxyzA"


def code(output: dict[str, Any]) -> str | None:
    return output.get("code") if "error" in output else None


async def test_a_queued_mail_is_recorded_due_now_and_wakes_the_sender(database: Any, mailing: Mailing) -> None:
    assert not mailing.queued.is_set()

    out = await mailing.queue(to="Ada@Example.com", template="verify-email", token=TOKEN, username="ada")

    [stored] = await database[OUTBOX].find().to_list()
    assert out == {"mail": str(stored["_id"])}
    assert {k: stored[k] for k in ("to", "template", "values", "state", "due", "attempts", "created")} == {
        "to": "Ada@example.com",
        "template": "verify-email",
        "values": {"username": "ada"},
        "state": "queued",
        "due": START,
        "attempts": 0,
        "created": START,
    }
    assert mailing.queued.is_set()


async def test_an_internationalized_domain_is_sent_to_in_its_ascii_form(database: Any, mailing: Mailing) -> None:
    await mailing.queue(to="ada@münchen.de", template="verify-email", token=TOKEN, username="ada")

    assert (await database[OUTBOX].find_one())["to"] == "ada@xn--mnchen-3ya.de"


@pytest.mark.parametrize(
    "arguments",
    [
        {"template": "welcome", "token": TOKEN, "username": "ada"},
        {"template": "verify-email", "token": TOKEN},
        {"template": "verify-email", "token": TOKEN, "username": "ada", "password": "x"},
        {"template": "verify-email", "username": "ada"},
        {"template": "verify-email", "token": TOKEN, "username": 5},
        {"template": None, "token": TOKEN, "username": "ada"},
    ],
    ids=["unknown template", "a value missing", "a value too many", "no token", "a value not text", "no template"],
)
async def test_a_mail_its_template_does_not_take_is_a_mistake_of_ours_and_records_nothing(
    database: Any, mailing: Mailing, arguments: dict[str, Any]
) -> None:
    assert code(await mailing.queue(to="ada@example.com", **arguments)) == "INVALID_MAIL"

    assert await database[OUTBOX].count_documents({}) == 0
    assert not mailing.queued.is_set()


@pytest.mark.parametrize("to", ["", "ada", "ada@localhost", "ada@example.com\r\nBcc: eve@example.com", None, ["a"]])
async def test_a_recipient_mail_cannot_go_to_is_refused(database: Any, mailing: Mailing, to: Any) -> None:
    out = await mailing.queue(to=to, template="verify-email", token=TOKEN, username="ada")

    assert code(out) == "INVALID_EMAIL"
    assert await database[OUTBOX].count_documents({}) == 0


async def test_with_mail_off_nothing_is_queued_and_the_concept_says_so(database: Any, sealer: Sealer) -> None:
    off = Mailing({}, sealer, "off")

    assert await off._getDelivery() == [{"delivering": False, "by": "off"}]
    assert code(await off.queue(to="ada@example.com", template="verify-email", token=TOKEN, username="ada")) == (
        "MAIL_UNAVAILABLE"
    )
    assert await database[OUTBOX].count_documents({}) == 0


async def test_the_outbox_finds_due_mails_by_an_index_and_drops_finished_ones_by_ttl(database: Any) -> None:
    indexes = await database[OUTBOX].index_information()

    assert indexes["due_1"]["key"] == [("due", 1)]
    assert indexes["expires_1"]["key"] == [("expires", 1)] and indexes["expires_1"]["expireAfterSeconds"] == 0
