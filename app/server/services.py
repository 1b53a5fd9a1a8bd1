"""The application wired once: assembled and checked before any database (concepts,
syncs, routes, the request handler), then started on one (the client, the mail sender)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from app.api.handler import RequestHandler, RequestObserver
from app.api.journal import JournalPolicy, RequestJournal
from app.concepts import DOCUMENTS, Mailing, Requesting, create_all
from app.concepts import Gating as Gate
from app.concepts.mailing import MailObserver, Sender, sender_for
from app.database import Client, connect
from app.database.cache import Cache
from app.database.changes import ChangeFeed
from app.engine import Engine, Trace
from app.parts import Parts, discover
from app.protocol.coverage import Coverage, Gating, check_routes
from app.protocol.gates import REQUEST_GATE
from app.protocol.routes import IMPLICIT
from app.settings import Settings

logger = logging.getLogger("app.mail")


class Observer(RequestObserver, MailObserver, Protocol):
    """What the app tells its observer (the metrics): actions, syncs, requests, mails."""


@dataclass(frozen=True)
class Assembly:
    """The application put together and checked, before any database: its parts, the
    engine with every concept and sync, what the check found for each route, and the
    handler that serves requests."""

    parts: Parts
    engine: Engine
    coverages: list[Coverage]
    handler: RequestHandler

    @property
    def mailing(self) -> Mailing:
        mailing = self.engine.concepts["Mailing"]
        assert isinstance(mailing, Mailing)
        return mailing


@dataclass
class Services:
    """The application running on a database."""

    assembly: Assembly
    client: Client
    sender: Sender | None
    feed: ChangeFeed | None = None

    @property
    def engine(self) -> Engine:
        return self.assembly.engine

    @property
    def handler(self) -> RequestHandler:
        return self.assembly.handler

    @property
    def journal(self) -> RequestJournal | None:
        return self.handler.journal

    async def close(self) -> None:
        if self.feed is not None:
            await self.feed.stop()
        if self.sender is not None:
            await self.sender.stop()
        if self.journal is not None:
            await self.journal.close()
        await self.client.close()


def assemble(settings: Settings, parts: Parts | None = None, observer: Observer | None = None) -> Assembly:
    """Every concept registered and every sync checked and added, then the syncs checked
    against the routes (app.protocol.coverage): it refuses to start with a message
    naming the sync, route, action and key otherwise."""
    parts = parts or discover()
    tracing = logging.getLogger("app.engine").isEnabledFor(logging.DEBUG)
    engine = Engine(trace=Trace.TRACE if tracing else Trace.OFF, observer=observer)
    concepts = create_all(settings)
    engine.register(*concepts)
    engine.add_syncs(parts.syncs)
    engine.secrets |= {name for route in parts.routes for name in route.secrets}
    coverages = check_routes(
        engine,
        parts.routes,
        request=engine.action(Requesting.request),
        respond=engine.action(Requesting.respond),
        implicit=IMPLICIT,
        gating=Gating(*(engine.action(ref) for ref in (Gate.ask, Gate.refuse, Gate.hold, Gate.decide))),
    )
    requesting = next(concept for concept in concepts if isinstance(concept, Requesting))
    policy = JournalPolicy(settings.requesting_journal, settings.requesting_sample_queries)
    handler = RequestHandler(
        engine,
        requesting,
        timeout=settings.requesting_timeout,
        journal=RequestJournal(policy) if policy.mode != "off" else None,
        keep_for=timedelta(seconds=settings.requesting_ttl),
        routes=parts.routes,
        gated=frozenset(c.route.path for c in coverages if c.gates.get(REQUEST_GATE)),
        observer=observer,
    )
    return Assembly(parts, engine, coverages, handler)


async def start(
    settings: Settings, url: str, assembly: Assembly | None = None, observer: MailObserver | None = None
) -> Services:
    """The application running on the database at `url` (assembled from every part
    found, unless `assembly` is given)."""
    assembly = assembly or assemble(settings)
    client = await connect(url, settings.mongodb_db, DOCUMENTS)
    feed = await start_feed(settings, client, assembly.engine)
    return Services(assembly, client, start_mail(settings, assembly.mailing, observer), feed)


def caches(engine: Engine) -> list[Cache[object, object]]:
    """Every cache a concept keeps (an attribute of it that is a Cache)."""
    concepts = engine.concepts.values()
    return [value for concept in concepts for value in vars(concept).values() if isinstance(value, Cache)]


async def start_feed(settings: Settings, client: Client, engine: Engine) -> ChangeFeed | None:
    """The change feed that keeps the concepts' caches coherent, running; None when
    they are off (SESSION_CACHE=off, or a database without change streams)."""
    kept = caches(engine)
    if not kept:
        logging.getLogger("app").info("session cache off (SESSION_CACHE=off): every request reads its session")
        return None
    feed = ChangeFeed(client[settings.mongodb_db], kept)
    return feed if await feed.start() else None


def start_mail(settings: Settings, mailing: Mailing, observer: MailObserver | None) -> Sender | None:
    """This process's mail sender, running; None (and a warning) when mail is off."""
    running = sender_for(settings, mailing, observer=observer)
    if running is None:
        logger.warning("Mail is off: PRODUCTION is set and SMTP_URL is not; the routes that send mail say so")
        return None
    running.start()
    return running
