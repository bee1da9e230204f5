"""CQD-beam with an oracle equals exact answering on the trees it supports; it refuses the rest."""

from __future__ import annotations

import pytest
import torch

from nesykg.datasets.queries import nested_graphs, sample_queries
from nesykg.errors import InputError, UnsupportedCapabilityError
from nesykg.reasoners.logic import ALL_STRUCTURES, exact_answers, parse_formula
from nesykg.reasoners.logic.cqd import CQDBeam
from tests.reasoners.logic.oracle import OracleConfidence, OracleScores, all_triples, random_kg

REFUSED = {"3c": "cyclic", "3cm": "cyclic", "2il": "no anchor", "3il": "no anchor"}
SUPPORTED = [s for s in ALL_STRUCTURES if s not in REFUSED]


@pytest.fixture(scope="module")
def setting():
    kg = random_kg()
    graphs = nested_graphs(kg, "test")
    return kg, graphs, sample_queries(graphs, ALL_STRUCTURES, 3, seed=5)


def test_cqd_with_an_oracle_and_a_wide_beam_equals_exact_on_every_supported_tree(setting):
    kg, graphs, queries = setting
    # sigmoid of the oracle's 0/1 scores is 0.73 / 0.5: min-max maps it back to 1 / 0
    cqd = CQDBeam(OracleConfidence(kg.vocab, all_triples(kg)), normalize="minmax", k=kg.num_entities)
    checked = set()
    for q in queries:
        if q.structure in REFUSED:
            continue
        got = set((cqd.scores(q.formula) > 0.5).nonzero().flatten().tolist())
        assert got == set(exact_answers(q.formula, graphs.larger)), q.structure
        checked.add(q.structure)
    assert checked == set(SUPPORTED)


def test_a_narrow_beam_keeps_the_best_candidates_only(setting):
    kg, graphs, queries = setting
    oracle = OracleScores(kg.vocab, all_triples(kg))
    wide = CQDBeam(oracle, normalize="softmax", k=kg.num_entities)
    narrow = CQDBeam(oracle, normalize="softmax", k=1)
    q = next(q for q in queries if q.structure == "3p")
    w, n = wide.scores(q.formula), narrow.scores(q.formula)
    assert torch.all(n <= w + 1e-6)  # a beam of one explores a subset of the groundings
    assert int(torch.argmax(w)) in set(exact_answers(q.formula, graphs.larger))


@pytest.mark.parametrize(("structure", "why"), sorted(REFUSED.items()))
def test_cycles_and_unanchored_variables_are_refused_with_the_structure_named(setting, structure, why):
    kg, _, queries = setting
    cqd = CQDBeam(OracleConfidence(kg.vocab, all_triples(kg)))
    q = next(q for q in queries if q.structure == structure)
    with pytest.raises(UnsupportedCapabilityError, match=f"{why}.*{structure}"):
        cqd.scores(q.formula)


def test_self_loops_and_bad_settings_are_refused(setting):
    kg, _, _ = setting
    cqd = CQDBeam(OracleConfidence(kg.vocab, all_triples(kg)))
    with pytest.raises(UnsupportedCapabilityError, match="self-loops"):
        cqd.scores(parse_formula("?y : exists x . r0(e01, x) & r1(x, x) & r2(x, ?y)"))
    with pytest.raises(InputError, match="normalize"):
        CQDBeam(OracleConfidence(kg.vocab, all_triples(kg)), normalize="tanh")
