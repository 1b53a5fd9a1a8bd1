"""The embedded database: a SecantusDB daemon run as a child process.

SecantusDB speaks MongoDB's wire protocol, so the app talks to it exactly as to a
MongoDB server. It is GPL-licensed: this module never imports it, it only starts its
daemon executable (`secantusd-py`, from `pip install -e '.[embedded]'`) and connects
over TCP on loopback.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from app.settings import Settings

from .credentials import Credentials

logger = logging.getLogger(__name__)

DAEMON: Final = "secantusd-py"
"""The SecantusDB daemon's executable."""

MEMORY: Final = ":memory:"
"""The storage path of an ephemeral database (gone when the daemon stops)."""

HOST: Final = "127.0.0.1"

_PR_SET_PDEATHSIG: Final = 1  # from <linux/prctl.h>
_AUTHENTICATION_FAILED: Final = 18
_USER_EXISTS: Final = 51003
_PORT_ATTEMPTS: Final = 5
_LOG_TAIL_BYTES: Final = 4000

# An explicit, empty configuration, so no secantusd.toml found by the daemon's
# auto-discovery (./, ~/.secantus/, /etc/secantus/) changes how the app's database
# runs (say, turns on --auth).
_EMPTY_CONFIG: Final = "# Written by app.database.embedded: only the command line's flags apply.\n"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded database could not be found, started or stopped."""


_MANAGED_ELSEWHERE: Final = "already being managed by another process"
"""What WiredTiger logs when another process has the storage open."""


def in_use(directory: Path, by: str) -> EmbeddedDatabaseError:
    return EmbeddedDatabaseError(
        f"DATA_DIR {directory} is in use by {by}: stop it, or give this instance a DATA_DIR of its own "
        "(and a PORT: two instances cannot share one)"
    )


class StorageLock:
    """A storage's lock file (`<storage>.lock`, holding its owner's pid), held by the process
    that runs its daemon for as long as it does. A second app on the same DATA_DIR is told
    so in one line, with the other's pid, before its daemon could fail on WiredTiger's lock."""

    def __init__(self, storage: Path) -> None:
        self.path = storage.with_name(storage.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise in_use(self.path.parent, f"another running instance (pid {holder or 'unknown'})") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing it releases the lock
            self._fd = None


def find_daemon(name: str = DAEMON) -> str:
    """The daemon's path: next to the running interpreter (the venv's bin, even when
    the venv is not activated), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is not None:
        return found
    raise EmbeddedDatabaseError(
        f"The embedded database's executable {name!r} was not found next to {sys.executable} "
        "or on PATH. Install it with: pip install -e '.[embedded]' "
        "(or set MONGODB_URL to use a MongoDB server instead)."
    )


class EmbeddedDatabase:
    """A SecantusDB daemon on a free loopback port, owned by whoever started it.

    The owner is the process that called `start()` (the launcher): only it stops the
    daemon, and the daemon ends with it. Worker processes do not own it; the launcher
    hands them its URL through the environment and they connect like to any MongoDB::

        with EmbeddedDatabase.from_settings(settings) as database:
            os.environ["MONGODB_URL"] = database.url  # inherited by the workers
            run_server(...)

    The daemon runs in its own session (process group), so a Ctrl-C in the terminal
    reaches the app only, and the app stops the database after its own shutdown. If
    the owner dies without stopping it, even by SIGKILL, the kernel sends the daemon
    SIGTERM (Linux's parent-death signal; `start()` must be called from the main
    thread, since the signal follows the thread that spawned the child). `stop()` and
    an atexit hook cover a normal exit on other systems.

    The daemon's output goes to `log_path`: by default `<storage_path>.log` (so
    DATA_DIR/db.log for DATA_DIR/db), a temporary file for `:memory:`.

    A database on disk requires credentials (`--auth`, SCRAM-SHA-256): a user and a
    password generated on its first start into `<storage_path>.credentials` (0600),
    which `url` carries, so nothing else on the host can connect to it. An ephemeral
    `:memory:` database (the tests') has none: it holds nothing beyond its owner's run.
    """

    def __init__(
        self,
        storage_path: str | os.PathLike[str] | None = None,
        *,
        log_path: str | os.PathLike[str] | None = None,
        executable: str | os.PathLike[str] | None = None,
        config_path: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        port: int | None = None,
    ) -> None:
        """`storage_path`: a directory (created if missing; reopened intact) or
        `":memory:"`; default DATA_DIR/db from `Settings`. `executable`: default
        `find_daemon()`. `config_path`: a secantusd.toml (e.g. to set cache_size);
        default none at all. `port`: listen there (e.g. to start a stopped database
        again where its clients look for it); default a free one."""
        if storage_path is None:
            storage_path = Settings().data_dir / "db"
        memory = os.fspath(storage_path) == MEMORY
        self.storage_path: Path | None = None if memory else Path(storage_path)
        if log_path is not None:
            self.log_path: Path | None = Path(log_path)
        elif self.storage_path is not None:
            self.log_path = self.storage_path.with_name(self.storage_path.name + ".log")
        else:
            self.log_path = None  # a temporary file, chosen by start()
        self._executable = None if executable is None else os.fspath(executable)
        self._config_path = None if config_path is None else Path(config_path)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._fixed_port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._owner_pid: int | None = None
        self._temporary_log = False
        self._restarting = False
        self.credentials_path: Path | None = None
        if self.storage_path is not None:
            self.credentials_path = self.storage_path.with_name(self.storage_path.name + ".credentials")
        self._credentials: Credentials | None = None
        self._lock = None if self.storage_path is None else StorageLock(self.storage_path)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The app's database: storage DATA_DIR/db, log DATA_DIR/db.log."""
        return cls(settings.data_dir / "db", log_path=settings.data_dir / "db.log")

    @property
    def url(self) -> str:
        """The MongoDB URL of the running daemon. Without retryable writes: over loopback
        a retry buys nothing, and SecantusDB keeps a record of every retryable write that
        it scans on each later one, so they make every write dearer as they pile up."""
        if self._port is None:
            raise EmbeddedDatabaseError("the embedded database is not running")
        if self._credentials is not None:
            return self._credentials.url(HOST, self._port)
        return f"mongodb://{HOST}:{self._port}/?retryWrites=false"

    @property
    def address(self) -> str:
        """Where the daemon listens, for logs: the URL without its credentials."""
        if self._port is None:
            raise EmbeddedDatabaseError("the embedded database is not running")
        return f"mongodb://{HOST}:{self._port}"

    @property
    def pid(self) -> int:
        """The daemon's process id."""
        if self._process is None:
            raise EmbeddedDatabaseError("the embedded database is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the daemon and return once it answers `ping`."""
        if self._process is not None:
            raise EmbeddedDatabaseError("the embedded database is already started")
        executable = self._executable or find_daemon()
        if self.storage_path is not None:
            private_directory(self.storage_path)
        if self._lock is not None and not self._restarting:
            self._lock.acquire()
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="secantusd-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
            self._temporary_log = True
        private_directory(self.log_path.parent)

        try:
            process, port = self._start_daemon(executable)
        except BaseException:
            if self._lock is not None and not self._restarting:
                self._lock.release()
            raise

        self._process, self._port, self._owner_pid = process, port, os.getpid()
        atexit.register(self.stop)
        logger.info(
            "embedded database (pid %d) at %s, storage %s, log %s",
            process.pid,
            self.address,
            self.storage_path or MEMORY,
            self.log_path,
        )
        return self

    def _start_daemon(self, executable: str) -> tuple[subprocess.Popen[bytes], int]:
        """The daemon, answering, with its credentials made first if it has none yet."""
        with contextlib.ExitStack() as cleanup:
            config_path = self._config_path
            if config_path is None:
                config_path = Path(cleanup.enter_context(_empty_config()))
            if self.credentials_path is not None and self._credentials is None:
                self._credentials = Credentials.read(self.credentials_path)
                if self._credentials is None:  # a first start, or data from before credentials
                    self._credentials = Credentials.generate()
                    self._provision(executable, config_path)
            try:
                return self._launch(executable, config_path, self._flags(), self._fixed_port)
            except _NotSignedIn:
                # Credentials on file that the storage does not know (its db/ was replaced):
                # make them its user's.
                self._provision(executable, config_path)
                return self._launch(executable, config_path, self._flags(), self._fixed_port)

    def _flags(self) -> list[str]:
        return ["--auth"] if self._credentials is not None else []

    def _sign_in(self) -> dict[str, Any]:
        """pymongo's options for signing in with the credentials (none without)."""
        if self._credentials is None:
            return {}
        credentials = self._credentials
        return {"username": credentials.username, "password": credentials.password, "authSource": "admin"}

    def _launch(
        self, executable: str, config_path: Path, flags: list[str], fixed_port: int | None, **client: Any
    ) -> tuple[subprocess.Popen[bytes], int]:
        """Spawn the daemon with `flags` and wait until it answers (signing in with
        `client`'s options, else the credentials'), on `fixed_port` or a free one."""
        assert self.log_path is not None
        attempts = 1 if fixed_port is not None else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            port = fixed_port or free_port()
            with os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as log:
                log_offset = log.tell()
                process = self._spawn(executable, port, config_path, log, flags)
            try:
                self._await_ready(process, port, log_offset, client or self._sign_in())
            except _PortTaken:
                # Another process took the port between our probe and the
                # daemon's bind: try a new one (unless the port was given).
                logger.debug("embedded database: port %d taken (attempt %d)", port, attempt)
                _end(process, self.stop_timeout)
                if fixed_port is not None:
                    raise EmbeddedDatabaseError(f"port {port} of the embedded database is taken") from None
                continue
            except BaseException:
                _end(process, self.stop_timeout)
                raise
            return process, port
        raise EmbeddedDatabaseError(f"the embedded database found no free port in {attempts} attempts")

    def _provision(self, executable: str, config_path: Path) -> None:
        """Make the credentials the storage's user, then store them (0600).

        SecantusDB creates a first user only for a client that is not signed in, so the
        daemon runs once without `--auth`, but with mutual TLS: it takes only clients
        with a certificate from a throwaway authority whose keys live in a private
        temporary directory. So at no moment can anything else on the host connect."""
        from .mutual_tls import mutual_tls  # the `embedded` extra's cryptography, needed here only

        assert self._credentials is not None and self.credentials_path is not None
        credentials = self._credentials
        with tempfile.TemporaryDirectory(prefix="secantusd-tls-") as directory:
            tls = mutual_tls(Path(directory), HOST)
            process, port = self._launch(executable, config_path, tls.daemon_flags(), None, **tls.client_options())
            try:
                with _client(port, tls.client_options()) as client:
                    name, password = credentials.username, credentials.password
                    try:
                        client.admin.command("createUser", name, pwd=password, roles=["root"])
                    except OperationFailure as error:
                        if error.code != _USER_EXISTS:
                            raise
                        client.admin.command("updateUser", name, pwd=password)
            finally:
                _end(process, self.stop_timeout, port)
        credentials.write(self.credentials_path)
        logger.info("embedded database: its user is set up; the credentials are in %s", self.credentials_path)

    @property
    def exit_code(self) -> int | None:
        """The daemon's exit code once it has died on its own; None while it runs."""
        return None if self._process is None else self._process.poll()

    def restart(self) -> Self:
        """Start the daemon again after it died: the same storage, the same port (the
        URL its clients hold). Called by the supervisor's thread, which outlives the
        daemon it starts, so the parent-death signal still follows the owner."""
        if self._process is None or self._process.poll() is None:
            raise EmbeddedDatabaseError("the embedded database is not dead: nothing to restart")
        atexit.unregister(self.stop)
        dead = self._process
        self._fixed_port, self._process, self._owner_pid = self._port, None, None
        self._restarting = True
        try:
            return self.start()
        except BaseException:
            self._process = dead  # still dead, and known to be
            raise
        finally:
            self._restarting = False

    def stop(self) -> None:
        """Stop the daemon: SIGTERM (it checkpoints and closes its storage), then
        SIGKILL if it has not exited within `stop_timeout` seconds. Idempotent; does
        nothing in a process that is not the owner (e.g. a forked worker)."""
        process = self._process
        if process is None or os.getpid() != self._owner_pid:
            return
        atexit.unregister(self.stop)
        stopped = _end(process, self.stop_timeout, self._port)
        if not stopped:
            logger.warning(
                "embedded database (pid %d) did not stop within %.0f s: killed; see its log %s",
                process.pid,
                self.stop_timeout,
                self.log_path,
            )
        self._process = self._port = self._owner_pid = None
        if self._lock is not None:
            self._lock.release()
        if stopped and self._temporary_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path, self._temporary_log = None, False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(
        self, executable: str, port: int, config_path: Path, log: IO[bytes], flags: list[str]
    ) -> subprocess.Popen[bytes]:
        storage = MEMORY if self.storage_path is None else str(self.storage_path)
        command = [
            executable,
            *("--host", HOST, "--port", str(port), "--storage-path", storage),
            *("--config", str(config_path)),
            *flags,
        ]
        try:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_child_setup(any_thread=self._restarting),
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise EmbeddedDatabaseError(f"cannot run {executable}: {error}") from error

    def _await_ready(
        self, process: subprocess.Popen[bytes], port: int, log_offset: int, client_options: dict[str, Any]
    ) -> None:
        deadline = time.monotonic() + self.startup_timeout
        client: MongoClient[dict[str, Any]] | None = None
        try:
            while True:
                code = process.poll()
                if code is not None:
                    log = self._log_tail(log_offset)
                    if "Address already in use" in log:
                        raise _PortTaken
                    if _MANAGED_ELSEWHERE in log and self.storage_path is not None:
                        raise in_use(self.storage_path.parent, "another process (its database files are locked)")
                    raise EmbeddedDatabaseError(
                        f"the embedded database exited with code {code} while starting; "
                        f"its log ({self.log_path}) ends with:\n{log}"
                    )
                # Wait for the port to accept connections before asking pymongo: after
                # a refused connection its monitor waits 500 ms before trying again.
                if client is None and _accepts(port):
                    client = _client(port, client_options)
                if client is not None:
                    try:
                        client.admin.command("ping")
                        status = client.admin.command("serverStatus")
                    except OperationFailure as error:
                        if error.code == _AUTHENTICATION_FAILED:
                            raise _NotSignedIn from None
                    except PyMongoError:
                        pass
                    else:
                        # Make sure it is our daemon that answered, not another
                        # process listening on that port.
                        if status.get("pid", process.pid) != process.pid:
                            raise _PortTaken
                        return
                if time.monotonic() > deadline:
                    raise EmbeddedDatabaseError(
                        "the embedded database did not answer ping within "
                        f"{self.startup_timeout:.0f} s; its log ({self.log_path}) ends with:\n"
                        f"{self._log_tail(log_offset)}"
                    )
                time.sleep(0.02)
        finally:
            if client is not None:
                client.close()

    def _log_tail(self, offset: int) -> str:
        """The end of what the daemon wrote to its log since `offset`."""
        if self.log_path is None:
            return ""
        try:
            with self.log_path.open("rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(offset, size - _LOG_TAIL_BYTES))
                text = log.read().decode(errors="replace").strip()
        except OSError as error:
            return f"(cannot read it: {error})"
        return text or "(empty)"


class _PortTaken(Exception):
    pass


class _NotSignedIn(Exception):
    """The daemon refused the credentials."""


def _client(port: int, options: dict[str, Any]) -> MongoClient[dict[str, Any]]:
    """A client of the daemon on `port` only, giving up on it within a second."""
    return MongoClient(
        HOST, port, directConnection=True, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000, **options
    )


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.25):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A loopback port nobody listens on now (the OS's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _empty_config() -> Iterator[str]:
    fd, name = tempfile.mkstemp(prefix="secantusd-", suffix=".toml")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(_EMPTY_CONFIG)
        yield name
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def private_directory(path: Path) -> None:
    """Create `path` and whichever of its parents are missing (DATA_DIR, for DATA_DIR/db)
    readable by this user only (0700): `mkdir(parents=True)` would make the parents 0755."""
    for missing in reversed([directory for directory in (path, *path.parents) if not directory.exists()]):
        missing.mkdir(mode=0o700, exist_ok=True)


def _child_setup(*, any_thread: bool = False) -> Callable[[], None]:
    """A `preexec_fn`: the daemon creates its files for this user only (umask 077:
    files 0600, directories 0700), and dies with its parent."""
    die_with_parent = _die_with_parent(any_thread=any_thread)

    def setup() -> None:
        os.umask(0o077)
        if die_with_parent is not None:
            die_with_parent()

    return setup


def _die_with_parent(*, any_thread: bool = False) -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child get SIGKILL when this thread dies (Linux);
    None elsewhere. Only from the main thread, unless the caller's thread lives as
    long as the owner (`any_thread`, the supervisor's).

    SIGKILL, not SIGTERM: the daemon's own shutdown sometimes hangs on a signal it
    did not expect (`stop()` handles that by poking and escalating, but nobody is
    left to do so once the owner is dead). WiredTiger recovers from its log on the
    next start, as after any crash; the owner dying unannounced is one."""
    if not sys.platform.startswith("linux"):
        return None
    if not any_thread and threading.current_thread() is not threading.main_thread():
        raise EmbeddedDatabaseError(
            "start the embedded database from the main thread: the daemon gets its "
            "parent-death signal when the thread that started it ends"
        )
    # Resolved here, in the parent: between fork and exec the child only calls prctl.
    prctl = _libc_function("prctl")
    if prctl is None:
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _end(process: subprocess.Popen[bytes], timeout: float, port: int | None = None) -> bool:
    """Terminate `process`, killing it after `timeout` s; False if it had to be killed.

    With `port`, the daemon's listening port is poked with a connection while it
    stops: its accept thread does not notice the listening socket being closed and
    would otherwise hold up the shutdown for 2 s (SecantusDB 0.7). A port that still
    accepts connections a second after SIGTERM also means the daemon's handler has
    not run (its first step closes the port), so SIGTERM is sent again.
    """
    if process.poll() is not None:
        return True
    _terminate(process)
    deadline = time.monotonic() + timeout
    resend = time.monotonic() + 1.0
    while True:
        try:
            process.wait(0.05)
        except subprocess.TimeoutExpired:
            pass
        else:
            return True
        now = time.monotonic()
        if now > deadline:
            process.kill()
            process.wait()
            return False
        if port is not None and _accepts(port) and now > resend:
            _terminate(process)
            resend = now + 1.0


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Send SIGTERM to the daemon's main thread.

    Python runs signal handlers in the main thread only, and the daemon's main thread
    sleeps in `Event.wait()`. A SIGTERM the kernel delivers to another of its threads
    marks the handler as due but does not wake the main thread, so the daemon would
    not stop (about one stop in four hung so, in testing). On Linux, tgkill() addresses
    the main thread itself (its thread id is the process id).
    """
    tgkill = _libc_function("tgkill")
    if tgkill is not None and tgkill(process.pid, process.pid, signal.SIGTERM) == 0:
        return
    process.terminate()


def _libc_function(name: str) -> Any:
    """A function of the C library (Linux only), or None."""
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None, use_errno=True), name, None)
