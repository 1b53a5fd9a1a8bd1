"""`python -m app syncs [--format markdown]` and `python -m app graph`, run as an
operator runs them, print what the functions return for the app's engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine import Engine
from app.settings import Settings
from app.views.specs import markdown, specifications, wiring_diagram

ROOT = Path(__file__).resolve().parents[2]


def run_app(tmp_path: Path, *args: str) -> str:
    """`python -m app <args>` in an empty directory, with none of the app's settings
    in its environment but DATA_DIR; its standard output."""
    settings = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("syncs",), specifications),
        (("syncs", "--format", "markdown"), markdown),
        (("graph",), wiring_diagram),
    ],
    ids=["syncs", "syncs-markdown", "graph"],
)
def test_the_launcher_prints_what_the_view_function_returns(
    tmp_path: Path, app_engine: Engine, args: tuple[str, ...], expected: object
) -> None:
    assert callable(expected)
    assert run_app(tmp_path, *args) == expected(app_engine)
    assert not (tmp_path / "data").exists(), "printing the syncs wrote to DATA_DIR (e.g. a development key)"
