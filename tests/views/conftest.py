"""The views (specifications, wiring diagram, flow traces).

`app_engine` is the engine the app builds (every concept and sync registered), without
a database.
"""

from __future__ import annotations

import pytest

from app.engine import Engine
from tests import assembled


@pytest.fixture(scope="session")
def app_engine() -> Engine:
    return assembled.engine()
