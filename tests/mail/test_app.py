"""Mail in the running app: the lifespan starts one sender per app, a queued mail goes out
at once, a hung SMTP server never holds a request up, two apps on one database send each
mail once, and without SMTP_URL mail goes to the log (development) or is off (production)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.concepts.mailing import Mailing
from app.server.application import create_app
from app.server.services import Services
from tests.api.helpers import served, settings_for

from .conftest import FROM, RESET_URL, VERIFY_URL
from .smtp import Inbox
from .watch import Watch

TOKEN = "tOkEn-0123456789_abcdefghijklmnopqrstuvwxyzA"
OUTBOX = "Mailing.outbox"
KEY = secrets.token_urlsafe(48)
"""The key every app of a test shares (the instances of one deployment do)."""


@asynccontextmanager
async def running_app(database_url: str, db_name: str, **overrides: Any) -> AsyncIterator[Running]:
    settings = settings_for(
        database_url,
        db_name,
        jwt_secret=KEY,  # the instances of one deployment share it (and open each other's mails with it)
        mail_from=FROM,
        verify_email_url=VERIFY_URL,
        reset_password_url=RESET_URL,
        **overrides,
    )
    async with served(create_app(settings)) as (services, http):
        yield Running(services, http)


@dataclass
class Running:
    services: Services
    http: httpx.AsyncClient


def mailing_of(app: Running) -> Mailing:
    return app.services.assembly.mailing


async def queue(app: Running, to: str = "ada@example.com") -> str:
    out = await mailing_of(app).queue(to=to, template="reset-password", token=TOKEN, username="ada")
    assert "mail" in out, out
    return str(out["mail"])


async def test_the_app_sends_a_queued_mail_at_once_and_counts_it(
    database_url: str, db_name: str, inbox: Inbox, smtp_port: int
) -> None:
    async with running_app(database_url, db_name, smtp_url=f"smtp://127.0.0.1:{smtp_port}") as app:
        watch = Watch(app)
        mail = await queue(app)
        await watch.sent(1)
        metrics = (await app.http.get("/metrics")).text

    [received] = inbox.received
    assert received.message["Message-ID"] == f"<{mail}@example.com>"
    assert 'concept_mails_total{outcome="sent"} 1.0' in metrics
    assert "concept_mails_queued 0.0" in metrics


async def test_a_hung_smtp_server_holds_up_no_request(database_url: str, db_name: str, mongo_client: Any) -> None:
    """The server accepts connections and never answers: the sender waits on it, the requests do not."""
    hung: list[asyncio.StreamWriter] = []
    connected = asyncio.Event()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung.append(writer)  # never greets
        connected.set()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    outbox = mongo_client[db_name][OUTBOX]
    async with AsyncExitStack() as stack:
        stack.push_async_callback(server.wait_closed)
        stack.callback(server.close)
        app = await stack.enter_async_context(running_app(database_url, db_name, smtp_url=f"smtp://127.0.0.1:{port}"))
        await queue(app)
        async with asyncio.timeout(60):  # a guard against a hang, not a timing rule
            await connected.wait()  # the sender claimed the mail and waits on the server

        second = await queue(app, "bob@example.com")  # answered all the same

        states = {str(mail["_id"]): mail["state"] async for mail in outbox.find()}
        assert states[second] == "queued" and list(states.values()).count("sending") == 1
        for writer in hung:
            writer.close()


async def test_two_apps_on_one_database_send_each_mail_once(
    database_url: str, db_name: str, inbox: Inbox, smtp_port: int, mongo_client: Any
) -> None:
    outbox = mongo_client[db_name][OUTBOX]
    url = f"smtp://127.0.0.1:{smtp_port}"
    async with (
        running_app(database_url, db_name, smtp_url=url) as first,
        running_app(database_url, db_name, smtp_url=url) as second,
    ):
        watch = Watch(first, second)
        mails = [await queue(app, f"user{n}@example.com") for n in range(6) for app in (first, second)]
        await watch.sent(len(mails))

    assert await outbox.count_documents({"state": "sent"}) == len(mails)
    assert sorted(received.message["Message-ID"] for received in inbox.received) == sorted(
        f"<{mail}@example.com>" for mail in mails
    )


async def test_without_smtp_url_in_development_each_mail_is_written_to_the_log(
    database_url: str, db_name: str, caplog: pytest.LogCaptureFixture, mongo_client: Any
) -> None:
    caplog.set_level(logging.INFO, logger="app.mail")
    async with running_app(database_url, db_name) as app:
        assert await mailing_of(app)._getDelivery() == [{"delivering": True, "by": "log"}]
        watch = Watch(app)
        await queue(app)
        await watch.sent(1)

    assert "Mail to ada@example.com (SMTP_URL is not set, so it is written here instead of sent)" in caplog.text
    assert "Subject: Reset your password" in caplog.text
    assert f"https://app.example.com/reset?token={TOKEN}" in caplog.text  # for the developer to open


async def test_in_production_without_smtp_url_mail_is_off_and_says_so(
    database_url: str, db_name: str, caplog: pytest.LogCaptureFixture, mongo_client: Any
) -> None:
    caplog.set_level(logging.INFO, logger="app")
    production = {
        "production": True,
        "webauthn_rp_id": "app.example.com",
        "webauthn_rp_name": "Example",
        "webauthn_origins": ["https://app.example.com"],
    }
    async with running_app(database_url, db_name, **production) as app:
        mailing = mailing_of(app)
        assert await mailing._getDelivery() == [{"delivering": False, "by": "off"}]
        out = await mailing.queue(to="ada@example.com", template="reset-password", token=TOKEN, username="ada")

    assert out["code"] == "MAIL_UNAVAILABLE"
    assert await mongo_client[db_name][OUTBOX].count_documents({}) == 0
    assert "Mail is off: PRODUCTION is set and SMTP_URL is not" in caplog.text
