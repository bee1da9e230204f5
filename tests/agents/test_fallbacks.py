"""The fallbacks beyond rules: the relation-range prior, a link predictor trained at open time, and
what an evaluation records about them (per question, per proposed triple)."""

from __future__ import annotations

import torch

from nesykg.agents.calibration import Calibration
from nesykg.agents.executor import AgentConfig, Executor
from nesykg.agents.planner import Planner
from nesykg.agents.prior import PRIOR_CONFIDENCE
from nesykg.agents.questions import Question
from nesykg.agents.tools import Episode, call_tool
from nesykg.agents.workspace import Workspace
from tests.agents.kgs import FAMILY

# six parents with a gender (four male), their children; "zed" has a child but no gender
PEOPLE = [(f"p{i}", "gender", "male" if i < 4 else "female") for i in range(6)] + [
    (f"k{i}", "parents", f"p{i}") for i in range(6)
] + [("k6", "parents", "zed"), ("zed", "spouse", "p5"), ("p5", "spouse", "zed")]
ASKED = [Question(f"what is the gender of k{i} 's parent ?", ("male" if i < 4 else "female",), f"k{i}",
                  ("parents", "gender")) for i in range(6)]


def test_the_range_prior_gives_shares_only_where_values_repeat() -> None:
    ws = Workspace.from_triples(PEOPLE, "people", mine=False)
    prior = ws.predictors["prior"]
    v = prior.vocab
    gender, spouse = v.relation_id("gender"), v.relation_id("spouse")
    assert prior.covers(gender) and not prior.covers(spouse)  # 6 edges, 2 values; 2 edges, 2 values
    shares = prior.score_tails(torch.tensor([v.entity_id("zed")]), torch.tensor([gender]))[0]
    assert abs(float(shares[v.entity_id("male")]) - 4 / 6) < 1e-6
    assert abs(float(shares[v.entity_id("female")]) - 2 / 6) < 1e-6
    assert abs(float(shares.sum()) - 1.0) < 1e-6
    ep = Episode(ws)
    ok, obs = call_tool(ep, "predict_links", {"head": "zed", "relation": "gender", "model": "prior"})
    assert ok and obs["items"][0]["entity"] == "male"
    assert obs["items"][0]["confidence"] == PRIOR_CONFIDENCE  # 0.67 capped: never enough to write


def test_a_missing_value_falls_back_to_the_prior_and_is_answered_not_written() -> None:
    ws = Workspace.from_triples(PEOPLE, "people", mine=False)
    before = sorted(ws.store.triples())
    res = Executor(ws, Planner(ws, ASKED)).ask("what is the gender of k6 's parent ?")
    assert res.answers[0] == "male"
    prior_calls = [s for s in res.trace if s["action"] == "predict_links" and s["arguments"]["model"] == "prior"]
    assert prior_calls and prior_calls[0]["arguments"]["head"] == "zed"
    assert res.written == [] and sorted(ws.store.triples()) == before
    # without the prior, nothing knows zed's gender
    bare = Workspace.from_triples(PEOPLE, "people", mine=False, prior=False)
    assert "prior" not in bare.predictors
    assert Executor(bare, Planner(bare, ASKED)).ask("what is the gender of k6 's parent ?").answers[:1] != ["male"]


def test_a_question_about_an_entity_not_in_the_graph_gets_the_usual_value_unwritten() -> None:
    """Nothing of "k9" is in the graph: the best plan (parents/gender) ends in ``gender``, whose
    usual value (4 of 6) is the answer, said in the trace; nothing is written. Where the last step
    has no prior (``spouse``: its values do not repeat) there is no answer."""
    from nesykg.agents.ceiling import evidence_ceiling

    ws = Workspace.from_triples(PEOPLE, "people", mine=False)
    before = sorted(ws.store.triples())
    agent = Executor(ws, Planner(ws, ASKED))
    res = agent.ask("what is the gender of k9 's parent ?")
    assert res.answers == ["male", "female"] and res.steps == 2
    assert "range prior" in res.trace[-1]["thought"] and res.written == [] and sorted(ws.store.triples()) == before
    spouse_ex = [Question(f"who is the spouse of k{i} 's parent ?", ("x",), f"k{i}", ("parents", "spouse")) for i in range(3)]
    assert Executor(ws, Planner(ws, spouse_ex)).ask("who is the spouse of k9 's parent ?").answers == []
    # the ceiling grants a lost topic only the prior's guess: its first choice, or its top 3
    lost = [Question("what is the gender of k9 's parent ?", (g,), "k9", ("parents", "gender"), id=g) for g in ("male", "female")]
    c = evidence_ceiling(ws, lost)
    assert c.topic_lost == 2 and c.ceiling == 0.5 and c.ceiling_top3 == 1.0 and c.unreachable == []


def test_an_entity_that_fits_no_plan_is_not_taken_for_the_topic() -> None:
    """The only name found is ``male`` (a gender value, never the head of ``parents``): no plan
    can start from it, so the agent guesses the usual value, as for an unknown entity, instead
    of walking from ``male``; without the type constraint it walks."""
    ws = Workspace.from_triples(PEOPLE, "people", mine=False)
    question = "what is the gender of the male k9 's parent ?"
    res = Executor(ws, Planner(ws, ASKED)).ask(question)
    assert [s["action"] for s in res.trace] == ["search_entities", "finish"]
    assert "'male' cannot start any plan" in res.trace[-1]["thought"] and res.answers[0] == "male"
    loose = Executor(ws, Planner(ws, ASKED), config=AgentConfig(typed_fallback=False)).ask(question)
    assert any(s["action"] == "follow_path" and s["arguments"]["entity"] == "male" for s in loose.trace)


def test_calibration_is_the_isotonic_share_of_right_predictions_by_truth() -> None:
    cal = Calibration.fit([(0.1, False), (0.2, True), (0.3, False), (0.6, False), (0.7, True), (0.9, True)])
    assert list(cal.values) == sorted(cal.values) and cal.samples == 6  # monotone in truth
    assert cal(0.05) == 0.0 and cal(0.95) == 1.0
    assert cal(0.25) == 1 / 3  # 0.2 (right) and 0.3 (wrong) pooled with 0.1 (wrong)
    assert Calibration()(0.9) == 0.0  # nothing held out: no confidence


def test_a_predictor_trained_at_open_time_answers_with_calibrated_confidences() -> None:
    kb = [(h, r, t) for i in range(4) for h, r, t in [(f"a{i}", "spouse", f"b{i}"), (f"b{i}", "spouse", f"a{i}"),
                                                      (f"a{i}", "children", f"c{i}"), (f"b{i}", "children", f"c{i}")]]
    ws = Workspace.from_triples(kb + FAMILY, "family", mine=False, train="distmult")
    assert sorted(ws.predictors) == ["distmult-fit", "prior"]
    cal = ws.calibration["distmult-fit"]
    assert cal.samples > 0  # 5% of the 33 edges held out, both directions, top 3 each
    ok, obs = call_tool(Episode(ws), "predict_links", {"head": "alice", "relation": "spouse", "top_k": 5})
    assert ok and obs["model"] == "distmult-fit"  # without rules the default is a model, not the prior
    assert all(i["confidence"] == round(cal(i["truth"]), 4) for i in obs["items"])
    res = Executor(ws, Planner(ws)).ask("what is the spouse of alice ?")
    assert any(s["action"] == "predict_links" and s["arguments"]["model"] == "distmult-fit" for s in res.trace)
    assert all(p["confidence"] <= max(cal.values) for p in res.proposals)


def test_evaluation_records_every_question_and_every_proposed_triple() -> None:
    from nesykg.agents.evaluation import run_agent_eval

    scored = [Question("what is the gender of k6 's parent ?", ("male",), "k6", ("parents", "gender"),
                       (("zed", "gender", "male"),), id="q-zed")]
    kb = PEOPLE + [("zed", "gender", "male")]
    rep = run_agent_eval(scored, kb, exemplars=ASKED, drop=1.0, config=AgentConfig(min_confidence=0.3, dry_run=True),
                         workspace_options={"mine": False})
    assert rep.dropped == 1 and rep.questions == 1 and rep.written == 0
    [rec] = rep.records
    assert rec["id"] == "q-zed" and rec["hops"] == 2 and rec["removed_share"] == 1.0 and rec["hit"] is True
    assert rec["answer"] == "male" and rec["steps"] >= 3 and rec["written"] == []
    assert rep.hits_by_hops() == {2: (1, 1.0)}
    # the prior's guess passed a threshold of 0.3: proposed, a held-out fact, not written (dry run)
    assert rep.writes == [{"id": "q-zed", "triple": ["zed", "gender", "male"], "confidence": PRIOR_CONFIDENCE,
                           "method": "prior", "written": False, "correct": True}]


def test_a_candidate_of_another_type_is_not_an_answer(tmp_path) -> None:
    """A wrong rule (``cause_of_death(X, Y) <= spouse(X, Y)``, confidence 1.0) makes the planner
    follow ``spouse`` for a cause of death: with the type constraint the person it reaches is
    refused (no entity seen as a cause of death is a person, `KGView.fits_range`); without it
    the spouse is the answer. A person still fits kinship steps it was never seen at the end
    of."""
    from nesykg.agents.kgview import KGView

    kb = [("ann", "spouse", "bob"), ("bob", "spouse", "ann"), ("cy", "spouse", "di"), ("di", "spouse", "cy"),
          ("ann", "cause_of_death", "fever"), ("cy", "cause_of_death", "stroke"), ("bob", "gender", "male"),
          ("ann", "gender", "female"), ("cy", "gender", "male"), ("di", "gender", "female"),
          ("eve", "gender", "female"), ("eve", "parents", "ann")]
    g = KGView(kb)
    assert not g.fits_range("bob", "cause_of_death") and g.fits_range("fever", "cause_of_death")
    assert not g.fits_range("male", "spouse") and g.fits_range("eve", "spouse")  # eve: a person, never a spouse
    assert g.fits_range("fever", "nonexistent")  # a step never observed constrains nothing
    bad = tmp_path / "bad.txt"
    bad.write_text("1.0\tcause_of_death(X,Y) <= spouse(X,Y)\n", encoding="utf-8")
    asked = [Question("what killed ann ?", ("fever",), "ann", ("cause_of_death",)),
             Question("what killed cy ?", ("stroke",), "cy", ("cause_of_death",))]
    for typed in (True, False):
        ws = Workspace.from_triples(kb, "deaths", mine=False, prior=False, rules=[bad])
        before = sorted(ws.store.triples())
        res = Executor(ws, Planner(ws, asked), config=AgentConfig(typed_fallback=typed)).ask("what killed bob ?")
        if typed:
            assert "ann" not in res.answers and res.written == [] and sorted(ws.store.triples()) == before
        else:  # the same run without the type constraint answers with the spouse
            assert res.answers[:1] == ["ann"]
