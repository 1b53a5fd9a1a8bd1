"""What the hardening tests share: apps run as real processes (`python -m app`), each
on a free loopback port, and the in-process `start_api` of the API tests.

Beanie binds the documents once per process, so a test that needs two apps at once
runs them as subprocesses."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.database import free_port
from tests.api.conftest import api, start_api
from tests.api.helpers import REGISTER
from tests.api.test_launcher import launcher_env, wait_until_healthy

__all__ = ["AppProcess", "api", "running_apps", "start_api"]

STOP = 10.0  # seconds an app gets to exit after SIGTERM before it is killed


def pytest_configure(config: pytest.Config) -> None:
    # As in tests/api, so `-m "not launcher"` leaves out every test that starts `python -m app`.
    config.addinivalue_line("markers", "launcher: starts `python -m app` as a subprocess (slow, needs a free port)")


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
