"""EpiGNN: the constrained composition, and systematic generalisation to longer chains."""

from __future__ import annotations

from pathlib import Path

import torch

from nesykg.datasets.clutrr import FAMILY_RELATIONS, generate_family_chains
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.checkpoint import load_predictor, save_predictor
from nesykg.reasoners.gnn.epignn import EpiGNN, EpiGNNConfig, RelationQuery
from nesykg.reasoners.gnn.training import GNNTrainingConfig, train_epignn

torch.set_num_threads(1)
VOCAB = Vocabulary.from_names([], FAMILY_RELATIONS)
CHANCE = 1 / len(FAMILY_RELATIONS)  # 0.05


def test_composition_keeps_probabilities_and_the_identity_is_neutral() -> None:
    model = EpiGNN(VOCAB, EpiGNNConfig(facets=3, dim=5), generator=torch.Generator().manual_seed(0))
    A = model.composition()
    a = torch.softmax(torch.randn(7, 3, 5), -1)
    b = torch.softmax(torch.randn(7, 3, 5), -1)
    out = model.compose(a, b, A)
    torch.testing.assert_close(out.sum(-1), torch.ones(7, 3))
    ident = torch.zeros(7, 3, 5)
    ident[..., 0] = 1
    torch.testing.assert_close(model.compose(ident, b, A), b)
    torch.testing.assert_close(model.compose(a, ident, A), a)


def test_trained_on_chains_of_2_and_3_it_predicts_chains_of_4_to_6_above_chance(tmp_path: Path) -> None:
    train = generate_family_chains(800, [2, 3], seed=0)
    model = EpiGNN(VOCAB, EpiGNNConfig(facets=4), generator=torch.Generator().manual_seed(0))
    train_epignn(model, train, (), GNNTrainingConfig(epochs=5, batch_size=32, learning_rate=3e-2))
    assert model.accuracy(train[:300]) >= 0.4
    longer = [q for k in (4, 5, 6) for q in generate_family_chains(100, k, seed=100 + k)]
    majority = max(sum(q.target == r for q in longer) for r in FAMILY_RELATIONS) / len(longer)
    acc = model.accuracy(longer)
    # the margin this test holds: 4x chance (0.05) and above always answering the most common relation
    assert acc >= 4 * CHANCE and acc > majority
    folder = save_predictor(model, tmp_path / "epi")
    loaded = load_predictor(folder)
    assert isinstance(loaded, EpiGNN) and loaded.predict_relations(longer[:20]) == model.predict_relations(longer[:20])


def test_forward_only_and_min_aggregation_run() -> None:
    q = RelationQuery(((0, 1), (1, 2)), ("son", "brother"), (0, 2), "son", 2)
    for cfg in (EpiGNNConfig(backward=False), EpiGNNConfig(aggregation="min")):
        logits = EpiGNN(VOCAB, cfg).relation_logits([q, q])
        assert logits.shape == (2, len(FAMILY_RELATIONS)) and torch.isfinite(logits).all()
