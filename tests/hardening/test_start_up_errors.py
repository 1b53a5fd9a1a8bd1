"""`python -m app` that cannot start says why in one line and exits 2, as for a setting
that cannot work: a database that does not answer, a DATA_DIR another instance runs on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.database import free_port
from tests.launched import launcher_env, running_apps

from .test_production_mode import RANDOM_KEY, RELYING_PARTY

pytestmark = pytest.mark.launcher


def start(directory: Path, data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m app` with these settings, expected to exit at once."""
    env = {**launcher_env(free_port(), data_dir), "JWT_SECRET": RANDOM_KEY, **settings}
    return subprocess.run(
        [sys.executable, "-m", "app"], cwd=directory, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_database_that_does_not_answer_is_one_line_naming_mongodb_url(tmp_path: Path) -> None:
    port = free_port()  # nobody listens there

    result = start(tmp_path, tmp_path / "data", MONGODB_URL=f"mongodb://ada:hunter2@127.0.0.1:{port}/app")

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"python -m app: MONGODB_URL: no database answered at 127.0.0.1:{port} within 5 s (127.0.0.1:{port}: "
        "[Errno 111] Connection refused); check the URL and that the database runs (or unset it, and the "
        "embedded database runs instead)"
    ]
    assert "hunter2" not in result.stderr


def test_in_production_the_line_offers_no_embedded_database(tmp_path: Path) -> None:
    port = free_port()

    result = start(
        tmp_path, tmp_path / "data", MONGODB_URL=f"mongodb://127.0.0.1:{port}", PRODUCTION="true", **RELYING_PARTY
    )

    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.endswith("check the URL and that the database runs\n"), result.stderr


def test_a_url_pymongo_cannot_read_is_one_line_too(tmp_path: Path) -> None:
    result = start(tmp_path, tmp_path / "data", MONGODB_URL="mongodb://ada:hunter2@")

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "python -m app: MONGODB_URL: Empty host (or extra comma in host list); check the URL and that the database "
        "runs (or unset it, and the embedded database runs instead)"
    ]


def test_a_second_instance_on_the_same_data_dir_is_one_line_naming_data_dir_and_the_first(tmp_path: Path) -> None:
    with running_apps(tmp_path, {}) as (first,):
        data_dir = tmp_path / "app0" / "data"

        second = start(tmp_path, data_dir)

        assert first.me(first.register("ada")[1]) is not None  # the first goes on, untouched
    assert second.returncode == 2, second.stderr
    assert second.stderr.splitlines() == [
        f"python -m app: DATA_DIR {data_dir} is in use by another running instance (pid {first.process.pid}): stop "
        "it, or give this instance a DATA_DIR of its own (and a PORT: two instances cannot share one)"
    ]


def test_a_data_dir_is_free_again_once_its_instance_stopped(tmp_path: Path) -> None:
    with running_apps(tmp_path, {}) as (first,):
        first.register("ada")
    with running_apps(tmp_path, {}) as (again,):
        assert again.me(again.register("bob")[1]) is not None
        assert (tmp_path / "app0" / "data" / "db.lock").read_text() == f"{again.process.pid}\n"
