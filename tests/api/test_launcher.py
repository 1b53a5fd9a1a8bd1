"""`python -m app` as an operator runs it: no MONGODB_URL, so it starts the embedded
database itself, serves the API, and on SIGTERM stops both."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from app.database import free_port
from app.database.credentials import Credentials
from tests.launched import child_cmdline, launcher_env, wait_until_healthy

from .helpers import REGISTER

SHUTDOWN = 15.0


@dataclass
class Run:
    """What one run of `python -m app` showed, from start to SIGTERM."""

    data_dir: Path
    log: Path
    register: httpx.Response
    ready: int
    database: list[psutil.Process]  # the launcher's descendants running the embedded database
    without_credentials: str  # what the embedded database answered a client that did not sign in
    exit_code: int | None  # None: still running SHUTDOWN s after SIGTERM
    survivors: list[psutil.Process]  # descendants still running SHUTDOWN s after the launcher exited

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Start `python -m app` in an empty directory, register a user, send SIGTERM."""
    tmp_path = tmp_path_factory.mktemp("launcher")
    port, data_dir, log = free_port(), tmp_path / "data", tmp_path / "app.log"
    url = f"http://127.0.0.1:{port}"
    children: list[psutil.Process] = []
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=tmp_path,
            env=launcher_env(port, data_dir),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(process, url, log)
        children = psutil.Process(process.pid).children(recursive=True)
        database = [child for child in children if "secantus" in " ".join(child_cmdline(child)).lower()]
        variables = {"username": "alice", "password": "correct horse"}
        register = httpx.post(f"{url}/graphql", json={"query": REGISTER, "variables": variables}, timeout=10.0)
        ready = httpx.get(f"{url}/readyz", timeout=5.0).status_code
        without_credentials = unsigned_read(log)

        process.send_signal(signal.SIGTERM)
        try:
            exit_code: int | None = process.wait(timeout=SHUTDOWN)
        except subprocess.TimeoutExpired:
            exit_code = None
        _, survivors = psutil.wait_procs(children, timeout=SHUTDOWN) if exit_code is not None else ([], children)
        yield Run(data_dir, log, register, ready, database, without_credentials, exit_code, survivors)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


def unsigned_read(log: Path) -> str:
    """What the embedded database (at the address the log gives) answers a read by a
    client that does not sign in: its error's code name, or "served"."""
    address = re.search(r"embedded database at (mongodb://\S+)", log.read_text(errors="replace"))
    assert address is not None, log.read_text(errors="replace")
    with MongoClient(address.group(1), directConnection=True, serverSelectionTimeoutMS=5000) as client:
        try:
            client.concepts["UserAuthentication.users"].find_one()
        except OperationFailure as error:
            return str(error.details.get("codeName") if error.details else error.code)
    return "served"


@pytest.mark.launcher
def test_python_m_app_serves_the_api_with_its_embedded_database(run: Run) -> None:
    assert run.register.status_code == 200, run.output()
    assert run.register.json()["data"]["register"]["__typename"] == "AuthSuccess", run.register.text
    assert run.ready == 200
    assert run.database, "no embedded database process among the launcher's children"
    assert (run.data_dir / "db").is_dir()


@pytest.mark.launcher
def test_python_m_app_generates_a_private_development_jwt_key(run: Run) -> None:
    key = run.data_dir / "jwt_secret"

    assert key.stat().st_mode & 0o077 == 0
    assert len(key.read_text().strip()) >= 32


@pytest.mark.launcher
def test_python_m_app_exits_on_sigterm(run: Run) -> None:
    assert run.exit_code is not None, f"still running {SHUTDOWN} s after SIGTERM:\n{run.output()}"


@pytest.mark.launcher
def test_python_m_app_leaves_no_database_process_behind(run: Run) -> None:
    assert run.database
    assert run.survivors == [], f"still running after the launcher exited: {run.survivors}"


@pytest.mark.launcher
def test_python_m_app_shuts_down_through_its_own_cleanup_on_sigterm(run: Run) -> None:
    # Killed by the signal's default action (-SIGTERM), a process runs no `finally`,
    # ExitStack or atexit: the launcher's own stop of the embedded database is skipped
    # and the daemon is left to the kernel's parent-death signal.
    assert run.exit_code in (0, 128 + signal.SIGTERM), f"exit code {run.exit_code}:\n{run.output()}"


@pytest.mark.launcher
def test_python_m_app_s_database_refuses_a_client_without_its_credentials(run: Run) -> None:
    credentials = run.data_dir / "db.credentials"

    assert run.without_credentials == "Unauthorized"
    assert credentials.stat().st_mode & 0o077 == 0
    stored = Credentials.read(credentials)
    assert stored is not None and stored.password not in run.log.read_text(errors="replace")
