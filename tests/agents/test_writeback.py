"""Write-back validation against the expert graph's schema; refusals carry their reasons."""

from __future__ import annotations

from nesykg.agents.executor import Executor
from nesykg.agents.planner import Planner
from nesykg.agents.schema import DISJOINT, FUNCTIONAL, RANGE, RDF_TYPE, DOMAIN
from nesykg.agents.tools import Episode, call_tool
from nesykg.agents.tools.base import Support
from tests.agents.kgs import EXEMPLARS, family_workspace


def _with_schema(tmp_path):
    ws = family_workspace(tmp_path)
    i = ws.iri
    ws.store.add_many(
        [
            (i("spouse"), RANGE, i("Person")),
            (i("spouse"), DOMAIN, i("Person")),
            (i("nationality"), RDF_TYPE, FUNCTIONAL),
            (i("Person"), DISJOINT, i("Country")),
            (i("alice"), RDF_TYPE, i("Person")),
            (i("bob"), RDF_TYPE, i("Country")),  # wrong on purpose: bob cannot be a spouse now
            (i("gina"), RDF_TYPE, i("Person")),
        ],
        "expert",
    )
    return ws.refresh()


def test_range_violation_found_by_a_rule_is_refused_with_its_reason(tmp_path):
    ws = _with_schema(tmp_path)
    before = sorted(ws.store.triples())
    res = Executor(ws, Planner(ws, EXEMPLARS)).ask("what is the nationality of alice 's spouse ?")
    [prop] = res.proposals
    assert prop["triple"] == ["alice", "spouse", "bob"] and not prop["accepted"]
    assert any("not a 'Person' (range of 'spouse')" in r for r in prop["refused"])
    assert any("disjoint with 'Person'" in r for r in prop["refused"])
    assert res.written == [] and sorted(ws.store.triples()) == before
    step = next(s for s in res.trace if s["action"] == "propose_triples")
    assert step["observation"]["accepted"] == 0


def test_functional_property_and_duplicates_are_refused(tmp_path):
    ws = _with_schema(tmp_path)
    ep = Episode(ws, "q")
    ep.believe(("erin", "nationality", "france"), Support(0.99, "rules", "test"))
    ep.believe(("gina", "spouse", "alice"), Support(0.99, "rules", "test"))
    ep.believe(("erin", "spouse", "dave"), Support(0.99, "rules", "test"))
    ok, obs = call_tool(ep, "propose_triples", {"triples": [
        {"head": "erin", "relation": "nationality", "tail": "france"},
        {"head": "gina", "relation": "spouse", "tail": "alice"},
        {"head": "erin", "relation": "spouse", "tail": "dave"},
    ]})
    assert ok
    functional, fine, duplicate = obs["proposals"]
    assert functional["refused"] == ["'nationality' is functional and 'erin' already has 'spain'"]
    assert fine["accepted"]
    assert duplicate["refused"] == ["already in the graph"]


def test_a_models_confidence_never_exceeds_the_tools(tmp_path):
    ws = family_workspace(tmp_path)
    ep = Episode(ws, "q")
    ep.believe(("gina", "children", "carol"), Support(0.5, "rules", "weak"))
    _, obs = call_tool(ep, "propose_triples", {"triples": [
        {"head": "gina", "relation": "children", "tail": "carol", "confidence": 1.0},
        {"head": "kim", "relation": "children", "tail": "lea", "confidence": 1.0},
    ]})
    weak, unsupported = obs["proposals"]
    assert weak["confidence"] == 0.5 and not weak["accepted"]
    assert unsupported["confidence"] == 0.0 and "no tool in this episode supports it" in unsupported["refused"]


def test_a_self_loop_is_refused_unless_the_relation_has_one(tmp_path):
    """Nobody is their own spouse in the graph, so ``(dave, spouse, dave)`` is refused however
    confident its source; a relation the graph does use reflexively accepts one."""
    from nesykg.agents.workspace import Workspace
    from tests.agents.kgs import FAMILY

    ws = family_workspace(tmp_path)
    ep = Episode(ws, "q")
    ep.believe(("dave", "spouse", "dave"), Support(0.99, "rules", "test"))
    ok, obs = call_tool(ep, "propose_triples", {"triples": [{"head": "dave", "relation": "spouse", "tail": "dave"}]})
    assert ok and obs["proposals"][0]["refused"] == ["a self-loop: no 'spouse' edge in the graph links an entity to itself"]
    looped = Workspace.from_triples([*FAMILY, ("erin", "knows", "erin"), ("erin", "knows", "dave")], "family", mine=False)
    ep = Episode(looped, "q")
    ep.believe(("dave", "knows", "dave"), Support(0.99, "rules", "test"))
    ok, obs = call_tool(ep, "propose_triples", {"triples": [{"head": "dave", "relation": "knows", "tail": "dave"}]})
    assert ok and obs["proposals"][0]["accepted"]
