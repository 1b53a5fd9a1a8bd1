"""What is declared once and found, not listed: error codes, concept packages, route,
GraphQL and sync modules."""

from __future__ import annotations

import textwrap

import pytest
from graphql import GraphQLEnumType

from app.concepts import ConceptDeclarationError, create_all, packages
from app.concepts.outputs import error
from app.parts import discover
from app.protocol import codes
from app.protocol.codes import Code
from tests import assembled
from tests.concepts.helpers import make_settings
from tests.throwaway import Throwaway


def test_every_declared_domain_code_is_a_graphql_error_code() -> None:
    error_code = assembled.schema()._schema.get_type("ErrorCode")
    assert isinstance(error_code, GraphQLEnumType)
    assert list(error_code.values) == codes.domain_codes()
    assert "RATE_LIMITED" in codes.domain_codes() and "UNAUTHENTICATED" not in codes.domain_codes()


def test_an_undeclared_code_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError, match="'PROFILE_MISSING' is not declared"):
        error(Code("PROFILE_MISSING"), "No profile.")


def test_a_code_declared_twice_with_different_meanings_is_refused() -> None:
    meaning = codes.description("RATE_LIMITED")
    assert codes.declare("RATE_LIMITED", status=429, description=meaning) == "RATE_LIMITED"  # again: harmless
    with pytest.raises(ValueError, match="declared twice"):
        codes.declare("RATE_LIMITED", status=400, description=meaning)
    with pytest.raises(ValueError, match="declared twice"):
        codes.declare("RATE_LIMITED", status=429, description="Slow down.")


def test_a_code_is_declared_with_what_it_means_to_a_client() -> None:
    with pytest.raises(TypeError, match="description"):
        codes.declare("BIO_TOO_LONG")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match=r"BIO_TOO_LONG: say when a client gets it \(description=...\)"):
        codes.declare("BIO_TOO_LONG", description="  ")
    assert not codes.is_declared("BIO_TOO_LONG")


def test_rest_statuses_come_from_the_registry() -> None:
    assert [codes.status(c) for c in ("UNAUTHENTICATED", "RATE_LIMITED", "WEAK_PASSWORD", "NOPE")] == [
        401,
        429,
        400,
        500,
    ]


NOTES = """
    from beanie import Document

    class Note(Document):
        text: str

    DOCUMENTS = {documents}

    def create():
        return object()
"""


def test_a_concept_package_is_found_with_its_documents(throwaway: Throwaway) -> None:
    name = throwaway.package("app.concepts", {"__init__.py": textwrap.dedent(NOTES.format(documents="[Note]"))})

    found = {package.__name__: package for package in packages()}

    assert [document.__name__ for document in found[name].DOCUMENTS] == ["Note"]


def test_a_concept_document_missing_from_documents_is_refused(throwaway: Throwaway) -> None:
    name = throwaway.package("app.concepts", {"__init__.py": textwrap.dedent(NOTES.format(documents="[]"))})

    with pytest.raises(ConceptDeclarationError) as refused:
        packages()

    assert str(refused.value) == (
        f"concept package {name}: document Note is not in its DOCUMENTS (the database would not be initialised for it)"
    )


def test_every_module_under_syncs_routes_and_graphql_is_found() -> None:
    parts = discover()

    names = {module.__name__ for module in parts.sync_modules}
    assert {"syncs.access", "syncs.account", "syncs.directory", "syncs.sessions", "syncs.throttling"} <= names
    assert "RegisterRequest" in {s.name for s in parts.syncs}
    assert "/UserAuthentication/register" in {route.path for route in parts.routes}
    assert "app.api.graphql.access.signed_in" in {presenter.name for presenter in parts.presenters}


def test_a_concept_gets_its_view_of_the_settings_and_a_view_of_a_setting_that_does_not_exist_is_refused(
    throwaway: Throwaway,
) -> None:
    viewing = """
from app.settings import SettingsView

DOCUMENTS = []

class Needs(SettingsView):
    session_ttl: int
    {extra}

def create(settings: Needs):
    return settings
"""
    name = throwaway.package("app.concepts", {"__init__.py": viewing.format(extra="")})
    made = dict(zip([p.__name__ for p in packages()], create_all(make_settings(session_ttl=60)), strict=True))
    assert made[name].model_dump() == {"session_ttl": 60}  # only what it declared

    throwaway.forget()
    name = throwaway.package("app.concepts", {"__init__.py": viewing.format(extra="session_tll: int")})
    with pytest.raises(ConceptDeclarationError) as refused:
        create_all(make_settings())
    assert str(refused.value) == (
        f"concept package {name}: its Needs reads session_tll, which Settings does not have (or has with another type)"
    )
