"""The miner: the family rule, exact counts against brute force, determinism, budgets."""

from __future__ import annotations

import pytest

from nesykg.errors import InputError
from nesykg.reasoners.rules.miner import MinerConfig, mine_rules

from .rule_kgs import brute_force_constant_rules, brute_force_path_rules, family_kg, random_kg

EXHAUSTIVE = dict(min_support=1, min_confidence=0.0, beam=None, samples_per_relation=10_000,
                  samples3_per_relation=10_000, max_branch=10_000, constant_rules_per_head=None)


def test_family_grandparent_rule_has_confidence_one():
    res = mine_rules(family_kg(), MinerConfig(max_length=2))
    by_text = {r.text: r for r in res.rules}
    rule = by_text["grandparent(X,Y) <= parent(X,A), parent(A,Y)"]
    assert rule.confidence == 1.0
    assert rule.stats.support == rule.stats.body_size == 9
    assert rule.stats.head_coverage == 1.0 and rule.stats.pca_confidence == 1.0
    assert res.rules[0].confidence == 1.0 and not res.truncated
    # object identity: a sibling is never its own sibling, so this rule is exact too
    assert by_text["sibling(X,Y) <= parent(A,X), parent(A,Y)"].confidence == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_path_rule_counts_equal_brute_force(seed):
    kg = random_kg(seed)
    expected = brute_force_path_rules(kg, 3)
    res = mine_rules(kg, MinerConfig(max_length=3, constants=False, **EXHAUSTIVE))
    got = {r.text: r.stats for r in res.rules}
    assert got.keys() == expected.keys()
    for text, st in expected.items():
        g = got[text]
        assert (g.support, g.body_size) == (st.support, st.body_size), text
        assert g.confidence == pytest.approx(st.confidence)
        assert g.pca_confidence == pytest.approx(st.pca_confidence)
        assert g.head_coverage == pytest.approx(st.head_coverage)
    assert len(expected) > 30  # the graphs are not trivially empty


@pytest.mark.parametrize("seed", [3, 4])
def test_constant_rule_counts_equal_brute_force(seed):
    kg = random_kg(seed, num_entities=6, num_relations=2, num_triples=16)
    expected = brute_force_constant_rules(kg)
    res = mine_rules(kg, MinerConfig(max_length=1, **EXHAUSTIVE))
    got = {r.text: r.stats for r in res.rules if r.kind == "constant"}
    assert got.keys() == expected.keys()
    for text, st in expected.items():
        g = got[text]
        assert (g.support, g.body_size) == (st.support, st.body_size), text
        assert g.confidence == pytest.approx(st.confidence)
        assert g.pca_confidence == pytest.approx(st.pca_confidence)
        assert g.head_coverage == pytest.approx(st.head_coverage)


def test_thresholds_filter_exactly():
    kg = random_kg(5, num_entities=10, num_triples=40)
    everything = brute_force_path_rules(kg, 2)
    res = mine_rules(kg, MinerConfig(max_length=2, constants=False, **{**EXHAUSTIVE, "min_support": 2, "min_confidence": 0.3}))
    want = {t for t, s in everything.items() if s.support >= 2 and s.confidence >= 0.3}
    assert {r.text for r in res.rules} == want
    assert all(r.confidence >= 0.3 and r.stats.support >= 2 for r in res.rules)


def test_deterministic_under_a_seed_even_when_sampling():
    kg = random_kg(7, num_entities=30, num_relations=4, num_triples=200)
    cfg = MinerConfig(max_length=3, samples_per_relation=10, samples3_per_relation=5, max_branch=3, beam=5, seed=11)
    a, b = mine_rules(kg, cfg), mine_rules(kg, cfg)
    assert [(r.text, r.stats) for r in a.rules] == [(r.text, r.stats) for r in b.rules]
    # every sampled rule's stats are still exact
    exact = brute_force_path_rules(kg, 2)
    for r in a.rules:
        if r.kind == "path" and r.length <= 2:
            assert (r.stats.support, r.stats.body_size) == (exact[r.text].support, exact[r.text].body_size)


def test_time_budget_and_progress():
    kg = random_kg(8, num_entities=30, num_relations=4, num_triples=200)
    res = mine_rules(kg, MinerConfig(time_budget=1e-9))
    assert res.truncated and res.seconds < 5
    calls = []
    mine_rules(kg, MinerConfig(max_length=2), progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = {c[0] for c in calls}
    assert {"sampling paths", "counting path rules", "counting constant rules"} <= stages
    assert all(0 <= done <= total for _, done, total in calls)


def test_bad_config_is_refused():
    with pytest.raises(InputError):
        MinerConfig(max_length=4)
    with pytest.raises(InputError):
        MinerConfig(min_confidence=1.5)
