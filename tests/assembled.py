"""The application as start-up assembles it, once per test session and without a
database: its parts, its engine (every concept and sync registered and checked) and
its GraphQL schema."""

from __future__ import annotations

from functools import cache

from app.api.schema import Schema, build_schema
from app.engine import Engine
from app.parts import Parts, discover
from app.protocol.routes import Route
from app.server.services import build_engine
from app.settings import Settings

NOT_A_KEY = "not a key: these tests never sign a token with it"


@cache
def parts() -> Parts:
    return discover()


def routes() -> tuple[Route, ...]:
    return parts().routes


@cache
def engine() -> Engine:
    built, _ = build_engine(Settings(_env_file=None, jwt_secret=NOT_A_KEY), parts())
    return built


@cache
def schema() -> Schema:
    return build_schema(parts())
