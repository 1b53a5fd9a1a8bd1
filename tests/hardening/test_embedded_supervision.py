"""The embedded database under `python -m app`: private files, supervised (killed, it is
restarted on the same data, and /healthz says so while it is down), and a DEBUG log
that shows the engine's trace but no credential material."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo import MongoClient

from app.database.credentials import Credentials
from tests.api.helpers import AUTHENTICATE, REGISTER
from tests.launched import AppProcess, database_process, running_apps

pytestmark = pytest.mark.launcher

PASSWORD = "correct horse battery"
KILLS = 5  # a restart may beat the test to the port; then the test kills again
RECOVERY_ATTEMPTS = 300  # /healthz and `me` tried this often, 0.1 s apart, after the port is freed


@dataclass
class Supervised:
    app: AppProcess
    data_dir: Path
    user: str
    token: str
    modes: dict[str, int] = field(default_factory=dict)  # path under DATA_DIR -> permission bits
    health_down: httpx.Response | None = None
    me_down: dict[str, object] = field(default_factory=dict)
    health_up: int | None = None
    me_up: dict[str, object] = field(default_factory=dict)


def database_port(app: AppProcess) -> int:
    for line in app.log.read_text(errors="replace").splitlines():
        if "embedded database at mongodb://" in line:
            port = urlsplit(line.split("embedded database at ", 1)[1].split()[0]).port
            assert port is not None
            return port
    raise AssertionError(app.log.read_text(errors="replace"))


def occupy(port: int) -> socket.socket | None:
    """Listen on the database's port (so its restart fails), or None if it is back already."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the dead daemon's TIME_WAIT connections
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            return None
        raise
    sock.listen()
    return sock


def gql(
    app: AppProcess, query: str, variables: dict[str, str] | None = None, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{app.url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=60
    )


def kill_and_hold_the_port(app: AppProcess, data_dir: Path) -> socket.socket:
    """SIGKILL the daemon and take its port before the supervisor restarts it there."""
    port = database_port(app)
    credentials = Credentials.read(data_dir / "db.credentials")
    assert credentials is not None
    # SecantusDB makes writes durable at its checkpoints: those of the last moment
    # before a SIGKILL may be lost. Checkpoint now, so "the same data" is all of it.
    with MongoClient(credentials.url("127.0.0.1", port), directConnection=True) as client:
        client.admin.command("fsync")
    for _ in range(KILLS):
        daemon = database_process(app)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=30)
        held = occupy(port)
        if held is not None:
            return held
        for _ in range(RECOVERY_ATTEMPTS):  # restarted already: wait till it serves, then again
            if httpx.get(f"{app.url}/healthz", timeout=60).status_code == 200:
                break
            time.sleep(0.1)
    raise AssertionError(f"the daemon was restarted before the test could hold its port, {KILLS} times")


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervised]:
    directory = tmp_path_factory.mktemp("supervised")
    with running_apps(directory, {"LOG_LEVEL": "DEBUG"}) as (app,):
        data_dir = directory / "app0" / "data"
        registered = gql(app, REGISTER, {"username": "alice", "password": PASSWORD}).json()["data"]["register"]
        assert gql(app, AUTHENTICATE, {"username": "alice", "password": PASSWORD}).status_code == 200
        result = Supervised(app, data_dir, registered["user"]["id"], registered["session"])
        result.modes = {
            str(path.relative_to(data_dir)): stat.S_IMODE(path.stat().st_mode)
            for path in [data_dir, *data_dir.rglob("*")]
        }
        held = kill_and_hold_the_port(app, data_dir)
        with contextlib.closing(held):
            result.health_down = httpx.get(f"{app.url}/healthz", timeout=60)
            result.me_down = gql(app, "{ me { id } }", token=result.token).json()
            for _ in range(RECOVERY_ATTEMPTS):  # hold the port until a restart has failed on it
                if "embedded database did not restart" in app.log.read_text(errors="replace"):
                    break
                time.sleep(0.1)
        for _ in range(RECOVERY_ATTEMPTS):
            result.me_up = gql(app, "{ me { id username } }", token=result.token).json()
            if (result.me_up.get("data") or {}).get("me"):  # type: ignore[union-attr]
                break
            time.sleep(0.1)
        for _ in range(RECOVERY_ATTEMPTS):  # the supervisor logs the restart just after it
            if "embedded database restarted" in app.log.read_text(errors="replace"):
                break
            time.sleep(0.1)
        result.health_up = httpx.get(f"{app.url}/healthz", timeout=60).status_code
        yield result


def test_data_dir_and_everything_in_it_is_private(supervised: Supervised) -> None:
    modes = supervised.modes
    assert "db" in modes and "db.log" in modes and "jwt_secret" in modes, modes
    loose = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (supervised.data_dir / name).is_dir() or name == "." else 0o600)
    }
    assert loose == {}, loose


def test_while_the_database_is_down_healthz_says_so(supervised: Supervised) -> None:
    assert supervised.health_down is not None
    assert supervised.health_down.status_code == 503, supervised.health_down.text
    assert [e["extensions"]["code"] for e in supervised.me_down["errors"]] == ["SERVICE_UNAVAILABLE"]  # type: ignore[index]


def test_a_killed_database_is_restarted_on_the_same_data(supervised: Supervised) -> None:
    assert supervised.me_up == {"data": {"me": {"id": supervised.user, "username": "alice"}}}
    assert supervised.health_up == 200


def test_the_deaths_and_the_restart_are_logged(supervised: Supervised) -> None:
    output = supervised.app.log.read_text(errors="replace")

    assert "embedded database (pid" in output and "exited with code -9; restarting it in" in output, output
    assert "embedded database did not restart" in output, output  # while the test held its port
    assert "embedded database restarted (pid" in output and "on the same data" in output, output


def test_debug_logs_show_the_engine_trace_but_no_credentials(supervised: Supervised) -> None:
    log = supervised.app.log.read_text(errors="replace")

    assert " DEBUG app.engine: " in log
    assert "UserAuthentication.register" in log
    assert PASSWORD not in log
    assert "$argon2" not in log
    assert supervised.token not in log
    assert supervised.token.split(".")[-1] not in log  # not even the signature
    assert " DEBUG pymongo" not in log
    credentials = Credentials.read(supervised.data_dir / "db.credentials")
    assert credentials is not None and credentials.password not in log  # not the database's either


def test_the_database_files_are_still_private_after_the_restart(supervised: Supervised) -> None:
    loose = [
        str(path)
        for path in supervised.data_dir.rglob("*")
        if path.is_file() and stat.S_IMODE(path.stat().st_mode) & (stat.S_IRWXG | stat.S_IRWXO)
    ]
    assert loose == []
    assert os.stat(supervised.data_dir).st_mode & 0o077 == 0
