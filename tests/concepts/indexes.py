"""Seeing which indexes serve the concepts' queries: a client that records every filter it
sends, and the server's own explanation of how it would run one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from beanie import init_beanie
from pymongo import AsyncMongoClient, monitoring

from app.concepts import DOCUMENTS

SERVED = {"$in", "$lt", "$lte", "$gt", "$gte"}
"""Conditions an index serves (as well as equality)."""


def stages(plan: Any) -> set[str]:
    """Every stage named anywhere in an explained plan."""
    if isinstance(plan, dict):
        found = {plan["stage"]} if isinstance(plan.get("stage"), str) else set()
        for value in plan.values():
            found |= stages(value)
        return found
    if isinstance(plan, list):
        return set().union(*(stages(item) for item in plan)) if plan else set()
    return set()


async def winning_stages(database: Any, collection: str, query: dict[str, Any], **options: Any) -> set[str]:
    explained = await database.command("explain", {"find": collection, "filter": query, **options})
    return stages(explained["queryPlanner"]["winningPlan"])


@dataclass
class Issued:
    collection: str
    query: dict[str, Any]
    options: dict[str, Any]


class CommandRecorder(monitoring.CommandListener):
    """Keeps the filter of every read, update, delete and count sent to the database."""

    def __init__(self) -> None:
        self.issued: list[Issued] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command, name = event.command, event.command_name
        collection = command.get(name)
        if name == "find":
            options = {k: command[k] for k in ("sort", "hint") if k in command}
            self.issued.append(Issued(collection, dict(command["filter"]), options))
        elif name == "findAndModify":
            options = {k: command[k] for k in ("sort", "hint") if k in command}
            self.issued.append(Issued(collection, dict(command["query"]), options))
        elif name in ("delete", "update"):
            for statement in command["deletes" if name == "delete" else "updates"]:
                options = {"hint": statement["hint"]} if "hint" in statement else {}
                self.issued.append(Issued(collection, dict(statement["q"]), options))
        elif name == "aggregate" and [next(iter(stage)) for stage in command["pipeline"]][:1] == ["$match"]:
            self.issued.append(Issued(collection, dict(command["pipeline"][0]["$match"]), {}))
        elif name in ("aggregate", "count", "distinct"):
            self.issued.append(Issued(collection, {"unexpected": name}, {}))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@asynccontextmanager
async def recording(database_url: str, db_name: str) -> AsyncIterator[tuple[Any, CommandRecorder]]:
    """The test's database (every document bound) through a client that records every command sent."""
    recorder = CommandRecorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database_url, event_listeners=[recorder], tz_aware=True)
    try:
        await init_beanie(database=client[db_name], document_models=DOCUMENTS)
        recorder.issued.clear()
        yield client[db_name], recorder
    finally:
        await client.close()


async def assert_served_by_indexes(database: Any, issued: list[Issued]) -> None:
    """Each filter is served by an index: an equality, `$in` or range on the first field of
    one of its collection's indexes (or a hint naming one), which the server does use."""
    indexes: dict[str, list[str]] = {}
    for query in issued:
        assert "unexpected" not in query.query, query
        if query.collection not in indexes:
            information = await database[query.collection].index_information()
            indexes[query.collection] = [spec["key"][0][0] for spec in information.values()]
        if "hint" in query.options:
            assert next(iter(query.options["hint"])) in indexes[query.collection], query
            served = query.query
        else:
            served = {
                key: value
                for key, value in query.query.items()
                if key in indexes[query.collection] and (not isinstance(value, dict) or set(value) <= SERVED)
            }
            assert served, query
        # The server's explain reports COLLSCAN for a conjunction even when an index
        # serves it (as for deleteByUser with `keep`), so the indexed part is explained
        # on its own.
        found = await winning_stages(database, query.collection, served, **query.options)
        assert "IXSCAN" in found and "COLLSCAN" not in found, (query, found)
