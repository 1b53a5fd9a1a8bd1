"""The running application: database, engine, concepts and syncs, wired once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from app.api.handler import RequestHandler
from app.api.journal import JournalPolicy, RequestJournal
from app.concepts import DOCUMENTS, Requesting, Sessioning, Throttling, UserAuthentication
from app.concepts.sessioning import TokenCodec
from app.concepts.throttling import Limit
from app.concepts.user_authentication import PasswordHasher
from app.database import Client, connect
from app.engine import Engine, Trace
from app.settings import Settings, jwt_secret
from syncs import all_syncs


@dataclass
class Services:
    client: Client
    engine: Engine
    handler: RequestHandler
    journal: RequestJournal | None

    async def close(self) -> None:
        if self.journal is not None:
            await self.journal.close()
        await self.client.close()


def signing_keys(settings: Settings) -> list[str]:
    """The current key first, then the previous one (still accepted, never used to sign)."""
    keys = [jwt_secret(settings)]
    if settings.jwt_secret_previous is not None:
        keys.append(settings.jwt_secret_previous.get_secret_value())
    return keys


def throttling_limits(settings: Settings) -> dict[str, Limit]:
    """What the syncs throttle (see syncs/throttling.py), by the THROTTLE_* settings."""
    window = timedelta(seconds=settings.throttle_window)
    return {
        "login": Limit(settings.throttle_username_failures, window, per_source=settings.throttle_address_failures),
        "password": Limit(settings.throttle_username_failures, window),
        "registration": Limit(settings.throttle_address_registrations, window),
    }


def build_engine(settings: Settings, keys: list[str]) -> tuple[Engine, Requesting]:
    """The engine with every concept registered and every sync checked and added."""
    engine = Engine(trace=Trace.TRACE if logging.getLogger("app.engine").isEnabledFor(logging.DEBUG) else Trace.OFF)
    requesting = Requesting()
    engine.register(
        requesting,
        UserAuthentication(
            PasswordHasher(
                memory_kib=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
                parallelism=settings.argon2_parallelism,
            )
        ),
        Sessioning(TokenCodec(keys, settings.jwt_issuer), timedelta(seconds=settings.session_ttl)),
        Throttling(throttling_limits(settings)),
    )
    engine.add_syncs(all_syncs())
    return engine, requesting


async def start(settings: Settings, url: str) -> Services:
    engine, requesting = build_engine(settings, signing_keys(settings))
    client = await connect(url, settings.mongodb_db, DOCUMENTS)
    policy = JournalPolicy(settings.requesting_journal, settings.requesting_sample_queries)
    journal = RequestJournal(policy) if policy.mode != "off" else None
    handler = RequestHandler(
        engine,
        requesting,
        timeout=settings.requesting_timeout,
        journal=journal,
        keep_for=timedelta(seconds=settings.requesting_ttl),
    )
    return Services(client, engine, handler, journal)
