"""The README as a newcomer uses it: its curl examples run as written against
`python -m app`, every request-level error code the API can answer is listed, and it
cites no document that is not in the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import app.server.application
from app.protocol import codes
from tests.launched import AppProcess, running_apps

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
EXAMPLES = [block for block in re.findall(r"```sh\n(.*?)```", README, re.S) if "$SESSION" in block]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with running_apps(tmp_path_factory.mktemp("readme"), {}) as (running,):
        yield running


@pytest.mark.launcher
@pytest.mark.skipif(shutil.which("curl") is None, reason="the examples use curl")
@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example {n}" for n in range(len(EXAMPLES))])
def test_the_readme_examples_that_use_a_session_set_it_and_work(app: AppProcess, example: str) -> None:
    script = "set -eu -o pipefail\n" + example.replace("http://127.0.0.1:8000", app.url)

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert '"errors"' not in result.stdout and '"code"' not in result.stdout, result.stdout
    assert '"username":"' in result.stdout, result.stdout


def test_the_readme_lists_every_request_level_error_code() -> None:
    declared = codes.request_level_codes()  # every layer's, as declared in the one registry

    assert {code for code in declared if f"| `{code}` |" not in README} == set()


def test_the_readme_cites_no_design_document() -> None:
    assert re.findall(r"\b(?:api|engine|style)\.md\b|design doc|seeds", README) == []
