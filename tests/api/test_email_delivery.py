"""The feature's mail as a user gets it, whatever the SMTP server does: a request is
answered while the server is down or refusing, and the mail arrives once it takes it;
two instances on one database mail each link once; and no link's token, nor a
password, is left readable in the database, the log, the request journal or the traces.

(The sender's own rules, each refusal and retry, are tests/mail's.)"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

import pytest

from app.concepts.mailing import Sender
from app.concepts.mailing.sender import LONGEST_WAIT
from tests.mail.smtp import Inbox, free_port, smtp_server
from tests.mail.watch import Watch

from .email_flows import (
    OUTBOX,
    PASSWORD,
    RESET_URL,
    VERIFY_URL,
    link_token,
    mail_settings,
    mailing_api,
    request_reset,
    reset_password,
    set_email,
    unsent_mails_dropped,
    verified_user,
    verify_email,
)
from .helpers import Api, StartApi
from .otlp import Receiver, receiving

NEW_PASSWORD = "a brand new password"


def sender_of(api: Api) -> Sender:
    sender = api.services.sender
    assert isinstance(sender, Sender)
    return sender


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


async def states(api: Api) -> list[str]:
    return [mail["state"] async for mail in api.mongo[api.db_name][OUTBOX].find()]


async def test_a_server_that_is_down_delays_the_mail_not_the_answer(start_api: StartApi) -> None:
    inbox, port = Inbox(), free_port()  # nothing listens there yet
    async with start_api(**mail_settings(port)) as api:
        _, session = await api.register("ada")

        watch = Watch(api)

        out = await set_email(api, session, "ada@example.com")  # answered while the server is down
        await watch.finishing("deferred")
        assert await states(api) == ["queued"]
        with smtp_server(inbox, port):
            sender = sender_of(api)
            later = datetime.now(UTC) + LONGEST_WAIT  # the retry is due (the clock moved, no one waited)
            sender.clock = lambda: later
            await sender.run_once()
            [received] = await inbox.wait_for(1)

    assert out["__typename"] == "SetEmailSuccess"
    assert received.recipients == ["ada@example.com"] and link_token(received, VERIFY_URL)


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "421 4.7.0 Too busy"])
async def test_a_server_that_refuses_for_now_delays_the_reset_mail_until_it_takes_it(
    start_api: StartApi, reply: str
) -> None:
    inbox = Inbox()
    async with mailing_api(start_api, inbox) as api:
        await verified_user(api, inbox, "ada", "ada@example.com")
        inbox.rcpt_reply = reply
        watch = Watch(api)

        answered = await request_reset(api, "ada@example.com")
        await watch.finishing("deferred")
        inbox.rcpt_reply = None
        sender = sender_of(api)
        later = datetime.now(UTC) + LONGEST_WAIT
        sender.clock = lambda: later
        await sender.run_once()
        received = (await inbox.wait_for(2))[1]
        token = link_token(received, RESET_URL)
        reset = await reset_password(api, token, NEW_PASSWORD)

    assert answered == {"data": {"requestPasswordReset": {"ok": True}}}
    assert received.message["Subject"] == "Reset your password"
    assert reset["__typename"] == "AuthSuccess"


async def test_a_server_that_refuses_for_good_gives_the_mail_up_and_the_answer_is_the_same(
    start_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app")
    inbox = Inbox()
    async with mailing_api(start_api, inbox) as api:
        await verified_user(api, inbox, "ada", "ada@example.com")
        inbox.rcpt_reply = "550 5.1.1 No such mailbox"
        watch = Watch(api)

        answered = await request_reset(api, "ada@example.com")
        await watch.finishing("failed")

    assert answered == {"data": {"requestPasswordReset": {"ok": True}}}
    assert len(inbox.received) == 1  # the verification mail only
    assert "550 5.1.1 No such mailbox" in caplog.text


async def test_two_instances_on_one_database_mail_each_link_once(start_api: StartApi) -> None:
    inbox = Inbox()
    key = secrets.token_urlsafe(48)  # the instances of one deployment share it
    with smtp_server(inbox) as port:
        settings = mail_settings(port, jwt_secret=key, throttle_address_registrations=100)
        async with start_api(**settings) as first, start_api(**settings) as second:
            watch = Watch(first, second)
            for n, api in enumerate([first, second] * 3):
                _, session = await api.register(f"user{n}")
                await set_email(api, session, f"user{n}@example.com")
            received = await inbox.wait_for(6)
            for mail in received[:6]:
                assert (await verify_email(second, link_token(mail, VERIFY_URL)))["__typename"] == "VerifyEmailSuccess"
            for n in range(6):
                await request_reset([first, second][n % 2], f"user{n}@example.com")
            received = await inbox.wait_for(12)
            await watch.sent(12)
            outbox = await first.mongo[first.db_name][OUTBOX].find().to_list()

    assert len(received) == 12  # none twice
    assert sorted(mail.recipients[0] for mail in received) == sorted([f"user{n}@example.com" for n in range(6)] * 2)
    assert len({mail.message["Message-ID"] for mail in received}) == 12
    assert [mail["state"] for mail in outbox] == ["sent"] * 12


@pytest.mark.parametrize("smtp", ["up", "down"])
async def test_a_reset_asked_for_an_unknown_address_reaches_no_smtp_server_and_leaves_nothing(
    start_api: StartApi, smtp: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each such request queues a mail unsent in place of the reset mail (the same steps as
    a user's): none reaches the SMTP server, whether it is up or down, none is logged or
    counted as a mail, and each is deleted by the sender at once, so the outbox keeps
    nothing of these requests and does not grow with them."""
    caplog.set_level(logging.DEBUG, logger="app")
    inbox, port = Inbox(), free_port()
    unknown = [f"nobody{n}@example.com" for n in range(15)]  # within THROTTLE_ADDRESS_RESETS (20)
    with smtp_server(inbox, port) if smtp == "up" else nullcontext():
        async with start_api(**mail_settings(port)) as api:
            watch = Watch(api)
            _, session = await api.register("bob")
            await set_email(api, session, "bob@example.org")  # an account's address, not verified
            if smtp == "up":
                await watch.sent(1)
            for address in [*unknown, "bob@example.org"]:
                assert await request_reset(api, address) == {"data": {"requestPasswordReset": {"ok": True}}}
            await unsent_mails_dropped(api)
            await sender_of(api).run_once()  # one round more: nothing of them is left to find
            outbox = await api.mongo[api.db_name][OUTBOX].find().to_list()
            metrics = (await api.http.get("/metrics")).text

    # Only bob's verification mail is in the outbox (sent, or waiting for the server).
    assert [(mail["to"], mail["template"]) for mail in outbox] == [("bob@example.org", "verify-email")]
    assert [mail.recipients for mail in inbox.received] == ([["bob@example.org"]] if smtp == "up" else [])
    assert watch.finished.count("sent") == (1 if smtp == "up" else 0)  # bob's only
    sender_lines = " ".join(record.getMessage() for record in caplog.records if record.name == "app.mail")
    assert "nobody" not in sender_lines and "reset-password" not in sender_lines
    assert f'concept_mails_total{{outcome="sent"}} {1.0 if smtp == "up" else 0.0}' in metrics
    assert f"concept_mails_queued {0.0 if smtp == 'up' else 1.0}" in metrics


async def test_tokens_and_passwords_stay_out_of_the_database_the_log_the_journal_and_the_traces(
    start_api: StartApi, caplog: pytest.LogCaptureFixture, receiver: Receiver
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    inbox = Inbox()
    async with mailing_api(start_api, inbox, log_level="DEBUG", otel_exporter_otlp_endpoint=receiver.url) as api:
        _, session = await api.register("ada")
        await set_email(api, session, "ada@example.com")
        verify_token = link_token((await inbox.wait_for(1))[0], VERIFY_URL)
        await verify_email(api, verify_token)
        await request_reset(api, "ada@example.com")
        reset_token = link_token((await inbox.wait_for(2))[1], RESET_URL)
        weak = await reset_password(api, reset_token, "short")
        out = await reset_password(api, reset_token, NEW_PASSWORD)
        await api.flush()
        database = await every_document(api)
        journal = str(await api.mongo[api.db_name]["Requesting.requests"].find().to_list())

    traces = b"".join(receiver.bodies)
    assert weak["code"] == "WEAK_PASSWORD" and out["__typename"] == "AuthSuccess"
    # Each place was written to (so the checks below look at something) ...
    assert "OneTimeTokens.redeem" in caplog.text and "Mailing.queue" in caplog.text
    assert "/UserAuthentication/resetPassword" in journal and "ada@example.com" in database
    assert b"resetPassword" in traces or b"OneTimeTokens" in traces
    # ... and none holds a token or a password.
    for secret in (verify_token, reset_token, PASSWORD, NEW_PASSWORD, "short", out["session"]):
        assert secret not in caplog.text, secret
        assert secret not in database, secret
        assert secret not in journal, secret
        assert secret.encode() not in traces, secret


async def every_document(api: Api) -> str:
    database = api.mongo[api.db_name]
    dump: list[Any] = []
    for name in await database.list_collection_names():
        dump.append(name)
        dump.extend(await database[name].find().to_list())
    return str(dump)
