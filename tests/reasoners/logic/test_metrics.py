"""Filtered CQA metrics on hand-computed cases; the evaluation driver on an oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nesykg.datasets.queries import SampledQuery, sample_queries
from nesykg.errors import InputError
from nesykg.reasoners.logic import parse_formula
from nesykg.reasoners.logic.cqa_eval import evaluate_queries
from nesykg.reasoners.logic.cqd import CQDBeam
from nesykg.reasoners.logic.fit import FIT
from nesykg.reasoners.logic.metrics import aggregate, filtered_ranks, format_table, query_metrics
from tests.reasoners.logic.oracle import OracleConfidence, all_triples, random_kg


def test_other_answers_are_filtered_out_of_each_hard_answers_ranking():
    #            e0   e1   e2   e3   e4   e5
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.95]
    # hard e2 and e4, easy e0: e4 competes with e1, e3, e5 only (e0 easy, e2 the other hard answer)
    ranks = filtered_ranks(np.array(scores), hard=[2, 4], easy=[0])
    assert ranks.tolist() == [3.0, 4.0]  # e2 below e5, e1; e4 below e5, e1, e3


def test_ties_with_non_answers_count_half():
    assert filtered_ranks([0.5, 0.5, 0.5, 0.1], hard=[0]).tolist() == [2.0]  # 1 + 0 + 2/2
    assert filtered_ranks(torch.tensor([1.0, 0.0, 0.0]), hard=[1]).tolist() == [2.5]  # 1 + 1 + 1/2


def test_query_metrics_average_over_hard_answers():
    m = query_metrics([1.0, 4.0])
    assert m["mrr"] == pytest.approx((1 + 0.25) / 2)
    assert m["hits@1"] == 0.5 and m["hits@3"] == 0.5 and m["hits@10"] == 1.0
    with pytest.raises(InputError):
        query_metrics([])


def test_aggregate_averages_per_type_then_over_types():
    per_query = [("1p", {"mrr": 1.0}), ("1p", {"mrr": 0.5}), ("2p", {"mrr": 0.25})]
    out = aggregate(per_query)
    assert out["1p"] == {"mrr": 0.75, "count": 2}
    assert out["2p"] == {"mrr": 0.25, "count": 1}
    assert out["average"]["mrr"] == pytest.approx(0.5) and out["average"]["count"] == 3
    table = format_table({"1p": {"mrr": 0.75, "count": 2}, "3c": {"count": 0}}, ("mrr", "count"))
    assert table.splitlines()[1].split() == ["1p", "0.7500", "2"]
    assert table.splitlines()[2].split() == ["3c", "n/a", "0"]


def test_evaluation_of_an_oracle_is_perfect_and_cqd_refusals_are_reported():
    kg = random_kg()
    oracle = OracleConfidence(kg.vocab, all_triples(kg))
    names = kg.vocab.entities
    (sampled,) = sample_queries(kg, ["2p"], 1, seed=2)
    two_p = sampled.formula
    answers = sorted(sampled.easy | sampled.hard)
    assert len(answers) >= 2
    cyc = parse_formula("?y : exists x, z . r0(e01, x) & r1(x, z) & r2(z, ?y) & r3(x, ?y)")
    queries = [
        SampledQuery("2p", two_p, frozenset(answers[:1]), frozenset(answers[1:])),
        SampledQuery(None, cyc, frozenset(), frozenset([names[0]])),
    ]
    rep = evaluate_queries(FIT(oracle), queries[:1])
    assert rep.metrics["2p"]["mrr"] == 1.0 and rep.metrics["2p"]["count"] == 1
    assert set(rep.latency_ms["2p"]) == {"p50", "p95"}
    rep = evaluate_queries(CQDBeam(oracle), queries)
    assert "cyclic" in rep.refused["adhoc"]
    assert "refused: adhoc" in rep.table()
