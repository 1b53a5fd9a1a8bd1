"""The README and the documentation site (docs/) as a newcomer uses them: their curl
examples run as written against `python -m app`, every error code the API can answer
is in a table of a page, the README stays a short front page with the two commands,
and they cite no document that is not in the repository."""

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

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = {
    str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").rglob("*.md"))
}
DOCUMENTS = {"README.md": README, **PAGES}
EXAMPLES = [
    (name, block)
    for name, text in DOCUMENTS.items()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S)
    if "$SESSION" in block
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with running_apps(tmp_path_factory.mktemp("readme"), {}) as (running,):
        yield running


@pytest.mark.launcher
@pytest.mark.skipif(shutil.which("curl") is None, reason="the examples use curl")
@pytest.mark.parametrize(
    ("page", "example"), EXAMPLES, ids=[f"{name} example {n}" for n, (name, _) in enumerate(EXAMPLES)]
)
def test_the_examples_that_use_a_session_set_it_and_work(app: AppProcess, page: str, example: str) -> None:
    script = "set -eu -o pipefail\n" + example.replace("http://127.0.0.1:8000", app.url)

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert '"errors"' not in result.stdout and '"code"' not in result.stdout, result.stdout
    assert '"username":"' in result.stdout, result.stdout


def test_the_examples_cover_graphql_and_rest() -> None:
    assert {name for name, _ in EXAMPLES} >= {"docs/getting-started.md", "docs/rest.md"}


def test_every_request_level_error_code_is_in_the_table_of_the_graphql_page() -> None:
    declared = codes.request_level_codes()  # every layer's, as declared in the one registry

    assert {code for code in declared if f"| `{code}` |" not in PAGES["docs/graphql.md"]} == set()


def test_every_error_code_is_in_a_table_of_the_error_codes_page() -> None:
    declared = codes.request_level_codes() + codes.domain_codes()

    assert {code for code in declared if f"| `{code}` |" not in PAGES["docs/reference/error-codes.md"]} == set()


def test_the_readme_is_a_front_page_with_the_two_commands_and_the_tests_one_is_ci() -> None:
    assert len(README.splitlines()) <= 150
    first, second = re.findall(r"```sh\n(.*?)```", README, re.S)[0].splitlines()
    assert first.endswith(".venv/bin/python -m app") and "foreground" in README and "another terminal" in README
    test_command = second.split(" && ")[-1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_the_benchmarks_page_gives_the_command_of_every_benchmark() -> None:
    benchmarks = ROOT / "benchmarks"
    runnable = {path.stem for path in benchmarks.glob("*.py") if '__name__ == "__main__"' in path.read_text()}
    runnable |= {path.parent.name for path in benchmarks.glob("*/__main__.py")}
    runnable -= {"baseline"}  # the plain resolver benchmarks.load runs as its server, not a benchmark
    page = PAGES["docs/benchmarks.md"]

    missing = {name for name in runnable if f"python -m benchmarks.{name}" not in page}
    assert missing == set(), f"add `python -m benchmarks.<name>` and what it measures to docs/benchmarks.md: {missing}"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_document_cites_a_design_document(name: str) -> None:
    assert re.findall(r"\b(?:api|engine|style)\.md\b|design doc|seeds", DOCUMENTS[name]) == []
