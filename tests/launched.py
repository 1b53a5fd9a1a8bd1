"""`python -m app` run as a process, as an operator runs it: its environment, waiting
for it to answer, and apps run side by side on free loopback ports (Beanie binds the
documents once per process, so a test that needs two apps at once runs them as
processes)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from app.database import free_port
from app.settings import Settings
from tests.api.helpers import REGISTER

ROOT = Path(__file__).resolve().parents[1]
STARTUP = 40.0  # seconds an app gets to answer /healthz
STOP = 10.0  # seconds an app gets to exit after SIGTERM before it is killed


def launcher_env(port: int, data_dir: Path) -> dict[str, str]:
    """This environment without any of the app's settings, then just ours."""
    settings = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings}
    env.update(
        PORT=str(port),
        DATA_DIR=str(data_dir),
        ARGON2_MEMORY_KIB="1024",
        ARGON2_TIME_COST="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"python -m app exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"/healthz did not answer within {STARTUP} s:\n{log.read_text(errors='replace')[-3000:]}")


def child_cmdline(child: psutil.Process) -> list[str]:
    with contextlib.suppress(psutil.Error):
        return [str(part) for part in child.cmdline()]
    return []


@dataclass
class AppProcess:
    """A running `python -m app`: its URL, its process and its output."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        """POST /graphql; the decoded JSON body (asserting a 200)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=10.0
        )
        assert response.status_code == 200, response.text
        return response.json()

    def register(self, username: str, password: str = "correct horse") -> tuple[str, str]:
        """(user id, session token) of a new user."""
        body = self.gql(REGISTER, {"username": username, "password": password})
        result = body["data"]["register"]
        assert result["__typename"] == "AuthSuccess", body
        return result["user"]["id"], result["session"]

    def me(self, token: str | None) -> dict[str, Any] | None:
        body = self.gql("{ me { id username } }", token=token)
        assert "errors" not in body, body
        return body["data"]["me"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def running_apps(directory: Path, *settings: dict[str, str]) -> Iterator[list[AppProcess]]:
    """Start one `python -m app` per settings (environment variables beyond the
    launcher's defaults, e.g. MONGODB_URL), all at once; stop them with SIGTERM."""
    started: list[AppProcess] = []
    try:
        for index, values in enumerate(settings):
            port = free_port()
            home = directory / f"app{index}"
            home.mkdir(parents=True, exist_ok=True)
            log = home / "app.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [sys.executable, "-m", "app"],
                    cwd=home,
                    env={**launcher_env(port, home / "data"), **values},
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            started.append(AppProcess(f"http://127.0.0.1:{port}", process, log))
        for app in started:
            wait_until_healthy(app.process, app.url, app.log)
        yield started
    finally:
        for app in started:
            if app.process.poll() is None:
                app.process.send_signal(signal.SIGTERM)
        for app in started:
            try:
                app.process.wait(timeout=STOP)
            except subprocess.TimeoutExpired:
                app.process.kill()
                app.process.wait()


def database_process(app: AppProcess) -> psutil.Process:
    [daemon] = [
        child
        for child in psutil.Process(app.process.pid).children(recursive=True)
        if "secantus" in " ".join(child.cmdline()).lower()
    ]
    return daemon
