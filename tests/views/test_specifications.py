"""Syncs printed as specifications, in concept design's when/where/then notation, and
docs/syncs.md kept in step with them. The app's own syncs are checked for the shape
of the notation (they change as features are added); each kind of step is checked
word for word on syncs of the tests' own."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from app.engine import Engine, Frame, Plan, Sync, Var, sync
from app.views.specs import markdown, specification, wiring_diagram
from tests.engine.concepts import Comment, Counter, Notification, Post, Requesting, engine_with

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "syncs.md"
REGENERATE = "python -m app syncs --format markdown > docs/syncs.md"


# -- The app's syncs: each printed in the notation's shape -----------------------------

PATTERN = r"[A-Z]\w*\.\w+ \([^()]*\)"
LINE = {
    "when": re.compile(rf"    {PATTERN} : \([^()]*\)"),
    "where": re.compile(r"    \S.*"),
    "then": re.compile(rf"    {PATTERN}"),
}


def test_every_registered_sync_prints_as_when_where_then(app_engine: Engine) -> None:
    """`sync Name`, then `when` with one `Concept.action (inputs) : (outputs)` line per
    pattern, an optional `where` with one line per step, and `then` with one
    `Concept.action (inputs)` line per action: whatever the sync says."""
    for c in app_engine.syncs:
        lines = specification(c).splitlines()
        assert lines[0] == f"sync {c.name}"
        sections: dict[str, list[str]] = {}
        for line in lines[1:]:
            if line in LINE:
                sections[line] = []
            else:
                sections[list(sections)[-1]].append(line)
                assert LINE[list(sections)[-1]].fullmatch(line), (c.name, line)
        assert list(sections) in (["when", "then"], ["when", "where", "then"]), c.name
        assert len(sections["when"]) == len(c.patterns) and len(sections["then"]) == len(c.then), c.name
        assert len(sections.get("where", [])) == len(c.plan.steps), c.name


# -- Each kind of pattern and step, printed exactly (on the engine tests' concepts) -----


@sync
def CountComments(request, post, counter, author, comments, count):
    """A sync that uses every kind of where step the notation prints."""
    return Sync(
        when=[(Requesting.request, {"path": "/count", "post": post, "counter": counter}, {"request": request})],
        where=lambda frames: (
            frames.filter(mentions_a_post(post))
            .query(Post._getAuthor, {"post": post}, {"author": author})
            .without(Counter._getCount, {"counter": "blocked"})
            .query(Counter._getCount, {"counter": counter}, {"count": count}, default={"count": 0})
            .query(Comment._byPost, {"post": post}, into=comments)
        ),
        then=[(Notification.notify, {"message": "comments", "author": author, "comments": comments})],
    )


def mentions_a_post(post: Var) -> Callable[[Frame], bool]:
    def check(frame: Frame) -> bool:
        """the request names a post"""
        return bool(frame[post])

    return check


def test_each_kind_of_where_step_prints_as_the_notation_writes_it() -> None:
    engine = engine_with(Requesting(), Counter(), Post(), Comment(), Notification(), syncs=[CountComments])

    assert specification(engine.syncs[0]) == (
        "sync CountComments\n"
        "when\n"
        '    Requesting.request (path: "/count", post, counter) : (request)\n'
        "where\n"
        "    filter the request names a post\n"
        "    Post._getAuthor (post) : (author)\n"
        '    no Counter._getCount (counter: "blocked")\n'
        "    Counter._getCount (counter) : (count) or else (count: 0)\n"
        "    Comment._byPost (post) into comments\n"
        "then\n"
        '    Notification.notify (message: "comments", author, comments)'
    )


# -- A where the engine cannot describe step by step: its docstring ---------------------


def only_visible_counters(frames: Plan) -> Plan:
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
