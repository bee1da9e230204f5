"""Question loaders, the incomplete-KG protocol, and the agent CLI end to end."""

from __future__ import annotations

import json
import subprocess
import sys

from nesykg.agents.questions import drop_path_triples, generate_questions, load_kb, load_metaqa, load_pathquestion, split_exemplars
from nesykg.cli import main
from tests.agents.kgs import FAMILY, father_questions

PQ = (
    "what is the gender of dave 's child ?\tmale(male/)\tdave#children#kim#gender#male#<end>#male\n"
    "the sex of dave 's kid ?\tmale(male/)\tdave#children#kim#gender#male#<end>#male\n"
    "what is the nationality of dave 's spouse ?\tspain(spain/)\tdave#spouse#erin#nationality#spain#<end>#spain\n"
    "what is the nationality of frank 's spouse ?\titaly(italy/)\tfrank#spouse#gina#nationality#italy#<end>#italy\n"
    "what is the gender of frank 's child ?\tfemale(female/)\tfrank#children#lea#gender#female#<end>#female\n"
)


def test_pathquestion_and_metaqa_loaders(tmp_path):
    (tmp_path / "pq.txt").write_text(PQ, encoding="utf-8")
    q = load_pathquestion(tmp_path / "pq.txt")[0]
    assert q.topic == "dave" and q.path == ("children", "gender") and q.answers == ("male",)
    assert q.triples == (("dave", "children", "kim"), ("kim", "gender", "male"))
    (tmp_path / "mq.txt").write_text("who directed [Heat]\tMichael Mann|Someone\n", encoding="utf-8")
    [m] = load_metaqa(tmp_path / "mq.txt")
    assert m.topic == "Heat" and m.answers == ("Michael Mann", "Someone")
    (tmp_path / "kb.txt").write_text("Heat|directed_by|Michael Mann\nHeat|directed_by|Michael Mann\n", encoding="utf-8")
    assert load_kb(tmp_path / "kb.txt") == [("Heat", "directed_by", "Michael Mann")]


def test_incomplete_kg_protocol_and_grouped_split(tmp_path):
    (tmp_path / "pq.txt").write_text(PQ, encoding="utf-8")
    qs = load_pathquestion(tmp_path / "pq.txt")
    kept, removed = drop_path_triples(FAMILY, qs, 0.5, seed=1)
    gold = {t for q in qs for t in q.triples}
    assert len(removed) == 4 and set(removed) <= gold and not set(removed) & set(kept)
    assert len(kept) + len(removed) == len(FAMILY)
    ex, ev = split_exemplars(qs, seed=0, share=0.5)
    paraphrases = [q for q in qs if q.topic == "dave" and q.path == ("children", "gender")]
    assert all(p in ex for p in paraphrases) or all(p in ev for p in paraphrases)
    rest, gen = generate_questions(FAMILY, 0.3, seed=0)
    assert gen and all(q.text.startswith("what is the ") and q.topic in q.text for q in gen)
    assert all((q.topic, q.path[0], q.answers[0]) not in rest or len(q.answers) > 1 for q in gen)


def test_cli_ask_writes_back_and_kg_undo_removes_it(tmp_path, capsys):
    kb = tmp_path / "kb.tsv"
    kb.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in FAMILY), encoding="utf-8")
    (tmp_path / "pq.txt").write_text(PQ, encoding="utf-8")
    (tmp_path / "rules.txt").write_text("0.95\tspouse(X,Y) <= children(X,A), children(Y,A)\n", encoding="utf-8")
    store = str(tmp_path / "store")
    assert main(["kg", "load", str(kb), "--store", store]) == 0
    capsys.readouterr()
    args = ["agent", "ask", "what is the nationality of alice 's spouse ?", "--store", store, "--rules", str(tmp_path / "rules.txt"),
            "--exemplars", str(tmp_path / "pq.txt"), "--json"]
    assert main([*args, "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["answers"][0] == "france" and dry["written"] == [] and dry["proposals"][0]["accepted"]
    assert main(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["written"] == [["alice", "spouse", "bob"]] and res["run_id"]
    assert main(["kg", "undo", res["run_id"], "--store", store]) == 0
    capsys.readouterr()
    assert main(["kg", "stats", "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["triples"] == {"domain": len(FAMILY)}


def test_llm_policy_without_a_model_is_one_line_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nesykg.cli", "agent", "ask", "q", "--store", "memory:", "--policy", "llm"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == ["error: the llm policy needs a chat model: --model provider:name (e.g. openai:gpt-4o-mini)"]


def test_cli_eval_expert_rules_recover_removed_triples(tmp_path, capsys):
    """`agent eval --rules`: an expert's inverse rule recovers the removed gold triples exactly
    and writes them back; without it the mined inverse (half-supported once they are removed)
    still answers but stays under the write threshold."""
    pairs = [("kim", "dave"), ("lea", "frank"), ("ann", "bob"), ("tom", "sam")]
    kb = tmp_path / "kb.txt"
    kb.write_text("".join(f"{c}\tparents\t{p}\n{p}\tchildren\t{c}\n" for c, p in pairs), encoding="utf-8")

    rules = tmp_path / "expert.txt"
    rules.write_text("# kinship\n1.0\tparents(X,Y) <= children(Y,X)\n", encoding="utf-8")
    args = ["agent", "eval", "--questions", father_questions(tmp_path / "q.txt", [pairs[0], pairs[3]]), "--kb", str(kb),
            "--exemplars", father_questions(tmp_path / "ex.txt", pairs[1:3]), "--drop-path-triples", "1.0", "--json"]
    assert main(args) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["dropped"] == 2 and plain["hits_at_1"] == 1.0 and plain["written"] == 0
    assert main([*args, "--rules", str(rules)]) == 0
    expert = json.loads(capsys.readouterr().out)
    assert expert["hits_at_1"] == 1.0 and expert["written"] == 2 and expert["writeback_precision"] == 1.0
    assert expert["writeback_truth"] == 1.0 and expert["written_entailed"] == 0  # both are the removed facts
    assert plain["writeback_truth"] is None  # no expert rules: nothing to judge entailment by


def test_entailed_facts_are_what_certain_expert_rules_conclude_from_the_whole_kb(tmp_path):
    from nesykg.agents.evaluation import entailed_facts

    kb = [("kim", "parents", "dave"), ("dave", "children", "kim"), ("ann", "parents", "bob"), ("ann", "spouse", "cy")]
    rules = tmp_path / "expert.txt"
    rules.write_text("1.0\tchildren(Y,X) <= parents(X,Y)\n0.9\tspouse(Y,X) <= spouse(X,Y)\n"
                     "1.0\tsibling(X,Y) <= parents(X,Y)\n", encoding="utf-8")
    # (dave, children, kim) is already in the KB; the 0.9 rule is not certain; sibling is no relation here
    assert entailed_facts(kb, rules) == {("bob", "children", "ann")}
    assert entailed_facts(kb, [rules, rules]) == {("bob", "children", "ann")}
