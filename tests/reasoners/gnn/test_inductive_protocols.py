"""GraIL's sampled protocol and full ranking, by hand on a fixed scorer."""

from __future__ import annotations

import torch
from torch import Tensor

from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.gnn.evaluation import grail_sampled_ranks, inductive_metrics, sample_negatives
from nesykg.reasoners.known import KnownTails


class ByIdScorer(LinkPredictor):
    """Scores tail ``t`` as ``t`` (the last entity is always best)."""

    name = "byid"

    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        return torch.arange(self.num_entities, dtype=torch.float).expand(len(heads), -1).clone()


def test_negatives_are_never_known_answers() -> None:
    known = KnownTails([torch.tensor([[0, 0, 1], [0, 0, 2]])], 60, 1)
    q = torch.tensor([[0, 0, 1]])
    negs = sample_negatives(q, 60, known, 50, seed=3)
    assert negs.shape == (1, 50) and len(set(negs[0].tolist())) == 50
    assert not {1, 2} & set(negs[0].tolist())
    assert torch.equal(negs, sample_negatives(q, 60, known, 50, seed=3))


def test_sampled_ranks_count_the_better_negatives() -> None:
    v = Vocabulary.from_names([f"e{i:02d}" for i in range(60)], ["r"])
    p = ByIdScorer(v)
    top = torch.tensor([[0, 0, 59]])  # the best tail: rank 1 whatever is sampled
    assert grail_sampled_ranks(p, top, [], both_directions=False).tolist() == [1.0]
    low = torch.tensor([[5, 0, 0]])  # the worst tail: every negative beats it
    assert grail_sampled_ranks(p, low, [], both_directions=False).tolist() == [51.0]
    m = inductive_metrics(p, top, [], "full", both_directions=False)
    assert m["mrr"] == 1.0 and m["protocol"] == "full"
    assert inductive_metrics(p, low, [], "grail50", both_directions=False)["hits@10"] == 0.0
