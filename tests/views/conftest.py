"""The views of issue 6 (specifications, wiring diagram, flow traces).

`start_api` is the API tests' fixture, reused as is; `app_engine` is the engine the
app builds (every concept and sync registered), without a database.
"""

from __future__ import annotations

import pytest

from app.engine import Engine
from app.server.services import build_engine
from app.settings import Settings
from tests.api.conftest import start_api

__all__ = ["app_engine", "start_api"]

NOT_A_KEY = "not a key: these tests never sign a token with it"


@pytest.fixture(scope="session")
def app_engine() -> Engine:
    engine, _ = build_engine(Settings(_env_file=None, jwt_secret=NOT_A_KEY))
    return engine
