"""The documentation's "Adding a feature" recipe (docs/adding-a-feature.md), followed to
the letter in a copy of the repository: its files written, its commands run, and the
feature's own tests and the schema and documentation checks passing there. It also
counts the existing files the feature edited: only the generated ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RECIPE = ROOT / "docs" / "adding-a-feature.md"
EDITED = {"schema.graphql", "docs/syncs.md", "docs/reference/concepts.md", "docs/reference/error-codes.md"}


def recipe() -> list[tuple[str, str]]:
    """The (language, text) of each code block of the recipe, up to its last step's checks."""
    page = RECIPE.read_text(encoding="utf-8").split("\n## Before you commit\n", 1)[0]
    return re.findall(r"```(\w*)\n(.*?)```", page, flags=re.S)


def run(repo: Path, *command: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the committed repository, as a git repository of its own."""
    copy = tmp_path_factory.mktemp("recipe") / "repo"
    run(ROOT, "git", "worktree", "add", "--detach", str(copy), "HEAD")
    yield copy
    run(ROOT, "git", "worktree", "remove", "--force", str(copy))


def follow(repo: Path) -> None:
    for language, text in recipe():
        first, _, rest = text.partition("\n")
        if language == "python" and re.fullmatch(r"# [\w/]+\.py", first):
            target = repo / first[2:]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rest, encoding="utf-8")
        elif language == "sh":
            for line in text.splitlines():
                command, _, output = line.partition(" > ")
                if output:
                    (repo / output).write_text(run(repo, *command.split()), encoding="utf-8")
                elif command.startswith("python -m app "):  # writes what it generates itself
                    run(repo, *command.split())


def test_the_recipe_builds_a_working_feature_editing_no_existing_file(repo: Path) -> None:
    follow(repo)

    routes = run(repo, sys.executable, "-m", "app", "routes")  # the start-up check passes
    assert "route /Profile/setProfile\n" in routes and "GraphQL Query.profile" in routes
    tested = run(
        repo,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/api/test_profile.py",
        "tests/api/test_address_blocking.py",
        "tests/startup/test_routes.py",
        "tests/api/test_transport.py::test_schema_graphql_is_the_running_schema_as_strawberry_exports_it",
        "tests/views/test_specifications.py",
        "tests/views/test_reference_docs.py",
    )
    assert re.search(r"\b\d+ passed\b", tested) and " failed" not in tested and "skipped" not in tested
    run(repo, sys.executable, "-m", "ruff", "check", ".")
    status = run(repo, "git", "status", "--porcelain", "--untracked-files=all").splitlines()
    edited = {line[3:] for line in status if line.startswith(" M")}
    added = {line[3:] for line in status if line.startswith("??")}
    assert edited == EDITED
    assert added == {
        "app/concepts/profile/__init__.py",
        "app/concepts/profile/documents.py",
        "app/concepts/profile/concept.py",
        "app/api/routes/profile.py",
        "syncs/profile.py",
        "app/api/graphql/profile.py",
        "tests/api/test_profile.py",
        "app/concepts/address_blocking/__init__.py",
        "app/concepts/address_blocking/documents.py",
        "app/concepts/address_blocking/concept.py",
        "syncs/address_blocking.py",
        "tests/api/test_address_blocking.py",
    }
    assert not any(path.startswith("syncs/") for path in edited)  # the gate's rule edits no sync
