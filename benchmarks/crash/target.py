"""The server under test: `python -m app` and its database, started, killed (SIGKILL)
and brought back on the same data.

With its embedded database (the default), the app's own supervisor restarts a killed
database, and a killed app takes its database with it (the kernel's parent-death
signal), so the app is simply started again. With `external`, the checker runs the
database itself (SecantusDB, as the embedded one) and names it in MONGODB_URL, so the
write concern can be set in the URL: `fast` adds `w=1&journal=false`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
import psutil

from app.database import EmbeddedDatabase, free_port
from app.settings import Settings

Database = Literal["embedded", "external"]
Writes = Literal["durable", "fast"]

LEASE = 3
"""REQUESTING_TIMEOUT of the app under test: how long an unfinished credential change
holds the credentials before the next login gives it up."""
PATIENCE = 120.0
"""Seconds to wait for a process to start, die or answer (a hang guard)."""
FAST = "w=1&journal=false"


def with_options(url: str, options: str) -> str:
    return f"{url}{'&' if '?' in url else '/?'}{options}"


@dataclass
class Target:
    directory: Path
    database: Database = "embedded"
    writes: Writes = "durable"
    port: int = field(default_factory=free_port)
    root: Path | None = None  # run the app of another checkout (e.g. main before a change)
    app: subprocess.Popen[bytes] | None = None
    external: EmbeddedDatabase | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """This environment without any of the app's settings, then the checker's."""
        names = {name.upper() for name in Settings.model_fields}
        env = {key: value for key, value in os.environ.items() if key.upper() not in names}
        env.update(
            PORT=str(self.port),
            DATA_DIR=str(self.directory / "data"),
            JWT_SECRET=self._secret,
            LOG_LEVEL="WARNING",
            REQUESTING_TIMEOUT=str(LEASE),
            # The workload checks correctness, not hashing: cheap argon2 (the cost runs use the default).
            ARGON2_MEMORY_KIB="1024",
            ARGON2_TIME_COST="1",
            THROTTLE_USERNAME_FAILURES="1000000",
            THROTTLE_ADDRESS_FAILURES="1000000",
            THROTTLE_ADDRESS_REGISTRATIONS="1000000",
        )
        if self.root is not None:
            env["PYTHONPATH"] = str(self.root)
        if self.external is not None:
            url = self.external.url
            env["MONGODB_URL"] = with_options(url, FAST) if self.writes == "fast" else url
        return env

    def __post_init__(self) -> None:
        self._secret = secrets.token_urlsafe(48)
        if self.writes == "fast" and self.database == "embedded":
            raise ValueError("the embedded database always gets durable writes: use --database external")

    def start(self) -> None:
        if self.database == "external" and self.external is None:
            self.external = EmbeddedDatabase(self.directory / "external-db").start()
        self.start_app()

    def start_app(self) -> None:
        log = (self.directory / "app.log").open("ab")
        self.app = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=self.directory,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.wait_ready()

    def wait_ready(self) -> float:
        """Seconds until /readyz says the app and its database serve."""
        started = time.monotonic()
        while time.monotonic() - started < PATIENCE:
            if self.app is not None and self.app.poll() is not None:
                raise RuntimeError(f"python -m app exited with {self.app.returncode}; see {self.directory / 'app.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2.0).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"the app was not ready within {PATIENCE} s; see {self.directory / 'app.log'}")

    def database_process(self) -> psutil.Process:
        if self.external is not None:
            return psutil.Process(self.external.pid)
        assert self.app is not None
        found = [
            child
            for child in psutil.Process(self.app.pid).children(recursive=True)
            if "secantus" in " ".join(_cmdline(child)).lower()
        ]
        if len(found) != 1:
            raise RuntimeError(f"expected one embedded database process under the app, found {found}")
        return found[0]

    def kill(self, what: Literal["database", "app"]) -> psutil.Process:
        """SIGKILL the database or the app, now; the process killed."""
        victim = self.database_process() if what == "database" else psutil.Process(self.app.pid if self.app else 0)
        victim.send_signal(signal.SIGKILL)
        return victim

    def recover(self, what: Literal["database", "app"], victim: psutil.Process) -> float:
        """Bring back what was killed, on the same data; seconds until the app serves again."""
        started = time.monotonic()
        if what == "app":
            assert self.app is not None
            self.app.wait(PATIENCE)
            if self.database == "embedded":
                children = [child for child in psutil.process_iter() if _orphaned_database(child, self.directory)]
                psutil.wait_procs(children, timeout=PATIENCE)
            self.start_app()
        else:
            victim.wait(PATIENCE)
            if self.external is not None:
                self.external.restart()
            self.wait_ready()  # the embedded one: the app's supervisor restarts it
        return time.monotonic() - started

    def restart_app(self) -> None:
        """Stop the app (SIGTERM) and start it again: a fresh supervisor, whose backoff
        between restarts of the database starts again at half a second."""
        self.stop_app()
        self.start_app()

    def stop_app(self) -> None:
        if self.app is not None and self.app.poll() is None:
            self.app.send_signal(signal.SIGTERM)
            try:
                self.app.wait(30)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait()

    def stop(self) -> None:
        self.stop_app()
        if self.external is not None:
            self.external.stop()


def _cmdline(process: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        return [str(part) for part in process.cmdline()]
    return []


def _orphaned_database(process: psutil.Process, directory: Path) -> bool:
    """A database daemon left from the killed app (its storage is under `directory`)."""
    command = " ".join(_cmdline(process))
    return "secantus" in command.lower() and str(directory) in command
