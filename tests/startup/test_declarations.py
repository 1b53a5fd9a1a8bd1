"""What is declared once and found, not listed: error codes, concept packages, sync modules."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import app.concepts
import syncs
from app.api.types import ErrorCode
from app.concepts import ConceptDeclarationError, packages
from app.concepts.outputs import error
from app.protocol import codes
from app.protocol.codes import Code


def test_every_declared_domain_code_is_a_graphql_error_code() -> None:
    assert [member.value for member in ErrorCode] == codes.domain_codes()
    assert "RATE_LIMITED" in codes.domain_codes() and "UNAUTHENTICATED" not in codes.domain_codes()


def test_an_undeclared_code_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError, match="'PROFILE_MISSING' is not declared"):
        error(Code("PROFILE_MISSING"), "No profile.")


def test_a_code_declared_twice_with_different_meanings_is_refused() -> None:
    assert codes.declare("RATE_LIMITED", status=429) == "RATE_LIMITED"  # the same again is harmless
    with pytest.raises(ValueError, match="declared twice"):
        codes.declare("RATE_LIMITED", status=400)


def test_rest_statuses_come_from_the_registry() -> None:
    assert [codes.status(c) for c in ("UNAUTHENTICATED", "RATE_LIMITED", "WEAK_PASSWORD", "NOPE")] == [
        401,
        429,
        400,
        500,
    ]


@pytest.fixture
def extra_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder searched for concept packages after app/concepts/ (cleaned up after)."""
    monkeypatch.setattr(app.concepts, "__path__", [*app.concepts.__path__, str(tmp_path)])
    yield tmp_path
    for name in [name for name in sys.modules if name.startswith("app.concepts.notes")]:
        del sys.modules[name]


NOTES = """
    from beanie import Document

    class Note(Document):
        text: str

    DOCUMENTS = {documents}

    def create(settings):
        return object()
"""


def test_a_concept_package_is_found_with_its_documents(extra_package: Path) -> None:
    (extra_package / "notes").mkdir()
    (extra_package / "notes" / "__init__.py").write_text(textwrap.dedent(NOTES.format(documents="[Note]")))

    found = {package.__name__: package for package in packages()}

    assert [document.__name__ for document in found["app.concepts.notes"].DOCUMENTS] == ["Note"]


def test_a_concept_document_missing_from_documents_is_refused(extra_package: Path) -> None:
    (extra_package / "notes").mkdir()
    (extra_package / "notes" / "__init__.py").write_text(textwrap.dedent(NOTES.format(documents="[]")))

    with pytest.raises(ConceptDeclarationError) as refused:
        packages()

    assert str(refused.value) == (
        "concept package app.concepts.notes: document Note is not in its DOCUMENTS "
        "(the database would not be initialised for it)"
    )


def test_every_module_under_syncs_is_registered() -> None:
    names = {module.__name__ for module in syncs.modules()}
    assert {"syncs.account", "syncs.auth", "syncs.me", "syncs.throttling", "syncs.users"} <= names
    assert "RegisterRequest" in {s.name for s in syncs.all_syncs()}
