"""NBFNet: learns a composition, transfers to unseen entities, projects sets, explains."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
import torch

from nesykg.errors import InputError, VocabularyMismatchError
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.checkpoint import load_predictor, save_predictor
from nesykg.reasoners.evaluation import evaluate
from nesykg.reasoners.gnn.explain import explain_paths
from nesykg.reasoners.gnn.nbfnet import NBFNet, NBFNetConfig
from nesykg.reasoners.gnn.training import GNNTrainingConfig, fact_ids, train_nbfnet
from tests.reasoners.gnn.graphs import composition_kg

N = 20  # a, b and c entities per copy: 60 entities; a random ranking has MRR ~ 0.08


@lru_cache(maxsize=1)
def trained() -> NBFNet:
    kg = composition_kg(N)
    model = NBFNet(kg.vocab, NBFNetConfig(dim=16, num_layers=3), kg.triples("train"), torch.Generator().manual_seed(0))
    train_nbfnet(model, kg.triples("train"), None, GNNTrainingConfig(epochs=8, batch_size=16, learning_rate=1e-2))
    return model


def _random_mrr(num_entities: int) -> float:
    return sum(1.0 / r for r in range(1, num_entities + 1)) / num_entities


def test_learns_the_composition_of_two_relations() -> None:
    kg = composition_kg(N)
    m = evaluate(trained(), kg.triples("test"), [kg.triples("train")], both_directions=False)
    assert m["count"] == N // 4
    assert m["mrr"] >= 0.9 > 10 * _random_mrr(kg.num_entities)


def test_unseen_inference_graph_beats_random_by_a_wide_margin() -> None:
    other = composition_kg(N, seed=7, prefix="new")  # other entities, other wiring, same relations
    assert not set(other.vocab.entities) & set(trained().vocab.entities)  # type: ignore[union-attr]
    ind = trained().on_graph(other.vocab, other.triples("train"))
    m = evaluate(ind, other.triples("test"), [other.triples("train")], both_directions=False)
    assert m["mrr"] >= 0.8 and m["mrr"] >= 0.7 + _random_mrr(other.num_entities)


def test_another_relation_vocabulary_is_refused() -> None:
    v = Vocabulary(("x", "y"), ("r1", "zz", "r3", "r4"))
    with pytest.raises(VocabularyMismatchError, match="zz"):
        trained().on_graph(v, torch.tensor([[0, 1, 1]]))


def test_the_k_hop_subgraph_gives_the_full_graph_scores() -> None:
    kg = composition_kg(N)
    full = trained()
    cut = NBFNet(kg.vocab, NBFNetConfig(dim=16, num_layers=3, subgraph_nodes=5), kg.triples("train"))
    cut.load_state_dict(full.state_dict())
    heads, rels = torch.tensor([0, 3, 25, 41]), torch.tensor([2, 0, 5, 6])
    with torch.no_grad():
        torch.testing.assert_close(cut.score_tails(heads, rels), full.score_tails(heads, rels))


def test_set_projection_one_hot_equals_truth_and_sets_are_one_pass() -> None:
    kg = composition_kg(N)
    model = trained()
    heads, rels = torch.tensor([0, 1, 2]), torch.tensor([2, 2, 0])
    onehot = torch.nn.functional.one_hot(heads, kg.num_entities).float()
    for graph in (None, kg):
        torch.testing.assert_close(model.project(onehot, rels, graph=graph), model.truth_tails(heads, rels, graph))
    # a two-member set {a0: 1, a1: 1} under r3 reaches both compositions in one pass
    pair = onehot[:1] + onehot[1:2]
    out = model.project(pair, rels[:1])[0]
    single = model.truth_tails(heads[:2], rels[:2])
    best = set(torch.topk(out, 2).indices.tolist())
    assert best == {int(single[0].argmax()), int(single[1].argmax())}
    with pytest.raises(InputError, match="weights must be"):
        model.project(pair[:, :5], rels[:1])


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = trained()
    folder = save_predictor(model, tmp_path / "ck", dataset="composition")
    loaded = load_predictor(folder)
    assert isinstance(loaded, NBFNet) and loaded.config == model.config
    assert torch.equal(loaded.facts, model.facts)
    heads, rels = torch.tensor([0, 5]), torch.tensor([2, 6])
    with torch.no_grad():
        torch.testing.assert_close(loaded.score_tails(heads, rels), model.score_tails(heads, rels))


def test_explanations_follow_the_composed_path() -> None:
    kg = composition_kg(N)
    model = trained()
    h, r, t = kg.triples("test")[0].tolist()
    paths = explain_paths(model, h, r, t, top=3)
    assert paths and all(p.edges[0][0] == kg.vocab.entities[h] and p.edges[-1][2] == kg.vocab.entities[t] for p in paths)
    assert any([e[1] for e in p.edges] == ["r1", "r2"] for p in paths)


def test_fact_ids_find_facts() -> None:
    facts = torch.tensor([[0, 1, 2], [2, 0, 1], [1, 1, 1]])
    got = fact_ids(torch.tensor([[1, 1, 1], [0, 0, 0], [0, 1, 2]]), facts, 3, 2)
    assert got.tolist() == [2, -1, 0]


def test_pair_grouped_messages_equal_the_edge_by_edge_pass() -> None:
    kg = composition_kg(N)
    model = trained()
    heads = torch.nn.functional.one_hot(torch.tensor([0, 3, 25, 41]), kg.num_entities).float()
    rels = torch.tensor([2, 0, 5, 6])
    ones = torch.ones(2 * len(model.facts))  # an edge weight sends the pass edge by edge
    keep = torch.arange(2 * len(model.facts)) % 3 != 0  # as training removes the queried facts
    with torch.no_grad():
        for mask in (None, keep):
            fast = model.forward_sets(heads, rels, edge_mask=mask)
            torch.testing.assert_close(fast, model.forward_sets(heads, rels, edge_mask=mask, edge_weight=ones))
        assert not torch.allclose(model.forward_sets(heads, rels, edge_mask=keep), model.forward_sets(heads, rels))


def test_a_time_budget_stops_training_within_a_step() -> None:
    kg = composition_kg(N)
    model = NBFNet(kg.vocab, NBFNetConfig(dim=8, num_layers=2), kg.triples("train"), torch.Generator().manual_seed(0))
    cfg = GNNTrainingConfig(epochs=5, batch_size=8, time_budget=1e-9)
    res = train_nbfnet(model, kg.triples("train"), kg.triples("test"), cfg)
    assert [h["steps"] for h in res.history] == [1] and res.best_epoch == 1 and res.best_valid is not None
    with pytest.raises(InputError, match="time_budget"):
        GNNTrainingConfig(time_budget=0)
