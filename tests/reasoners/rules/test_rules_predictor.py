"""Rule-based link prediction: hand-checked scores, reciprocal queries, explanations."""

from __future__ import annotations

import math

import pytest
import torch

from nesykg.errors import InputError, UnknownNameError
from nesykg.kg.tensor import TensorKG
from nesykg.reasoners.evaluation import evaluate
from nesykg.reasoners.rules.miner import MinerConfig, mine_rules
from nesykg.reasoners.rules.predictor import TIE_WEIGHT, RuleLinkPredictor
from nesykg.reasoners.rules.syntax import parse_rules

from .rule_kgs import family_kg, random_kg

MICRO = [
    ("a", "neighbor", "b"),
    ("b", "neighbor", "a"),
    ("a", "neighbor", "c"),
    ("a", "neighbor", "d"),
    ("b", "locatedin", "eu"),
    ("c", "locatedin", "eu"),
    ("d", "locatedin", "asia"),
]
RULES = parse_rules(
    "0.5\tlocatedin(X,Y) <= neighbor(X,A), locatedin(A,Y)\n"
    "0.2\tlocatedin(X,eu) <= neighbor(X,d)\n"
)


@pytest.fixture
def micro() -> TensorKG:
    return TensorKG.from_triples({"train": MICRO}, "micro")


def _scores(p: RuleLinkPredictor, head: str, rel: str) -> dict[str, float]:
    v = p.vocab
    s = p.score_tails(torch.tensor([v.entity_id(head)]), torch.tensor([v.relation_id(rel)]))[0]
    return {e: float(s[i]) for i, e in enumerate(v.entities) if s[i] != 0}


def test_max_and_noisy_or_by_hand(micro):
    # (a, locatedin, ?): the path rule reaches eu twice (via b, c) and asia once (via d);
    # the constant rule adds eu with 0.2
    assert _scores(RuleLinkPredictor(micro, RULES, "max"), "a", "locatedin") == {"eu": 0.5, "asia": 0.5}
    noisy = _scores(RuleLinkPredictor(micro, RULES, "noisy-or"), "a", "locatedin")
    assert noisy == pytest.approx({"eu": 1 - 0.5 * 0.8, "asia": 0.5})
    tie = _scores(RuleLinkPredictor(micro, RULES, "max+noisy-or"), "a", "locatedin")
    e_eu = 2 * math.log(2) - math.log(0.8)
    e_asia = math.log(2)
    assert tie == pytest.approx({"eu": 0.5 + TIE_WEIGHT * e_eu / (1 + e_eu), "asia": 0.5 + TIE_WEIGHT * e_asia / (1 + e_asia)}, abs=1e-7)
    # b's neighbour a has no region, and object identity keeps b -> a -> b out
    assert _scores(RuleLinkPredictor(micro, RULES, "max"), "b", "locatedin") == {}


def test_head_prediction_through_reciprocal_ids(micro):
    p = RuleLinkPredictor(micro, RULES, "noisy-or")
    v, R = p.vocab, p.num_relations
    eu, loc = v.entity_id("eu"), v.relation_id("locatedin")
    heads = p.score_heads(torch.tensor([loc]), torch.tensor([eu]))[0]
    # X with neighbor(X, A), locatedin(A, eu): a (via b and c); the constant rule: a (neighbor of d)
    assert {v.entities[i]: round(float(x), 6) for i, x in enumerate(heads) if x} == {"a": round(1 - 0.5 * 0.8, 6)}
    same = p.score_tails(torch.tensor([eu]), torch.tensor([loc + R]))[0]
    assert torch.equal(heads, same)
    trip = torch.tensor([[v.entity_id("a"), loc, eu], [v.entity_id("a"), loc, v.entity_id("c")]])
    assert p.score_triples(trip).tolist() == pytest.approx([0.6, 0.0])
    scores, ids = p.top_tails(v.entity_id("a"), loc, k=2)
    assert [v.entities[i] for i in ids.tolist()] == ["eu", "asia"]


def test_explanations_list_rules_and_groundings(micro):
    p = RuleLinkPredictor(micro, RULES, "max")
    ex = p.explain("a", "locatedin", top=5)
    assert [e.candidate for e in ex] == ["asia", "eu"] or [e.candidate for e in ex] == ["eu", "asia"]
    eu = next(e for e in ex if e.candidate == "eu")
    assert eu.score == 0.5 and eu.head == "a" and eu.relation == "locatedin"
    path, const = eu.rules
    assert path.rule.text == "locatedin(X,Y) <= neighbor(X,A), locatedin(A,Y)" and path.num_groundings == 2
    assert sorted(str(g) for g in path.groundings) == [
        "neighbor(a,b), locatedin(b,eu)",
        "neighbor(a,c), locatedin(c,eu)",
    ]
    assert const.rule.text == "locatedin(X,eu) <= neighbor(X,d)" and const.confidence == 0.2
    assert [str(g) for g in const.groundings] == ["neighbor(a,d)"]
    # reciprocal query: who is located in eu? groundings keep the rule's own variables
    (who,) = p.explain("eu", "inv:locatedin")
    assert who.candidate == "a" and who.relation == "inv:locatedin"
    assert sorted(str(g) for g in who.rules[0].groundings) == ["neighbor(a,b), locatedin(b,eu)", "neighbor(a,c), locatedin(c,eu)"]
    assert who.as_dict()["rules"][1]["rule"] == "locatedin(X,eu) <= neighbor(X,d)"
    # every candidate with a positive score is explained by at least one rule
    for e in p.explain("a", "locatedin", top=100):
        assert e.rules and e.score == max(ev.confidence for ev in e.rules)


def test_dangling_constant_rule_and_its_reciprocal(micro):
    rules = parse_rules("0.7\tlocatedin(X,eu) <= neighbor(A,X)\n")
    p = RuleLinkPredictor(micro, rules, "max")
    # X with an incoming neighbour edge: a (from b), b, c, d (from a)
    for x in "abcd":
        assert _scores(p, x, "locatedin") == pytest.approx({"eu": 0.7})
    assert _scores(p, "eu", "locatedin") == {}  # eu has no incoming neighbour edge
    v = p.vocab
    heads = p.score_heads(torch.tensor([v.relation_id("locatedin")]), torch.tensor([v.entity_id("eu")]))[0]
    assert {v.entities[i] for i, x in enumerate(heads) if x} == set("abcd")
    (ex,) = p.explain("a", "locatedin", candidates=["eu"])
    assert ex.rules[0].num_groundings == 1 and str(ex.rules[0].groundings[0]) == "neighbor(b,a)"


def test_scores_match_brute_force_rule_firing():
    kg = random_kg(21, num_entities=10, num_relations=3, num_triples=35)
    rules = [r for r in mine_rules(kg, MinerConfig(max_length=3, constants=False, min_support=1, beam=None)).rules]
    p = RuleLinkPredictor(kg, rules, "max")
    v = kg.vocab
    N, R = kg.num_entities, kg.num_relations
    all_scores = p.score_tails(torch.arange(N).repeat(2 * R), torch.arange(2 * R).repeat_interleave(N))
    assert all_scores.shape == (2 * R * N, N)
    # one rule alone fires on exactly its body pairs (the miner's body size, itself checked
    # against brute force), in both directions
    assert len(rules) > 10
    for r in rules[:10]:
        single = RuleLinkPredictor(kg, [r], "max")
        h = v.relation_id(r.head.relation)
        s = single.score_tails(torch.arange(N), torch.full((N,), h))
        fired = {(v.entities[x], v.entities[y]) for x, y in (s > 0).nonzero().tolist()}
        assert len(fired) == r.stats.body_size
        back = single.score_tails(torch.arange(N), torch.full((N,), h + R))
        assert {(v.entities[y], v.entities[x]) for x, y in (back > 0).nonzero().tolist()} == fired


def test_family_link_prediction_is_perfect():
    test = (("ann", "grandparent", "dan"), ("bob", "grandparent", "hal"))
    kg = family_kg(test)
    rules = parse_rules("grandparent(X,Y) <= parent(X,A), parent(A,Y)\n")
    m = evaluate(RuleLinkPredictor(kg, rules), kg.triples("test"), [kg.triples("train")])
    assert m["mrr"] == 1.0 and m["hits@1"] == 1.0 and m["count"] == 4


def test_bad_input(micro):
    with pytest.raises(InputError):
        RuleLinkPredictor(micro, RULES, "mean")  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError):
        RuleLinkPredictor(micro, parse_rules("lives(X,Y) <= neighbor(X,Y)\n"))
    p = RuleLinkPredictor(micro, RULES)
    with pytest.raises(InputError):
        p.score_tails(torch.tensor([0]), torch.tensor([4]))
    with pytest.raises(UnknownNameError):
        p.explain("zz", "locatedin")
