"""Exact answering equals brute-force enumeration; GraphIndex lookups; a readable micro-graph."""

from __future__ import annotations

import numpy as np
import pytest

from nesykg.datasets import load_dataset
from nesykg.errors import UnknownNameError
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.logic import (
    ALL_STRUCTURES,
    Atom,
    Conjunction,
    Const,
    Formula,
    GraphIndex,
    NotExists,
    Var,
    exact_answer_names,
    exact_answers,
    get_structure,
    instantiate,
    parse_formula,
)
from nesykg.reasoners.logic.exact import brute_force_answers

# ------------------------------------------------------------------ a readable micro-graph
WORLD = [
    ("france", "neighbor", "spain"),
    ("spain", "neighbor", "france"),
    ("spain", "neighbor", "portugal"),
    ("spain", "neighbor", "morocco"),
    ("france", "neighbor", "belgium"),
    ("morocco", "neighbor", "algeria"),
    ("france", "locatedin", "europe"),
    ("spain", "locatedin", "europe"),
    ("portugal", "locatedin", "europe"),
    ("belgium", "locatedin", "europe"),
    ("morocco", "locatedin", "africa"),
    ("algeria", "locatedin", "africa"),
]


@pytest.fixture(scope="module")
def world() -> GraphIndex:
    ents = {x for h, _, t in WORLD for x in (h, t)} | {"atlantis"}
    return GraphIndex.from_names(WORLD, Vocabulary.from_names(ents, {"neighbor", "locatedin"}))


@pytest.mark.parametrize(
    ("text", "answers"),
    [
        ("?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)", {"morocco"}),
        ("?y : neighbor(spain, ?y) & locatedin(?y, europe)", {"france", "portugal"}),
        ("?y : exists x . neighbor(?y, x) & neighbor(x, ?y)", {"france", "spain"}),  # a 2-cycle
        ("?y : !(exists x . neighbor(x, ?y) & locatedin(x, africa)) & locatedin(?y, africa)", {"morocco"}),
        ("?y : (locatedin(?y, africa)) | (neighbor(france, ?y))", {"morocco", "algeria", "spain", "belgium"}),
        ("?y : exists x . neighbor(x, ?y) & !locatedin(x, europe)", {"algeria"}),
    ],
)
def test_micro_graph_answers(world, text, answers):
    f = parse_formula(text)
    assert exact_answer_names(f, world) == answers
    assert brute_force_answers(f, world) == exact_answers(f, world)


def test_graph_index_lookups(world):
    e, r = world.entity_id, world.relation_id
    assert sorted(world.successors(e("spain"), r("neighbor")).tolist()) == sorted(
        [e("france"), e("portugal"), e("morocco")]
    )
    assert world.predecessors(e("europe"), r("locatedin")).tolist() == sorted(
        e(c) for c in ("france", "spain", "portugal", "belgium")
    )
    assert world.relations(e("spain"), e("europe")).tolist() == [r("locatedin")]
    assert world.has_edge(e("morocco"), r("neighbor"), e("algeria"))
    assert not world.has_edge(e("algeria"), r("neighbor"), e("morocco"))
    assert set(world.successors_of([e("spain"), e("france")], r("neighbor")).tolist()) == {
        e(c) for c in ("france", "spain", "portugal", "morocco", "belgium")
    }
    assert world.in_neighbors(e("morocco")).tolist() == [e("spain")]
    assert world.out_neighbors(e("spain")).tolist() == sorted(
        e(c) for c in ("france", "portugal", "morocco", "europe")
    )
    assert world.tails(r("locatedin")).tolist() == sorted([e("europe"), e("africa")])
    assert world.heads(r("neighbor")).tolist() == sorted(e(c) for c in ("france", "spain", "morocco"))
    assert e("atlantis") not in world.entities_with_in_edges().tolist()
    assert e("spain") in world.entities_with_in_edges().tolist()
    assert len(world) == len(WORLD)


def test_unknown_names_are_reported(world):
    with pytest.raises(UnknownNameError, match="did you mean 'morocco'"):
        exact_answers(parse_formula("?y : neighbor(moroco, ?y)"), world)
    with pytest.raises(UnknownNameError, match="relation"):
        exact_answers(parse_formula("?y : borders(spain, ?y)"), world)


def test_on_a_shipped_dataset():
    ds = load_dataset("countries_s1")
    vocab = Vocabulary.from_names(ds.entities, ds.relations)
    g = GraphIndex.from_names(ds.train, vocab)
    got = exact_answer_names(parse_formula("?y : neighbor(slovakia, ?y)"), g)
    assert {"ukraine", "hungary"} <= got
    assert got == {t for h, r, t in ds.train if h == "slovakia" and r == "neighbor"}


def test_from_tensor_kg_accepts_long_tensors():
    from nesykg.kg.tensor import TensorKG

    kg = TensorKG.from_triples({"train": WORLD, "test": [("algeria", "neighbor", "morocco")]})
    g = GraphIndex.from_tensor_kg(kg, ["train", "test"])
    assert exact_answer_names(parse_formula("?y : neighbor(algeria, ?y)"), g) == {"morocco"}


# ------------------------------------------------------------------ exact == brute force
def random_graph(rng: np.random.Generator, n: int = 6, r: int = 2, m: int = 22) -> GraphIndex:
    vocab = Vocabulary(tuple(f"e{i}" for i in range(n)), tuple(f"r{j}" for j in range(r)))
    t = np.stack([rng.integers(0, n, m), rng.integers(0, r, m), rng.integers(0, n, m)], axis=1)
    return GraphIndex(t, n, r, vocab)


@pytest.mark.parametrize("name", ALL_STRUCTURES)
def test_exact_equals_brute_force_for_every_structure(name):
    st = get_structure(name)
    rng = np.random.default_rng(ALL_STRUCTURES.index(name))
    nonempty = 0
    for _ in range(12):
        g = random_graph(rng)
        for _ in range(3):
            anchors = [f"e{i}" for i in rng.integers(0, g.num_entities, st.num_anchors)]
            relations = [f"r{j}" for j in rng.integers(0, g.num_relations, st.num_relations)]
            f = instantiate(name, anchors, relations)
            got = exact_answers(f, g)
            assert got == brute_force_answers(f, g), str(f)
            nonempty += bool(got) and len(got) < g.num_entities
    assert nonempty >= 3  # the comparison saw real answers, not only empty sets


def random_formula(rng: np.random.Generator, g: GraphIndex) -> Formula:
    """An ad-hoc conjunction or disjunction: random atoms over y, x, z and constants."""

    def rel() -> str:
        return f"r{rng.integers(0, g.num_relations)}"

    def const() -> Const:
        return Const(f"e{rng.integers(0, g.num_entities)}")

    def pick(terms: list[Var]) -> Var | Const:
        return terms[rng.integers(0, len(terms))] if rng.random() < 0.7 else const()

    conjs = []
    for _ in range(rng.integers(1, 3)):
        vs = ["y", *[v for v in ("x", "z") if rng.random() < 0.6]]
        terms = [Var(v) for v in vs]
        lits: list = []
        for v in vs:  # a positive atom on each variable, to a variable or a constant
            other = terms[rng.integers(0, len(terms))] if rng.random() < 0.6 else const()
            lits.append(Atom(rel(), Var(v), other) if rng.random() < 0.5 else Atom(rel(), other, Var(v)))
        for _ in range(rng.integers(0, 4)):
            lits.append(Atom(rel(), pick(terms), pick(terms), bool(rng.random() < 0.4)))
        if rng.random() < 0.3:
            w = Var("w")
            lits.append(
                NotExists(
                    ("w",), (Atom(rel(), terms[rng.integers(0, len(terms))], w), Atom(rel(), w, const()))
                )
            )
        conjs.append(Conjunction(tuple(lits)))
    used = {v for c in conjs for v in c.variables()}
    return Formula("y", tuple(v for v in ("x", "z") if v in used), tuple(conjs))


def test_exact_equals_brute_force_on_ad_hoc_formulas():
    """Cycles through the answer, self-loops, negated edges between variables, unions."""
    rng = np.random.default_rng(7)
    cyclic = 0
    for _ in range(250):
        g = random_graph(rng, n=5, r=2, m=16)
        f = random_formula(rng, g)
        assert exact_answers(f, g) == brute_force_answers(f, g), str(f)
        pairs = {frozenset(a.variables) for a in f.atoms() if len(set(a.variables)) == 2}
        cyclic += len(pairs) >= 3
    assert cyclic >= 10
