"""The evidence ceiling: which questions any choice among a workspace's sources could answer."""

from __future__ import annotations

import pytest

from nesykg.agents.ceiling import evidence_ceiling
from nesykg.agents.planner import Planner
from nesykg.agents.questions import Question
from nesykg.errors import InputError
from nesykg.reasoners.rules.predictor import RuleLinkPredictor
from nesykg.reasoners.rules.syntax import parse_rules
from tests.agents.kgs import EXEMPLARS, family_workspace, father_questions


def q(qid: str, text: str, gold: str, *triples: tuple[str, str, str]) -> Question:
    return Question(text, (gold,), triples[0][0], tuple(r for _, r, _ in triples), triples, id=qid)


INTACT = q("intact", "what is the nationality of dave 's spouse ?", "spain", ("dave", "spouse", "erin"), ("erin", "nationality", "spain"))
# alice has no spouse edge; the expert rule (spouse: a shared child) ranks bob first
BY_RULE = q("rule", "what is the nationality of alice 's spouse ?", "france", ("alice", "spouse", "bob"), ("bob", "nationality", "france"))
LOST = q("lost", "what is the nationality of zed 's spouse ?", "spain", ("zed", "spouse", "erin"), ("erin", "nationality", "spain"))
# hugo has no child at all, and nothing predicts one
NOTHING = q("nothing", "what is the gender of hugo 's child ?", "female", ("hugo", "children", "mia"), ("mia", "gender", "female"))
# kim has no nationality; the ranker below puts italy first and spain (his mother's) second
SECOND = q("second", "what is the nationality of dave 's child ?", "spain", ("dave", "children", "kim"), ("kim", "nationality", "spain"))
QUESTIONS = [INTACT, BY_RULE, LOST, NOTHING, SECOND]


def ranker(ws):
    return RuleLinkPredictor(ws.kg, parse_rules("0.9\tnationality(X,italy) <= gender(X,male)\n"
                                                "0.6\tnationality(X,Y) <= children(A,X), spouse(A,B), nationality(B,Y)\n"))


def test_ceiling_counts_what_the_graph_or_a_first_choice_reaches(tmp_path):
    ws = family_workspace(tmp_path)
    c = evidence_ceiling(ws, QUESTIONS, predictors={"ranker": ranker(ws)})
    assert (c.questions, c.intact, c.topic_lost, c.by_predictors) == (5, 1, 1, 1)
    assert c.ceiling == pytest.approx(2 / 5)  # INTACT and BY_RULE
    assert c.ceiling_top3 == pytest.approx(3 / 5)  # SECOND's spain is the ranker's second choice
    assert c.unreachable == ["lost", "nothing"]
    assert {"ranker", "rules"} <= set(c.predictors)
    # the plain ensemble (rank fusion of the rules, the prior and the ranker): the rules' bob for
    # alice's spouse; for kim's nationality italy, the ranker's first (the prior has no nationality)
    assert c.ensemble == pytest.approx(2 / 5)


def test_a_predictor_the_oracle_lacks_lowers_the_ceiling(tmp_path):
    ws = family_workspace(tmp_path, rules="")  # no expert rule: nothing supplies alice's spouse
    c = evidence_ceiling(ws, QUESTIONS, predictors={"ranker": ranker(ws)})
    assert c.by_predictors == 0 and c.ceiling == pytest.approx(1 / 5)
    assert "rule" in c.unreachable


def test_agent_hits_and_plans_count_too(tmp_path):
    ws = family_workspace(tmp_path)
    c = evidence_ceiling(ws, QUESTIONS, Planner(ws, EXEMPLARS), hits={"nothing": True, "lost": False})
    assert c.by_agent == 1 and "nothing" not in c.unreachable
    # the exemplars' spouse/nationality plan reaches spain from dave: INTACT's answer, and SECOND's
    # (a plan counts whenever its answers hold a gold one: the ceiling is generous)
    assert c.by_plans == 2
    assert c.ceiling == pytest.approx(4 / 5)  # all but LOST


def test_questions_without_gold_paths_are_refused(tmp_path):
    ws = family_workspace(tmp_path)
    with pytest.raises(InputError, match="gold path"):
        evidence_ceiling(ws, [Question("who is dave 's wife ?", ("erin",))])


def test_cli_eval_reports_the_ceiling_and_records_it(tmp_path, capsys):
    """`agent eval --ceiling own`: the ceiling over the workspace's own predictors, in the JSON, the
    human report and the run's metrics; with --memory it is one clear error."""
    import json

    from nesykg.cli import main

    pairs = [("kim", "dave"), ("tom", "sam"), ("ivy", "max")]
    solved = [("lea", "frank"), ("ann", "bob")]  # the exemplars: both edges of theirs stay
    kb = tmp_path / "kb.txt"
    # ivy's father max has no other edge: once (ivy, parents, max) is removed nothing can find him
    kb.write_text("".join(f"{c}\tparents\t{p}\n" + (f"{p}\tchildren\t{c}\n" if c != "ivy" else "") for c, p in pairs + solved),
                  encoding="utf-8")

    rules = tmp_path / "expert.txt"
    rules.write_text("1.0\tparents(X,Y) <= children(Y,X)\n", encoding="utf-8")
    args = ["agent", "eval", "--questions", father_questions(tmp_path / "q.txt", pairs), "--kb", str(kb),
            "--exemplars", father_questions(tmp_path / "ex.txt", solved), "--rules", str(rules),
            "--drop-path-triples", "1.0", "--ceiling", "own", "--run-dir", str(tmp_path / "run")]
    assert main([*args, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    c = rep["ceiling"]
    assert c["questions"] == 3 and c["intact"] == 0 and c["by_predictors"] == 2  # the inverse rule finds two fathers
    assert c["unreachable"] == ["q.txt:3"]  # ivy's
    assert rep["hits_at_1"] == pytest.approx(2 / 3) == pytest.approx(c["ceiling"])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["ceiling"]["ceiling"] == pytest.approx(2 / 3)
    assert main(args) == 0
    assert "evidence ceiling: Hits@1 0.667 at most" in capsys.readouterr().out
    assert main([*args, "--memory", str(tmp_path / "m.sqlite")]) != 0
    assert "--ceiling and --memory" in capsys.readouterr().err
