"""The application as start-up assembles it, once per test session and without a
database: its parts, its engine (every concept and sync registered and checked, with
what the check found for each route) and its GraphQL schema."""

from __future__ import annotations

from functools import cache

from app.api.schema import Schema, build_schema
from app.engine import Engine
from app.parts import Parts, discover
from app.protocol.routes import Route
from app.server.services import Assembly, assemble
from app.settings import Settings

NOT_A_KEY = "not a key: these tests never sign a token with it"


@cache
def parts() -> Parts:
    return discover()


def routes() -> tuple[Route, ...]:
    return parts().routes


@cache
def assembly() -> Assembly:
    return assemble(Settings(_env_file=None, jwt_secret=NOT_A_KEY), parts())


def engine() -> Engine:
    return assembly().engine


@cache
def schema() -> Schema:
    return build_schema(parts(), assembly().coverages)
