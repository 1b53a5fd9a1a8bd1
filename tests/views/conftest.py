"""The views of issue 6 (specifications, wiring diagram, flow traces).

`start_api` is the API tests' fixture, reused as is; `app_engine` is the engine the
app builds (every concept and sync registered), without a database.
"""

from __future__ import annotations

import pytest

from app.engine import Engine
from tests import assembled
from tests.api.conftest import start_api

__all__ = ["app_engine", "start_api"]


@pytest.fixture(scope="session")
def app_engine() -> Engine:
    return assembled.engine()
