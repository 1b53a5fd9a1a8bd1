"""The wiring diagram: a Mermaid flowchart with one
node per concept action, grouped by concept, and one edge per (sync, when action,
then action), labelled with the sync's name."""

from __future__ import annotations

import re
from collections import Counter

from app.engine import Engine, Sync, sync
from app.views.specs import wiring_diagram
from tests.engine import concepts as test_concepts

SUBGRAPH = re.compile(r"^    subgraph (\w+)$")
NODE = re.compile(r'^        (\w+)\["(\w+)"\]$')
EDGE = re.compile(r"^    (\w+) -->\|(\w+)\| (\w+)$")

Triple = tuple[str, str, str]


def expected_edges(engine: Engine) -> set[Triple]:
    """(sync, when action, then action), computed from the registered syncs."""
    return {
        (c.name, pattern.action.qualname, then.qualname)
        for c in engine.syncs
        for pattern in c.patterns
        for then, _ in c.then
    }


def parse(diagram: str) -> tuple[dict[str, str], list[Triple]]:
    """The diagram's nodes (id -> Concept.action, from the subgraph holding them) and
    its edges as (label, source, target) in Concept.action terms, in order."""
    lines = diagram.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    concept: str | None = None
    for line in lines[1:]:
        if (opened := SUBGRAPH.match(line)) is not None:
            assert concept is None, f"nested subgraph: {line!r}"
            concept = opened[1]
        elif line == "    end":
            assert concept is not None, "`end` outside a subgraph"
            concept = None
        elif (node := NODE.match(line)) is not None:
            assert concept is not None, f"node outside any subgraph: {line!r}"
            assert node[1] not in nodes, f"node declared twice: {line!r}"
            nodes[node[1]] = f"{concept}.{node[2]}"
        elif (edge := EDGE.match(line)) is not None:
            edges.append((edge[2], edge[1], edge[3]))
        else:
            raise AssertionError(f"unexpected line in the diagram: {line!r}")
    assert concept is None, "a subgraph is not closed"
    return nodes, [(label, nodes[source], nodes[target]) for label, source, target in edges]


def test_the_diagram_has_exactly_one_edge_per_sync_when_action_and_then_action(app_engine: Engine) -> None:
    _, edges = parse(wiring_diagram(app_engine))
    expected = expected_edges(app_engine)
    repeated = sorted(edge for edge, n in Counter(edges).items() if n > 1)
    assert not repeated, f"edges drawn more than once: {repeated}"
    assert set(edges) == expected
    assert len(edges) == len(expected)


def test_every_action_a_sync_names_is_one_node_in_its_concepts_subgraph(app_engine: Engine) -> None:
    nodes, _ = parse(wiring_diagram(app_engine))
    named = {action for edge in expected_edges(app_engine) for action in edge[1:]}
    assert sorted(nodes.values()) == sorted(named)
    for node, action in nodes.items():
        assert node == action.replace(".", "_")


def test_the_edges_of_a_three_pattern_sync_come_from_each_of_its_when_actions(app_engine: Engine) -> None:
    _, edges = parse(wiring_diagram(app_engine))
    assert sorted(edge for edge in edges if edge[0] == "RegisterResponse") == [
        ("RegisterResponse", "Requesting.request", "Requesting.respond"),
        ("RegisterResponse", "Sessioning.create", "Requesting.respond"),
        ("RegisterResponse", "UserAuthentication.register", "Requesting.respond"),
    ]


def test_a_sync_that_runs_one_action_twice_draws_one_edge_from_each_when_action() -> None:
    @sync
    def CountTwice(request):
        return Sync(
            when=[(test_concepts.Requesting.request, {"path": "/twice"}, {"request": request})],
            then=[
                (test_concepts.Counter.increment, {"counter": "a"}),
                (test_concepts.Counter.increment, {"counter": "b"}),
            ],
        )

    engine = test_concepts.engine_with(test_concepts.Requesting(), test_concepts.Counter(), syncs=[CountTwice])
    _, edges = parse(wiring_diagram(engine))

    assert [edge for edge in edges if edge[0] == "CountTwice"] == [
        ("CountTwice", "Requesting.request", "Counter.increment")
    ]
