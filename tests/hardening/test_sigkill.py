"""`python -m app` killed with SIGKILL (no cleanup of its own can run): the embedded
database it started does not stay behind."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path

import psutil
import pytest

from tests.launched import child_cmdline, running_apps

GONE = 10.0  # seconds the database gets to follow the app


@pytest.mark.launcher
def test_sigkill_of_the_app_leaves_no_embedded_database_behind(tmp_path: Path) -> None:
    with running_apps(tmp_path, {}) as (app,):
        children = psutil.Process(app.process.pid).children(recursive=True)
        database = [child for child in children if "secantus" in " ".join(child_cmdline(child)).lower()]
        assert database, f"no embedded database among the app's children: {children}"
        assert app.register("alice")  # the app and its database work

        app.process.send_signal(signal.SIGKILL)
        app.process.wait(timeout=5)
        _, survivors = psutil.wait_procs(database, timeout=GONE)

    for survivor in survivors:  # don't leave them to the next test either
        with contextlib.suppress(psutil.Error):
            survivor.kill()
    assert app.process.returncode == -signal.SIGKILL
    assert survivors == [], f"still running {GONE} s after the app was killed: {survivors}"
