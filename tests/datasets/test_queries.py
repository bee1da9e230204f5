"""The query sampler's invariants on shipped datasets, and JSONL files."""

from __future__ import annotations

import json

import pytest

from nesykg.datasets import load_dataset
from nesykg.datasets.queries import (
    SampledQuery,
    nested_graphs,
    read_queries_jsonl,
    sample_queries,
    write_queries_jsonl,
)
from nesykg.errors import InputError, ParseError
from nesykg.reasoners.logic import (
    ALL_STRUCTURES,
    Atom,
    Conjunction,
    Const,
    Formula,
    Var,
    exact_answer_names,
    structure_of,
)
from nesykg.reasoners.logic.formula import NotExists

CAP = 30


@pytest.fixture(scope="module")
def umls():
    return load_dataset("umls")


@pytest.fixture(scope="module")
def graphs(umls):
    return nested_graphs(umls, "test")


@pytest.fixture(scope="module")
def sampled(graphs):
    return sample_queries(graphs, ALL_STRUCTURES, 4, max_answers=CAP, seed=3)


def _drop(f: Formula, k: int, i: int) -> Formula:
    conj = list(f.disjuncts)
    conj[k] = Conjunction(conj[k].literals[:i] + conj[k].literals[i + 1 :])
    used = {v for c in conj for v in c.variables()}
    return Formula(f.free, tuple(v for v in f.exists if v in used), tuple(conj))


def test_every_structure_is_sampled(sampled):
    assert [q.structure for q in sampled] == [s for s in ALL_STRUCTURES for _ in range(4)]
    for q in sampled:
        assert structure_of(q.formula) == q.structure


def test_answers_are_the_exact_answers_on_the_nested_graphs(sampled, graphs):
    for q in sampled:
        easy = exact_answer_names(q.formula, graphs.smaller)
        full = exact_answer_names(q.formula, graphs.larger)
        assert q.easy == easy
        assert q.hard == full - easy
        assert q.hard, "a test query needs a hard answer"
        assert not q.easy & q.hard, "hard answers are never easy"
        assert len(q.easy) + len(q.hard) <= CAP


def test_every_negation_is_meaningful(sampled, graphs):
    negated = 0
    for q in sampled:
        full = exact_answer_names(q.formula, graphs.larger)
        for k, conj in enumerate(q.formula.disjuncts):
            for i, lit in enumerate(conj.literals):
                if isinstance(lit, NotExists) or (isinstance(lit, Atom) and lit.negated):
                    negated += 1
                    without = exact_answer_names(_drop(q.formula, k, i), graphs.larger)
                    assert without > full, f"negation removes nothing in {q.formula}"
    assert negated >= 7 * 4


def test_no_duplicates_and_no_repeated_atoms(sampled):
    assert len({q.formula for q in sampled}) == len(sampled)
    for q in sampled:
        for c in q.formula.disjuncts:
            assert len(set(c.literals)) == len(c.literals)


def test_the_answer_cap_rejects_large_answer_sets(graphs):
    qs = sample_queries(graphs, ["1p", "2i"], 6, max_answers=3, seed=0)
    assert all(len(q.easy) + len(q.hard) <= 3 for q in qs)
    wide = sample_queries(graphs, ["1p"], 6, max_answers=100, seed=0)
    assert max(len(q.easy) + len(q.hard) for q in wide) > 3  # the cap did bite above
    assert wide != qs[:6]


def test_seeded_sampling_is_deterministic(graphs):
    a = sample_queries(graphs, ["2p", "pni", "3c"], 3, seed=11)
    b = sample_queries(graphs, ["2p", "pni", "3c"], 3, seed=11)
    c = sample_queries(graphs, ["2p", "pni", "3c"], 3, seed=12)
    assert a == b
    assert a != c
    # a structure's queries do not depend on which other structures are sampled
    assert sample_queries(graphs, ["3c"], 3, seed=11) == a[6:]


def test_valid_and_train_splits(umls):
    valid = sample_queries(umls, ["2i"], 3, split="valid", seed=0)
    g = nested_graphs(umls, "valid")
    for q in valid:
        assert q.easy == exact_answer_names(q.formula, g.smaller) and q.hard
    train = sample_queries(umls, ["2p"], 3, split="train", seed=0)
    g = nested_graphs(umls, "train")
    for q in train:
        assert not q.easy and q.hard == exact_answer_names(q.formula, g.larger)


def test_progress_reports_each_structure(graphs):
    calls = []
    sample_queries(graphs, ["1p", "2in"], 2, seed=0, progress=lambda s, d, t: calls.append((s, d, t)))
    assert calls[0] == ("sampling 1p", 0, 2) and ("sampling 1p", 2, 2) in calls
    assert calls[-1] == ("sampling 2in", 2, 2)


def test_impossible_structures_fail_clearly():
    kinship = load_dataset("kinship")  # one relation per pair of people: no multi-edges
    with pytest.raises(
        InputError, match=r"sampled only 0 of 2 2m queries in 50 attempts \(rejected: no grounding"
    ):
        sample_queries(kinship, ["2m"], 2, max_attempts=50)
    assert sample_queries(kinship, ["2m"], 2, max_attempts=50, allow_fewer=True) == []


def test_jsonl_round_trip(sampled, tmp_path):
    path = write_queries_jsonl(sampled, tmp_path / "q.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(sampled)
    first = json.loads(lines[0])
    assert set(first) == {"structure", "formula", "easy", "hard"} and isinstance(first["formula"], str)
    assert read_queries_jsonl(path) == sampled


def test_jsonl_errors_name_the_line(tmp_path):
    good = {"structure": "1p", "formula": "?y : r(a, ?y)", "easy": ["b"], "hard": ["c"]}
    cases = [
        ("{not json", "invalid JSON"),
        (json.dumps({**good, "formula": "?y : r(a, ?z)"}), "second free variable"),
        (json.dumps({**good, "structure": "2inn"}), "unknown query structure '2inn'"),
        (json.dumps({**good, "hard": ["b"]}), "both easy and hard"),
        (json.dumps({**good, "extra": 1}), "unknown keys"),
    ]
    for text, reason in cases:
        p = tmp_path / "bad.jsonl"
        p.write_text(json.dumps(good) + "\n\n" + text + "\n", encoding="utf-8")
        with pytest.raises(ParseError, match=reason) as err:
            read_queries_jsonl(p)
        assert err.value.line == 3


def test_sampled_query_refuses_overlap():
    f = Formula("y", (), (Conjunction((Atom("r", Const("a"), Var("y")),)),))
    with pytest.raises(InputError, match="both easy and hard"):
        SampledQuery("1p", f, frozenset({"b"}), frozenset({"b"}))
