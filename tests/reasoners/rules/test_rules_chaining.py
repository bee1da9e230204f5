"""Forward chaining into 'inferred': provenance, idempotence, exact undo, expert rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from nesykg.errors import InputError, UnknownNameError
from nesykg.kg import open_store
from nesykg.kg.terms import dataset_namespace, mint
from nesykg.reasoners.rules.chaining import RULE_TEXT, apply_rules, infer, load_expert_rules, save_expert_rules
from nesykg.reasoners.rules.syntax import parse_rules

from .rule_kgs import family_kg

NS = dataset_namespace("family")
GRAND = parse_rules("0.9\tgrandparent(X,Y) <= parent(X,A), parent(A,Y)\n")
CHAIN = parse_rules(
    "0.95\tancestor(X,Y) <= parent(X,Y)\n"
    "0.9\tancestor(X,Y) <= parent(X,A), ancestor(A,Y)\n"
)
PARENTS = [t for t in family_kg().triples("train").tolist()]


def _load_family(store) -> None:  # noqa: ANN001
    kg = family_kg()
    v = kg.vocab
    rows = [(v.entities[h], v.relations[r], v.entities[t]) for h, r, t in kg.triples("train").tolist()]
    store.add_many([tuple(mint(NS, x) for x in row) for row in rows if row[1] == "parent"], "domain")


def _snapshot(store) -> tuple[list, list]:  # noqa: ANN001
    graphs = store.graphs()
    return sorted((g, t) for g in graphs for t in store.triples(graphs=g)), [r.run_id for r in store.runs()]


STORES = {
    "memory": lambda tmp: open_store("memory:"),
    "oxigraph-disk": lambda tmp: open_store(tmp / "store"),
}


@pytest.fixture(params=sorted(STORES))
def store(request, tmp_path: Path):  # noqa: ANN001, ANN201
    st = STORES[request.param](tmp_path)
    yield st
    st.close()


def test_apply_is_idempotent_and_undo_restores_exactly(store):
    _load_family(store)
    before = _snapshot(store)
    res = apply_rules(store, GRAND, min_confidence=0.8)
    assert res.added == 9 and res.run_id and res.run_id.startswith("rules-")
    got = sorted(store.triples((None, mint(NS, "grandparent"), None), graphs="inferred"))
    assert len(got) == 9 and (mint(NS, "ann"), mint(NS, "grandparent"), mint(NS, "dan")) in got
    (prov,) = store.provenance((mint(NS, "ann"), mint(NS, "grandparent"), mint(NS, "dan")))
    assert prov.confidence == 0.9 and prov.method == "rule" and prov.run_id == res.run_id
    assert prov.evidence == "grandparent(X,Y) <= parent(X,A), parent(A,Y) [groundings: 1]"
    after = _snapshot(store)
    again = apply_rules(store, GRAND, min_confidence=0.8)
    assert again.added == 0 and again.run_id is None
    assert _snapshot(store) == after
    assert store.undo(res.run_id) == 9
    assert _snapshot(store) == before


def test_threshold_and_chaining_rounds(store):
    _load_family(store)
    assert apply_rules(store, GRAND, min_confidence=0.95).added == 0
    calls: list[tuple[str, int, int | None]] = []
    res = apply_rules(store, CHAIN, min_confidence=0.8, progress=lambda *a: calls.append(a))
    # progress: per round, rules done of both, each round ending complete
    ends = [c for c in calls if c[1] == c[2]]
    assert [c[0] for c in ends] == [f"chaining, round {n}" for n in (1, 2, 3, 4)]
    assert all(c[2] == 2 and 0 <= c[1] <= 2 for c in calls)
    # ancestors: 10 parent pairs (round 1), then the transitive closure (8+8+5+1+1+2 pairs)
    by = {c.triple: c for c in res.conclusions}
    assert by[("ann", "ancestor", "bob")].round == 1 and by[("ann", "ancestor", "bob")].confidence == 0.95
    deep = by[("ann", "ancestor", "hal")]  # ann -> bob -> eve -> hal
    assert deep.round >= 2 and deep.confidence == 0.9
    assert len(res.conclusions) == 25 and max(c.round for c in res.conclusions) == 3
    assert apply_rules(store, CHAIN, min_confidence=0.8).added == 0


def test_noisy_or_and_groundings():
    kg = family_kg()
    rules = parse_rules("0.5\tsibling(X,Y) <= parent(A,X), parent(A,Y)\n0.5\tsibling(X,Y) <= sibling(Y,X)\n")
    assert infer(kg, rules, 0.0) == []  # every sibling pair is known already
    kg2 = family_kg()
    kg2.splits["train"] = kg2.splits["train"][kg2.splits["train"][:, 1] != kg2.vocab.relation_id("sibling")]
    out = {c.triple: c for c in infer(kg2, rules[:1], 0.0, "noisy-or")}
    c = out[("bob", "sibling", "cat")]  # two shared parents: ann and ben
    assert c.groundings == 2 and c.num_rules == 1 and c.confidence == 0.5
    with pytest.raises(InputError):
        infer(kg2, rules, aggregation="mean")  # type: ignore[arg-type]


def test_expert_rules_in_the_store(store):
    _load_family(store)
    n = save_expert_rules(store, GRAND)
    assert n == 1 and len(list(store.triples((None, RULE_TEXT, None), graphs="expert"))) == 1
    save_expert_rules(store, parse_rules("0.85\tgrandparent(X,Y) <= parent(X,A), parent(A,Y)\n"))
    (rule,) = load_expert_rules(store)
    assert rule.text == "grandparent(X,Y) <= parent(X,A), parent(A,Y)" and rule.confidence == 0.85
    # the rule triples are not edges of the graph, and the expert rule is applied with its confidence
    res = apply_rules(store, [], min_confidence=0.8)
    assert res.added == 9 and {c.confidence for c in res.conclusions} == {0.85}
    assert apply_rules(store, [], min_confidence=0.8, expert=True).added == 0
    store.undo(res.run_id)
    assert apply_rules(store, [], min_confidence=0.9).added == 0


def test_refusals(store):
    with pytest.raises(InputError):
        apply_rules(store, [], min_confidence=0.5)  # no rules at all
    _load_family(store)
    with pytest.raises(UnknownNameError) as info:
        apply_rules(store, parse_rules("grandparent(X,Y) <= parnet(X,A), parent(A,Y)\n"))
    assert info.value.name == "parnet"
    assert store.count(graphs="inferred") == 0
