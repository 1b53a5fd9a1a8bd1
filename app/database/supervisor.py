"""Keeping the embedded database running: restart it when it dies, on the same data."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from .embedded import EmbeddedDatabase, EmbeddedDatabaseError

logger = logging.getLogger(__name__)

BACKOFF: Final = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
"""Seconds before each restart attempt after a death; the last repeats. A daemon that
has stayed up for STABLE seconds starts the sequence over."""
STABLE: Final = 60.0
CHECK_EVERY: Final = 0.2
"""Seconds between looks at the daemon."""

STATUS_ENV: Final = "CONCEPT_AUTH_EMBEDDED_DOWN"
"""Names the file that exists while the embedded database is down, for the workers' /healthz."""


def embedded_database_down() -> bool:
    """Whether this process's embedded database (run by the launcher) is down now."""
    marker = os.environ.get(STATUS_ENV)
    return marker is not None and os.path.exists(marker)


class Supervisor:
    """Watches a started EmbeddedDatabase from a thread of its own and restarts it,
    with backoff, when it dies; logs each death and restart. While it is down, the
    file named by CONCEPT_AUTH_EMBEDDED_DOWN exists (the workers inherit the name)."""

    def __init__(self, database: EmbeddedDatabase, down_marker: Path) -> None:
        self.database = database
        self.down_marker = down_marker
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="embedded-database-supervisor", daemon=True)

    def __enter__(self) -> Self:
        self.down_marker.unlink(missing_ok=True)
        os.environ[STATUS_ENV] = str(self.down_marker)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._thread.join()
        self.down_marker.unlink(missing_ok=True)

    def _watch(self) -> None:
        attempt, up_since = 0, 0.0
        while not self._stopping.wait(CHECK_EVERY):
            up_since += CHECK_EVERY
            if up_since >= STABLE:
                attempt = 0
            code = self.database.exit_code
            if code is None:
                continue
            self.down_marker.touch(mode=0o600)
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            logger.error(
                "embedded database (pid %d) exited with code %d; restarting it in %.1f s (log: %s)",
                self.database.pid,
                code,
                delay,
                self.database.log_path,
            )
            if self._stopping.wait(delay):
                return
            attempt += 1
            try:
                self.database.restart()
            except EmbeddedDatabaseError as error:
                logger.error("embedded database did not restart (attempt %d): %s", attempt, error)
                continue
            self.restarts += 1
            up_since = 0.0
            self.down_marker.unlink(missing_ok=True)
            logger.warning(
                "embedded database restarted (pid %d) at %s on the same data (%s); restart %d",
                self.database.pid,
                self.database.address,
                self.database.storage_path,
                self.restarts,
            )
