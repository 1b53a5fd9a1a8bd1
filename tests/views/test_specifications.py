"""Syncs printed as specifications, in the notation of the concept design documents
(issue 6, "Syncs as specifications"), and docs/syncs.md kept in step with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import Engine, Frames, Sync, sync
from app.engine.engine import CompiledSync
from app.views.specs import markdown, specification, wiring_diagram
from tests.engine.concepts import Counter, Requesting, engine_with

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "syncs.md"
REGENERATE = "python -m app syncs --format markdown > docs/syncs.md"


def compiled(engine: Engine, name: str) -> CompiledSync:
    return next(c for c in engine.syncs if c.name == name)


# -- The seeds' syncs, as the app registers them ---------------------------------------


def test_register_request_prints_its_when_and_then_without_a_where(app_engine: Engine) -> None:
    assert specification(compiled(app_engine, "RegisterRequest")) == (
        "sync RegisterRequest\n"
        "when\n"
        '    Requesting.request (path: "/UserAuthentication/register", username, password) : (request)\n'
        '    Throttling.attempt (kind: "registration") : (at)\n'
        "then\n"
        "    UserAuthentication.register (username, password)"
    )


def test_logout_request_prints_the_query_its_where_calls(app_engine: Engine) -> None:
    assert specification(compiled(app_engine, "LogoutRequest")) == (
        "sync LogoutRequest\n"
        "when\n"
        '    Requesting.request (path: "/logout", session) : (request)\n'
        "where\n"
        "    Sessioning._getUser (session) : (user)\n"
        "then\n"
        "    Sessioning.delete (session)"
    )


def test_change_password_attempt_prints_its_query_then_its_filter_named_by_its_docstring(
    app_engine: Engine,
) -> None:
    assert specification(compiled(app_engine, "ChangePasswordAttempt")) == (
        "sync ChangePasswordAttempt\n"
        "when\n"
        '    Requesting.request (path: "/UserAuthentication/changePassword", session, user: target) : (request)\n'
        "where\n"
        "    Sessioning._getUser (session) : (user)\n"
        "    filter the request names no user, or the session's own\n"
        "then\n"
        '    Throttling.attempt (kind: "password", key: user)'
    )


def test_a_negated_query_a_collected_query_and_a_default_are_printed_as_such(app_engine: Engine) -> None:
    assert specification(compiled(app_engine, "LogoutUnauthenticated")).splitlines()[3:5] == [
        "where",
        "    no Sessioning._getUser (session)",
    ]
    where = specification(compiled(app_engine, "GetAllUsersRequest")).splitlines()[3:7]
    assert where == [
        "where",
        "    filter first is an integer from 1 to 1000",
        "    Sessioning._getUser (session) : (user: caller)",
        "    UserAuthentication._getAllUsers (first, after) : (user, username) into results",
    ]
    assert (
        "    UserAuthentication._getUsernameById (user: target) : (username) or else (username: null)"
        in specification(compiled(app_engine, "GetUsernameByIdRequest")).splitlines()
    )


# -- A where the engine cannot describe step by step: its docstring ---------------------


def only_visible_counters(frames: Frames) -> Frames:
    """only the counters the caller may see"""
    return frames


def counting(name: str, where: object, doc: str | None = None) -> Sync:
    """A test-only sync on the engine tests' concepts, with this where and sync docstring."""

    def declare(request, counter):
        return Sync(
            when=[(Requesting.request, {"path": "/count", "counter": counter}, {"request": request})],
            where=where,
            then=[(Counter.increment, {"counter": counter})],
        )

    declare.__doc__ = doc
    return sync(declare, name=name)


def printed(declared: Sync) -> str:
    engine = engine_with(Requesting(), Counter(), syncs=[declared])
    return specification(engine.syncs[0])


def spec_with_where(name: str, *where: str) -> str:
    return "\n".join(
        [
            f"sync {name}",
            "when",
            '    Requesting.request (path: "/count", counter) : (request)',
            *(["where", *where] if where else []),
            "then",
            "    Counter.increment (counter)",
        ]
    )


def test_a_where_function_with_no_steps_is_printed_as_its_own_docstring() -> None:
    assert printed(counting("CountVisible", only_visible_counters)) == spec_with_where(
        "CountVisible", "    only the counters the caller may see"
    )


def test_the_where_functions_docstring_wins_over_the_syncs() -> None:
    declared = counting("CountVisibleDocumented", only_visible_counters, doc="Count what the caller may see.")
    assert printed(declared) == spec_with_where("CountVisibleDocumented", "    only the counters the caller may see")


def test_a_where_lambda_with_no_steps_falls_back_to_the_syncs_docstring() -> None:
    declared = counting("CountLambda", lambda frames: frames, doc="Counts only counters the caller may see.")
    assert printed(declared) == spec_with_where("CountLambda", "    Counts only counters the caller may see.")


def test_every_line_of_a_multi_line_docstring_is_indented_under_where() -> None:
    doc = "Counts only counters the caller may see:\nthen the ones it owns."
    declared = counting("CountLambdaLong", lambda frames: frames, doc=doc)
    assert printed(declared) == spec_with_where(
        "CountLambdaLong", "    Counts only counters the caller may see:", "    then the ones it owns."
    )


def test_a_where_with_no_steps_and_no_docstring_prints_no_where() -> None:
    assert printed(counting("CountAnything", lambda frames: frames)) == spec_with_where("CountAnything")


def test_described_steps_win_over_the_docstring() -> None:
    declared = counting(
        "CountIfAny",
        lambda frames: frames.filter(lambda frame: True),
        doc="Counts only counters the caller may see.",
    )
    assert printed(declared) == spec_with_where("CountIfAny", "    filter <lambda>")


# -- docs/syncs.md ------------------------------------------------------------------------


def test_docs_syncs_md_is_the_markdown_of_the_registered_syncs(app_engine: Engine) -> None:
    expected = markdown(app_engine)
    actual = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    if actual != expected:
        pytest.fail(f"docs/syncs.md is stale: regenerate it with `{REGENERATE}`", pytrace=False)


def test_docs_syncs_md_holds_every_specification_and_the_wiring_diagram(app_engine: Engine) -> None:
    document = markdown(app_engine)
    assert f"```mermaid\n{wiring_diagram(app_engine)}```\n" in document
    for c in app_engine.syncs:
        assert f"### {c.name}\n\n```\n{specification(c)}\n```\n" in document
