"""The sender against a real SMTP server: what arrives, over which transport security, and
what happens when the server is down, refuses, or the sender dies half-way; each mail
claimed by one sender at a time, sent once, and never lost."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from app.concepts.mailing import Mail, Mailing
from app.concepts.mailing.sender import FIRST_RETRY, LEASE, LONGEST_WAIT
from app.observability.metrics import Metrics
from tests.concepts.helpers import GatedCollection, Held, StillClock
from tests.concepts.indexes import assert_served_by_indexes, recording

from .conftest import FROM, GIVE_UP_AFTER, START, Senders
from .smtp import PASSWORD, USER, Certificates, Inbox, free_port, smtp_server

OUTBOX = Mail.Settings.name
TOKEN = "tOkEn-0123456789_abcdefghijklmnopqrstuvwxyzA"


async def queue_reset(mailing: Mailing, to: str = "ada@example.com", username: str = "ada") -> str:
    out = await mailing.queue(to=to, template="reset-password", token=TOKEN, username=username)
    assert "mail" in out, out
    return str(out["mail"])


async def queue_unsent(mailing: Mailing, to: str = "nobody@example.com") -> str:
    out = await mailing.queue(to=to, template="reset-password", token=TOKEN, username="", send=False)
    assert "mail" in out, out
    return str(out["mail"])


async def stored(database: Any, mail: str) -> dict[str, Any]:
    found = await database[OUTBOX].find_one({"_id": ObjectId(mail)})
    assert found is not None
    return dict(found)


# -- what arrives -------------------------------------------------------------------------------


async def test_a_mail_arrives_with_a_text_and_an_html_part_its_link_and_headers(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int
) -> None:
    mail = await queue_reset(mailing)

    assert await senders(f"smtp://127.0.0.1:{smtp_port}").run_once() == 1

    [received] = inbox.received
    link = f"https://app.example.com/reset?token={TOKEN}"
    assert received.sender == "no-reply@example.com" and received.recipients == ["ada@example.com"]
    message = received.message
    assert message["From"] == FROM and message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset your password"
    assert message["Message-ID"] == f"<{mail}@example.com>"
    assert message["Auto-Submitted"] == "auto-generated" and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text, html = received.part("plain"), received.part("html")
    assert link in text and "Hello ada," in text and "for 1 hour." in text
    assert f'href="{link}"' in html and "Hello ada," in html
    assert not received.tls  # a local catcher: no TLS offered, none needed


async def test_values_are_escaped_in_the_html_part_only(
    mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int
) -> None:
    await queue_reset(mailing, username='<img src=x onerror="alert(1)">')

    await senders(f"smtp://127.0.0.1:{smtp_port}").run_once()

    [received] = inbox.received
    assert 'Hello <img src=x onerror="alert(1)">,' in received.part("plain")
    html = received.part("html")
    assert "<img" not in html and "Hello &lt;img src=x onerror=&quot;alert(1)&quot;&gt;," in html


async def test_the_token_is_stored_only_sealed_and_forgotten_once_sent(
    database: Any, mailing: Mailing, senders: Senders, smtp_port: int
) -> None:
    mail = await queue_reset(mailing)
    queued = await stored(database, mail)
    assert TOKEN not in str(queued) and TOKEN.encode() not in queued["sealed"]
    assert mailing.sealer.open(queued["sealed"], mail) == TOKEN
    assert mailing.sealer.open(queued["sealed"], "another mail") is None  # bound to its mail

    await senders(f"smtp://127.0.0.1:{smtp_port}").run_once()

    sent = await stored(database, mail)
    assert sent["state"] == "sent" and "sealed" not in sent and "due" not in sent and "claim" not in sent
    assert sent["expires"] == START + timedelta(days=7)


# -- transport security -------------------------------------------------------------------------


@pytest.mark.parametrize(("scheme", "tls"), [("smtp", "starttls"), ("smtps", "implicit_tls")])
async def test_tls_is_used_by_starttls_when_offered_or_from_the_first_byte(
    mailing: Mailing, senders: Senders, inbox: Inbox, certificates: Certificates, scheme: str, tls: str
) -> None:
    await queue_reset(mailing)
    with smtp_server(inbox, **{tls: certificates}) as port:
        await senders(f"{scheme}://127.0.0.1:{port}", certificates.client_context()).run_once()

    [received] = inbox.received
    assert received.tls


async def test_a_certificate_that_is_not_trusted_is_refused_and_the_mail_waits(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, certificates: Certificates
) -> None:
    mail = await queue_reset(mailing)
    with smtp_server(inbox, starttls=certificates) as port:
        await senders(f"smtp://127.0.0.1:{port}").run_once()  # the system's CAs: not the test's

    assert inbox.received == []
    waiting = await stored(database, mail)
    assert waiting["state"] == "queued" and "CERTIFICATE_VERIFY_FAILED" in waiting["last_error"]


async def test_the_credentials_in_the_url_log_in_over_tls(
    mailing: Mailing, senders: Senders, inbox: Inbox, certificates: Certificates
) -> None:
    await queue_reset(mailing)
    with smtp_server(inbox, starttls=certificates, auth=True) as port:
        url = f"smtp://{USER}:pa%3Ass%40word@127.0.0.1:{port}"  # the password, percent-encoded
        await senders(url, certificates.client_context()).run_once()

    [received] = inbox.received
    assert received.tls and received.login == USER
    assert inbox.logins == [(USER, PASSWORD)]


async def test_wrong_credentials_leave_the_mail_waiting_and_are_not_logged(
    database: Any,
    mailing: Mailing,
    senders: Senders,
    inbox: Inbox,
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    mail = await queue_reset(mailing)
    with smtp_server(inbox, starttls=certificates, auth=True) as port:
        await senders(f"smtp://{USER}:not-the-password-x9@127.0.0.1:{port}", certificates.client_context()).run_once()

    assert inbox.received == []
    waiting = await stored(database, mail)
    assert waiting["state"] == "queued" and "refused the credentials: 535" in waiting["last_error"]
    assert "not-the-password-x9" not in caplog.text and "not-the-password-x9" not in str(waiting)


async def test_credentials_are_never_sent_to_a_server_without_tls(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox
) -> None:
    mail = await queue_reset(mailing)
    with smtp_server(inbox) as port:
        await senders(f"smtp://{USER}:pa%3Ass%40word@127.0.0.1:{port}").run_once()

    assert inbox.received == [] and inbox.logins == []
    assert "never sent in clear" in (await stored(database, mail))["last_error"]


# -- a server that is down or refuses ------------------------------------------------------------


async def test_while_the_server_is_down_mail_waits_and_goes_once_it_is_back(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, clock: StillClock
) -> None:
    port = free_port()  # nothing listens there yet
    first, second = await queue_reset(mailing), await queue_reset(mailing, "bob@example.com", "bob")
    sender = senders(f"smtp://127.0.0.1:{port}")

    assert await sender.run_once() == 1  # the server cannot be reached: the round ends

    waiting = [await stored(database, mail) for mail in (first, second)]
    assert [(m["state"], m["attempts"]) for m in waiting] == [("queued", 1), ("queued", 0)]
    assert waiting[0]["due"] == START + FIRST_RETRY and "Connect call failed" in waiting[0]["last_error"]
    with smtp_server(inbox, port):
        await sender.run_once()  # the second was due: it goes, the first waits for its turn
        assert [m.recipients for m in inbox.received] == [["bob@example.com"]]
        clock.advance(FIRST_RETRY)
        await sender.run_once()

    assert sorted(m.recipients[0] for m in inbox.received) == ["ada@example.com", "bob@example.com"]
    assert [(await stored(database, mail))["state"] for mail in (first, second)] == ["sent", "sent"]


async def test_a_4xx_reply_is_tried_again_with_waits_that_double(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int, clock: StillClock
) -> None:
    mail = await queue_reset(mailing)
    sender = senders(f"smtp://127.0.0.1:{smtp_port}")
    inbox.rcpt_reply = "451 4.3.0 Mailbox busy, try later"

    dues = []
    for _ in range(4):
        await sender.run_once()
        waiting = await stored(database, mail)
        dues.append(waiting["due"] - clock.now)
        clock.now = waiting["due"]
    assert dues == [FIRST_RETRY, 2 * FIRST_RETRY, 4 * FIRST_RETRY, 8 * FIRST_RETRY]
    assert waiting["last_error"] == "451 4.3.0 Mailbox busy, try later"

    inbox.rcpt_reply = None
    await sender.run_once()

    assert len(inbox.received) == 1 and (await stored(database, mail))["attempts"] == 5


async def test_the_wait_between_attempts_is_at_most_fifteen_minutes(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int, clock: StillClock
) -> None:
    mail = await queue_reset(mailing)
    sender = senders(f"smtp://127.0.0.1:{smtp_port}")
    inbox.data_reply = "421 4.7.0 Too many connections"

    for _ in range(9):
        await sender.run_once()
        clock.now = (await stored(database, mail))["due"]
    await sender.run_once()

    assert (await stored(database, mail))["due"] - clock.now == LONGEST_WAIT


@pytest.mark.parametrize("step", ["rcpt", "data"])
async def test_a_5xx_reply_to_the_mail_gives_it_up_at_once(
    database: Any,
    mailing: Mailing,
    senders: Senders,
    inbox: Inbox,
    smtp_port: int,
    caplog: pytest.LogCaptureFixture,
    step: str,
) -> None:
    mail = await queue_reset(mailing)
    setattr(inbox, f"{step}_reply", "550 5.1.1 No such mailbox")

    await senders(f"smtp://127.0.0.1:{smtp_port}").run_once()

    failed = await stored(database, mail)
    assert failed["state"] == "failed" and failed["last_error"] == "550 5.1.1 No such mailbox"
    assert "sealed" not in failed and "due" not in failed
    assert f"Mail {mail} (reset-password) to ada@example.com given up after 1 attempts" in caplog.text


async def test_a_mail_is_given_up_once_it_is_too_old_to_send(
    database: Any,
    mailing: Mailing,
    senders: Senders,
    inbox: Inbox,
    smtp_port: int,
    clock: StillClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mail = await queue_reset(mailing)
    sender = senders(f"smtp://127.0.0.1:{smtp_port}")
    inbox.rcpt_reply = "452 4.2.2 Mailbox full"

    while (await stored(database, mail))["state"] == "queued":
        await sender.run_once()
        due = (await stored(database, mail)).get("due")
        clock.now = due or clock.now
        assert clock.now < START + GIVE_UP_AFTER

    failed = await stored(database, mail)
    assert failed["state"] == "failed" and failed["last_error"] == "452 4.2.2 Mailbox full"
    assert inbox.received == [] and "given up after" in caplog.text


async def test_a_mail_found_too_old_is_given_up_without_trying(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int, clock: StillClock
) -> None:
    """A sender that was down for longer than the give-up time sends no stale links."""
    mail = await queue_reset(mailing)
    clock.advance(GIVE_UP_AFTER)

    await senders(f"smtp://127.0.0.1:{smtp_port}").run_once()

    assert inbox.received == [] and (await stored(database, mail))["state"] == "failed"


async def test_a_mail_whose_token_no_longer_opens_is_given_up(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int
) -> None:
    """JWT_SECRET replaced (not rotated) while the mail waited."""
    mail = await queue_reset(mailing)
    await database[OUTBOX].update_one({"_id": (await stored(database, mail))["_id"]}, {"$set": {"sealed": b"x" * 60}})

    await senders(f"smtp://127.0.0.1:{smtp_port}").run_once()

    failed = await stored(database, mail)
    assert failed["state"] == "failed" and "JWT_SECRET changed" in failed["last_error"]
    assert inbox.received == []


# -- several senders, and one that dies -----------------------------------------------------------


class FirstAtOnce:
    """A gate for the first `parties` calls: each waits until all of them arrived, then they
    go together; later calls pass."""

    def __init__(self, parties: int) -> None:
        self.barrier, self.left = asyncio.Barrier(parties), parties

    async def wait(self) -> None:
        if self.left > 0:
            self.left -= 1
            await self.barrier.wait()


async def test_of_two_senders_claiming_one_mail_at_once_one_sends_it(
    mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail = await queue_reset(mailing)
    gated = GatedCollection(Mail.get_pymongo_collection(), "find_one_and_update", FirstAtOnce(2))
    monkeypatch.setattr(Mail, "get_pymongo_collection", classmethod(lambda _: gated))
    url = f"smtp://127.0.0.1:{smtp_port}"

    handled = await asyncio.gather(senders(url).run_once(), senders(url).run_once())

    assert sorted(handled) == [0, 1]
    assert [received.message["Message-ID"] for received in inbox.received] == [f"<{mail}@example.com>"]


async def test_two_senders_claiming_at_once_send_each_mail_once(
    mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    mails = {await queue_reset(mailing, f"user{n}@example.com", f"user{n}") for n in range(6)}
    gated = GatedCollection(Mail.get_pymongo_collection(), "find_one_and_update", FirstAtOnce(2))
    monkeypatch.setattr(Mail, "get_pymongo_collection", classmethod(lambda _: gated))
    url = f"smtp://127.0.0.1:{smtp_port}"

    handled = await asyncio.gather(senders(url).run_once(), senders(url).run_once())

    assert sum(handled) == 6
    ids = [received.message["Message-ID"] for received in inbox.received]
    assert sorted(ids) == sorted(f"<{mail}@example.com>" for mail in mails)


async def test_a_sender_that_dies_between_sending_and_marking_sent_leaves_the_mail_to_be_sent_again(
    database: Any,
    mailing: Mailing,
    senders: Senders,
    inbox: Inbox,
    smtp_port: int,
    clock: StillClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mail = await queue_reset(mailing)
    url = f"smtp://127.0.0.1:{smtp_port}"
    held = Held()
    GatedCollection.install(monkeypatch, Mail, "update_one", held)  # marking it sent waits here
    dying = asyncio.create_task(senders(url).run_once())
    await held.reached.wait()
    assert len(inbox.received) == 1

    dying.cancel()  # the process dies before the mail is marked sent
    with pytest.raises(asyncio.CancelledError):
        await dying
    monkeypatch.undo()
    survivor = senders(url)
    assert await survivor.run_once() == 0  # its lease still holds it
    clock.advance(LEASE)
    assert await survivor.run_once() == 1

    first, second = inbox.received
    assert first.message["Message-ID"] == second.message["Message-ID"] == f"<{mail}@example.com>"
    assert (await stored(database, mail))["state"] == "sent"


# -- a mail queued unsent ----------------------------------------------------------------------


async def test_a_mail_queued_unsent_is_recorded_like_any_and_dropped_unread_without_smtp(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    unsent = await queue_unsent(mailing)
    recorded = await stored(database, unsent)
    # Written as a mail is (its token sealed), but to no one: the address is not kept.
    assert recorded["to"] is None and recorded["state"] == "queued" and recorded["sealed"] is not None
    assert "nobody" not in str(recorded) and TOKEN.encode() not in recorded["sealed"]
    metrics = Metrics([])
    sender = senders(f"smtp://127.0.0.1:{free_port()}")  # nothing listens there: SMTP is never needed
    sender.observer = metrics

    assert await sender.run_once() == 1

    assert await database[OUTBOX].count_documents({}) == 0  # deleted, not kept as sent
    assert inbox.received == [] and "Mail " not in caplog.text and "nobody" not in caplog.text
    assert metrics.registry.get_sample_value("concept_mails_total", {"outcome": "sent"}) == 0
    assert metrics.registry.get_sample_value("concept_mails_queued") == 0


async def test_a_mail_queued_unsent_is_checked_as_any_and_never_counted_as_waiting(
    database: Any, mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int
) -> None:
    refused = await mailing.queue(to="not an address", template="reset-password", token=TOKEN, username="", send=False)
    untaken = await mailing.queue(to="nobody@example.com", template="reset-password", username="", send=False)
    assert refused.get("code") == "INVALID_EMAIL"
    assert "mail" not in untaken  # no token for a link: as for any mail
    await queue_unsent(mailing)
    await queue_reset(mailing)
    metrics = Metrics([])
    sender = senders(f"smtp://127.0.0.1:{smtp_port}")
    sender.observer = metrics
    inbox.rcpt_reply = "451 4.3.0 Try later"

    await sender.run_once()

    assert inbox.received == [] and metrics.registry.get_sample_value("concept_mails_queued") == 1  # ada's only
    assert [mail["to"] async for mail in database[OUTBOX].find()] == ["ada@example.com"]


# -- seeing it ----------------------------------------------------------------------------------


async def test_metrics_count_mails_sent_deferred_failed_and_queued(
    mailing: Mailing, senders: Senders, inbox: Inbox, smtp_port: int
) -> None:
    metrics = Metrics([])
    sender = senders(f"smtp://127.0.0.1:{smtp_port}")
    sender.observer = metrics
    for n in range(3):
        await queue_reset(mailing, f"user{n}@example.com", f"user{n}")

    await sender.run_once()
    inbox.rcpt_reply = "451 4.3.0 Try later"
    await queue_reset(mailing)
    await sender.run_once()
    inbox.rcpt_reply = "550 5.1.1 No such mailbox"
    await queue_reset(mailing, "nobody@example.com")
    await sender.run_once()

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    assert sample("concept_mails_total", outcome="sent") == 3
    assert sample("concept_mails_total", outcome="deferred") == 1
    assert sample("concept_mails_total", outcome="failed") == 1
    assert sample("concept_mails_queued") == 1  # the deferred one


async def test_nothing_the_sender_logs_holds_the_token(
    mailing: Mailing,
    senders: Senders,
    inbox: Inbox,
    smtp_port: int,
    clock: StillClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await queue_reset(mailing)
    sender = senders(f"smtp://127.0.0.1:{smtp_port}")
    inbox.rcpt_reply = "451 4.3.0 Try later"
    await sender.run_once()
    inbox.rcpt_reply = None
    clock.advance(LONGEST_WAIT)
    await sender.run_once()

    assert len(inbox.received) == 1 and TOKEN in inbox.received[0].part("plain")
    assert "sent to ada@example.com" in caplog.text and "not sent" in caplog.text
    assert TOKEN not in caplog.text


async def test_every_query_of_the_outbox_is_served_by_an_index(
    database_url: str, db_name: str, inbox: Inbox, smtp_port: int, clock: StillClock, mailing: Mailing, senders: Senders
) -> None:
    async with recording(database_url, db_name) as (database, recorder):
        await queue_reset(mailing)
        await queue_reset(mailing, "nobody@example.com")
        await queue_unsent(mailing)
        sender = senders(f"smtp://127.0.0.1:{smtp_port}")
        sender.observer = Metrics([])
        inbox.rcpt_reply = "451 4.3.0 Try later"
        await sender.run_once()
        inbox.rcpt_reply = "550 5.1.1 No such mailbox"
        clock.advance(LONGEST_WAIT)
        await sender.run_once()

        assert {(q.collection, tuple(sorted(q.query))) for q in recorder.issued} == {
            (OUTBOX, ("due",)),
            (OUTBOX, ("due", "to")),
            (OUTBOX, ("_id", "claim")),
        }
        await assert_served_by_indexes(database, recorder.issued)
