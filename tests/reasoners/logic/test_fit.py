"""FIT over oracle predictors equals exact answering on every structure; the row cache's bound."""

from __future__ import annotations

import pytest
import torch

from nesykg.datasets.queries import nested_graphs, sample_queries
from nesykg.errors import InputError, UnknownNameError
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.logic import ALL_STRUCTURES, GraphIndex, exact_answers, parse_formula
from nesykg.reasoners.logic.fit import FIT
from nesykg.reasoners.logic.truth import ROW_OVERHEAD, TruthCache
from tests.reasoners.logic.oracle import OracleConfidence, OracleScores, all_triples, random_kg


@pytest.fixture(scope="module")
def setting():
    kg = random_kg()
    graphs = nested_graphs(kg, "test")
    queries = sample_queries(graphs, ALL_STRUCTURES, 4, seed=3)
    return kg, graphs, queries


def _answers(scores: torch.Tensor) -> set[int]:
    return set((scores > 0.5).nonzero().flatten().tolist())


@pytest.mark.parametrize("structure", ALL_STRUCTURES)
def test_fit_with_a_confidence_oracle_finds_exactly_the_answers_on_the_full_graph(setting, structure):
    kg, graphs, queries = setting
    oracle = OracleConfidence(kg.vocab, all_triples(kg))
    fit = FIT(oracle, graph=torch.cat([kg.triples("train"), kg.triples("valid")]))
    mine = [q for q in queries if q.structure == structure]
    assert len(mine) == 4
    for q in mine:
        expected = set(exact_answers(q.formula, graphs.larger))
        assert expected  # sampled queries have hard answers
        assert _answers(fit.scores(q.formula)) == expected, str(q.formula)


def test_fit_with_a_scoring_oracle_and_the_default_truth_mapping_is_exact(setting):
    kg, graphs, queries = setting
    fit = FIT(OracleScores(kg.vocab, all_triples(kg)), graph=all_triples(kg))
    for q in queries:
        assert _answers(fit.scores(q.formula)) == set(exact_answers(q.formula, graphs.larger)), q.structure


def test_godel_tnorm_is_exact_with_the_oracle_too(setting):
    kg, graphs, queries = setting
    fit = FIT(OracleConfidence(kg.vocab, all_triples(kg)), tnorm="godel")
    for q in queries[::5]:
        assert _answers(fit.scores(q.formula)) == set(exact_answers(q.formula, graphs.larger)), q.structure


# ------------------------------------------------------------------ a readable micro-graph
WORLD = [
    ("france", "neighbor", "spain"), ("spain", "neighbor", "france"), ("spain", "neighbor", "portugal"),
    ("spain", "neighbor", "morocco"), ("france", "neighbor", "belgium"), ("morocco", "neighbor", "algeria"),
    ("france", "locatedin", "europe"), ("spain", "locatedin", "europe"), ("portugal", "locatedin", "europe"),
    ("belgium", "locatedin", "europe"), ("morocco", "locatedin", "africa"), ("algeria", "locatedin", "africa"),
]


@pytest.fixture(scope="module")
def world():
    from nesykg.kg.tensor import TensorKG

    kg = TensorKG.from_triples({"train": WORLD}, "world")
    return kg, OracleConfidence(kg.vocab, kg.triples("train"))


@pytest.mark.parametrize(
    "text",
    [
        "?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)",
        "?y : locatedin(?y, europe) & neighbor(?y, spain)",  # constants in object position: reciprocals
        "?y : exists x . neighbor(?y, x) & neighbor(x, ?y)",  # a 2-cycle (multi-edge between variables)
        "?y : !(exists x . neighbor(x, ?y) & locatedin(x, africa)) & locatedin(?y, africa)",
        "?y : (locatedin(?y, africa)) | (neighbor(france, ?y))",
        "?y : exists x . neighbor(x, ?y) & !locatedin(x, europe)",
        "?y : exists x, z . neighbor(x, ?y) & neighbor(z, x) & neighbor(?y, z)",  # a triangle
        "?y : neighbor(spain, ?y) & neighbor(?y, spain) & locatedin(?y, europe)",  # multi-edge on a constant
        "?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & neighbor(spain, france)",  # a ground atom
    ],
)
def test_micro_graph_formulas_match_exact_answers(world, text):
    kg, oracle = world
    f = parse_formula(text)
    expected = {kg.vocab.entities[i] for i in exact_answers(f, GraphIndex.from_tensor_kg(kg))}
    got = {kg.vocab.entities[i] for i in _answers(FIT(oracle).scores(f))}
    assert got == expected


def test_explanation_names_the_missing_link_and_each_atom_truth(world):
    kg, oracle = world
    f = parse_formula("?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)")
    g = FIT(oracle).explain(f, kg.vocab.entity_id("morocco"))
    assert kg.vocab.entities[g.assignment["x"]] == "spain"
    assert g.truth == pytest.approx(1.0)
    assert [t for _, t in g.literal_truths] == pytest.approx([1.0, 1.0, 1.0])
    bad = FIT(oracle).explain(f, kg.vocab.entity_id("portugal"))
    assert bad.truth == pytest.approx(0.0)


def test_unknown_names_offer_the_closest(world):
    _, oracle = world
    with pytest.raises(UnknownNameError, match="spain"):
        FIT(oracle).scores(parse_formula("?y : neighbor(spian, ?y)"))
    with pytest.raises(UnknownNameError, match="neighbor"):
        FIT(oracle).scores(parse_formula("?y : neighbour(spain, ?y)"))


class _SetProjector(OracleConfidence):
    """A predictor with its own set projection (as a GNN has): counts its calls."""

    calls = 0

    def project(self, weights, relations, k=64, graph=None, max_floats=1 << 25):
        type(self).calls += 1
        return LinkPredictor.project(self, weights, relations, k=k, graph=graph, max_floats=max_floats)


def test_a_predictors_own_set_projection_is_used(world):
    kg, _ = world
    p = _SetProjector(kg.vocab, kg.triples("train"))
    f = parse_formula("?y : exists x . locatedin(x, europe) & neighbor(x, ?y)")
    got = {kg.vocab.entities[i] for i in _answers(FIT(p).scores(f))}
    assert got == {"spain", "france", "portugal", "belgium", "morocco"}
    assert _SetProjector.calls >= 1


# ------------------------------------------------------------------ the cache
def test_cache_keeps_rows_sparse_and_within_its_byte_budget():
    n = 1000
    calls: list[int] = []

    def rows(h: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        calls.append(len(h))
        out = torch.full((len(h), n), 0.001)  # below the threshold: dropped
        out[torch.arange(len(h)), h] = 0.9
        out[torch.arange(len(h)), (h + 1) % n] = 0.5
        return out

    budget = 10 * (ROW_OVERHEAD + 2 * 8)
    cache = TruthCache(rows, n, threshold=0.005, row_k=8, max_bytes=budget)
    ids, vals = cache.get([3], [0])[0]
    assert ids.tolist() == [3, 4] and vals.tolist() == pytest.approx([0.9, 0.5])
    cache.get(list(range(50)), [1] * 50)
    assert len(cache) == 10 and cache.bytes <= budget
    cache.get([49], [1])  # most recent: still cached
    assert calls == [1, 50]
    cache.get([0], [1])  # evicted: computed again
    assert calls == [1, 50, 1]
    assert cache.dense([7], [0])[0, 8] == pytest.approx(0.5)


def test_row_k_caps_each_row():
    cache = TruthCache(lambda h, r: torch.linspace(1, 0.5, 100).expand(len(h), 100), 100, row_k=5)
    ids, _ = cache.get([0], [0])[0]
    assert ids.tolist() == [0, 1, 2, 3, 4]


def test_bad_settings_are_refused(world):
    _, oracle = world
    with pytest.raises(InputError):
        FIT(oracle, k=0)
    with pytest.raises(InputError):
        TruthCache(lambda h, r: h, 3, threshold=1.5)


def test_an_explanations_truth_is_the_answers_score(setting):
    """With fractional truth values (softmax rows, no observed edges) the best grounding's truth is the score."""
    kg, _, queries = setting
    fit = FIT(OracleScores(kg.vocab, all_triples(kg), high=2.0))
    for q in queries:
        if q.structure in ("2il", "3il"):  # unanchored leaves are projected from the other side
            continue
        scores = fit.scores(q.formula)
        best = int(torch.argmax(scores))
        g = fit.explain(q.formula, best)
        assert g.truth == pytest.approx(float(scores[best]), rel=1e-4), q.structure
        assert set(g.assignment) == set(q.formula.disjuncts[g.disjunct].variables())
