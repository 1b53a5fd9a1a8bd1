"""The running application: database, engine, concepts and syncs, wired once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from app.api.handler import RequestHandler
from app.api.journal import JournalPolicy, RequestJournal
from app.concepts import DOCUMENTS, Mailing, Requesting, create_all
from app.concepts import Gating as Gate
from app.concepts.mailing import Sender, sender_for
from app.database import Client, connect
from app.engine import Engine, Trace
from app.parts import Parts, discover
from app.protocol.coverage import Coverage, Gating, check_routes
from app.protocol.gates import REQUEST_GATE
from app.protocol.routes import IMPLICIT
from app.settings import Settings

logger = logging.getLogger("app.mail")


@dataclass
class Services:
    client: Client
    engine: Engine
    handler: RequestHandler
    journal: RequestJournal | None
    sender: Sender | None

    async def close(self) -> None:
        if self.sender is not None:
            await self.sender.stop()
        if self.journal is not None:
            await self.journal.close()
        await self.client.close()


@dataclass(frozen=True)
class Assembly:
    """The application put together and checked, before any database: its parts, the
    engine with every concept and sync, and what the check found for each route."""

    parts: Parts
    engine: Engine
    requesting: Requesting
    coverages: list[Coverage]

    @property
    def gated_paths(self) -> frozenset[str]:
        """The paths some guard watches at the request gate."""
        return frozenset(c.route.path for c in self.coverages if c.gates.get(REQUEST_GATE))


def assemble(settings: Settings, parts: Parts) -> Assembly:
    """Every concept registered and every sync checked and added, then the syncs checked
    against the routes (app.protocol.coverage): it refuses to start with a message
    naming the sync, route, action and key otherwise."""
    engine = Engine(trace=Trace.TRACE if logging.getLogger("app.engine").isEnabledFor(logging.DEBUG) else Trace.OFF)
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
    return Assembly(parts, engine, requesting, coverages)


async def start(settings: Settings, url: str, assembly: Assembly | None = None) -> Services:
    """The services of a running app on the database at `url` (the app assembled from
    every part found, unless `assembly` is given)."""
    assembly = assembly or assemble(settings, discover())
    client = await connect(url, settings.mongodb_db, DOCUMENTS)
    policy = JournalPolicy(settings.requesting_journal, settings.requesting_sample_queries)
    journal = RequestJournal(policy) if policy.mode != "off" else None
    handler = RequestHandler(
        assembly.engine,
        assembly.requesting,
        timeout=settings.requesting_timeout,
        journal=journal,
        keep_for=timedelta(seconds=settings.requesting_ttl),
        routes=assembly.parts.routes,
        gated=assembly.gated_paths,
    )
    return Services(client, assembly.engine, handler, journal, start_mail(settings, assembly.engine))


def start_mail(settings: Settings, engine: Engine) -> Sender | None:
    """This process's mail sender, running; None (and a warning) when mail is off."""
    mailing = engine.concepts["Mailing"]
    assert isinstance(mailing, Mailing)
    running = sender_for(settings, mailing)
    if running is None:
        logger.warning("Mail is off: PRODUCTION is set and SMTP_URL is not; the routes that send mail say so")
        return None
    running.start()
    return running
