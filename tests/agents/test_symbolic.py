"""The symbolic policy on a hand-made graph: plans, fallback by rules, write-back, undo, dry run."""

from __future__ import annotations

import json

from nesykg.agents.executor import AgentConfig, Executor
from nesykg.agents.planner import Planner
from tests.agents.kgs import EXEMPLARS, family_workspace


def test_follows_the_plan_when_the_graph_has_the_path(tmp_path):
    ws = family_workspace(tmp_path)
    agent = Executor(ws, Planner(ws, EXEMPLARS))
    res = agent.ask("what is the gender of alice 's child ?")
    assert res.answers[0] == "female"
    assert [s["action"] for s in res.trace] == ["search_entities", "follow_path", "finish"]
    assert res.written == [] and res.run_id == ""
    json.dumps(res.as_dict())  # the whole trace is JSON


def test_missing_edge_is_found_by_a_rule_written_back_with_provenance_and_undone(tmp_path):
    ws = family_workspace(tmp_path)
    before = sorted(ws.store.triples())
    agent = Executor(ws, Planner(ws, EXEMPLARS))
    res = agent.ask("what is the nationality of alice 's spouse ?")
    assert res.answers[0] == "france"
    actions = [s["action"] for s in res.trace]
    assert actions[:4] == ["search_entities", "follow_path", "predict_links", "follow_path"]
    assert actions[-2:] == ["propose_triples", "finish"]  # (other plans were tried between)
    assert res.written == [("alice", "spouse", "bob")]
    triple = tuple(ws.iri(x) for x in ("alice", "spouse", "bob"))
    [prov] = ws.store.provenance(triple)
    assert prov.run_id == res.run_id and prov.method == "agent:symbolic:rules"
    assert abs(prov.confidence - 0.95) < 1e-3  # the rule's confidence (plus the tie-break of max+noisy-or)
    evidence = json.loads(prov.evidence)
    assert evidence["question"] == res.question and evidence["plan"] == "spouse/nationality"
    assert "spouse(X,Y) <= children(X,A), children(Y,A)" in evidence["evidence"]
    # a second agent run writes another triple; undo of the first removes exactly its own
    res2 = agent.ask("what is the gender of alice 's child ?")
    assert res2.written == []
    assert ws.store.undo(res.run_id) == 1
    assert sorted(ws.store.triples()) == before


def test_dry_run_writes_nothing_but_says_what_it_would(tmp_path):
    ws = family_workspace(tmp_path)
    before = sorted(ws.store.triples())
    res = Executor(ws, Planner(ws, EXEMPLARS), config=AgentConfig(dry_run=True)).ask("what is the nationality of alice 's spouse ?")
    assert res.answers[0] == "france"
    assert res.written == [] and [p["triple"] for p in res.proposals if p["accepted"]] == [["alice", "spouse", "bob"]]
    assert sorted(ws.store.triples()) == before


def test_below_threshold_nothing_is_proposed(tmp_path):
    ws = family_workspace(tmp_path, rules="0.6\tspouse(X,Y) <= children(X,A), children(Y,A)\n")
    res = Executor(ws, Planner(ws, EXEMPLARS)).ask("what is the nationality of alice 's spouse ?")
    assert res.answers[0] == "france"  # still answered through the rule
    assert res.written == [] and "propose_triples" not in [s["action"] for s in res.trace]


def test_step_budget_is_kept(tmp_path):
    ws = family_workspace(tmp_path)
    res = Executor(ws, Planner(ws, EXEMPLARS), config=AgentConfig(max_steps=2)).ask("what is the nationality of alice 's spouse ?")
    assert res.steps == 2 and res.trace[-1]["action"] == "finish"  # a step is kept for finishing


def test_unknown_topic_finishes_without_answer(tmp_path):
    ws = family_workspace(tmp_path)
    res = Executor(ws, Planner(ws, EXEMPLARS)).ask("zzzz qqqq ?")
    assert res.finished and res.answers == []


def test_search_entities_matches_a_misspelt_name_not_a_shared_word():
    """Fuzzy matching compares question spans with names: one typo finds the entity; a question
    whose only overlap with names is a word like "the" finds nothing (it used to find every name
    with "the" in it, and the agent answered about the wrong entity)."""
    import pytest

    from nesykg.agents.tools import Episode
    from nesykg.agents.tools.base import ToolError
    from nesykg.agents.tools.graph import search_entities
    from nesykg.agents.workspace import Workspace

    kb = [("edward_the_elder", "children", "athelstan"), ("roger_needham", "spouse", "karen_sparck_jones"),
          ("tasha_tudor", "gender", "female")]
    ep = Episode(Workspace.from_triples(kb, "names", mine=False))
    [hit] = search_entities(ep, "who is the wife of roger neeham ?")["items"]
    assert hit["entity"] == "roger_needham" and hit["match"] == "fuzzy" and hit["score"] >= 85
    assert search_entities(ep, "karen sparck jone")["items"][0]["entity"] == "karen_sparck_jones"
    assert search_entities(ep, "who is the mom of tasha_tudor ?")["items"][0]["match"] == "exact"
    with pytest.raises(ToolError, match="no entity matches"):
        search_entities(ep, "what is the nobody 's mom 's offspring ?")
