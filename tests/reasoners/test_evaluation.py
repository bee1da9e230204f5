"""Filtered ranking and metrics against hand-computed values."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.evaluation import TrueTails, evaluate, filtered_ranks, hits_at_k, mrr, rank_metrics, ranks_from_scores


class TablePredictor(LinkPredictor):
    """Scores read from a fixed table ``[N, 2R, N]``: a complete, tiny LinkPredictor."""

    def __init__(self, table: Tensor):
        self.table = table
        self.num_entities = table.shape[0]
        self.num_relations = table.shape[1] // 2

    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        return self.table[heads, relations]


def _predictor() -> TablePredictor:
    # 4 entities, 1 relation (id 0; its reciprocal is id 1)
    table = torch.zeros(4, 2, 4)
    table[0, 0] = torch.tensor([0.1, 0.9, 0.5, 0.5])  # (0, r, ?)
    table[2, 1] = torch.tensor([0.3, 0.2, 0.0, 0.1])  # (?, r, 2) as (2, r^-1, ?)
    return TablePredictor(table)


TEST = torch.tensor([[0, 0, 2]])
TRAIN = torch.tensor([[0, 0, 1], [3, 0, 3]])


def test_raw_ranks_count_ties_as_the_mean() -> None:
    # tail 2 scores 0.5: one entity above (0.9), one tie (entity 3): 1 + 1 + 1/2
    ranks = filtered_ranks(_predictor(), TEST, None, both_directions=True)
    assert ranks.tolist() == [2.5, 1.0]


def test_filtered_ranks_drop_other_true_tails() -> None:
    tt = TrueTails([TRAIN, TEST], num_entities=4, num_relations=1)
    ranks = filtered_ranks(_predictor(), TEST, tt, both_directions=True)
    assert ranks.tolist() == [1.5, 1.0]  # entity 1 (0.9) is a known tail of (0, r)
    assert filtered_ranks(_predictor(), TEST, tt, both_directions=False).tolist() == [1.5]


def test_true_tails_index_includes_reciprocals() -> None:
    tt = TrueTails([TRAIN], num_entities=4, num_relations=1)
    rows, cols = tt.mask(torch.tensor([0, 1, 3, 2]), torch.tensor([0, 1, 1, 0]))
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0), (2, 3)]


def test_ranks_from_scores_keeps_the_target_when_filtering() -> None:
    scores = torch.tensor([[3.0, 2.0, 1.0], [1.0, 1.0, 1.0]])
    targets = torch.tensor([2, 0])
    assert ranks_from_scores(scores, targets).tolist() == [3.0, 2.0]
    rows, cols = torch.tensor([0, 0, 1]), torch.tensor([0, 2, 0])  # the target itself is listed too
    assert ranks_from_scores(scores, targets, rows, cols).tolist() == [2.0, 2.0]


def test_metric_functions_on_hand_computed_ranks() -> None:
    ranks = torch.tensor([1.0, 2.0, 4.0, 1.5])
    assert mrr(ranks) == pytest.approx((1 + 0.5 + 0.25 + 1 / 1.5) / 4)
    assert hits_at_k(ranks, 1) == 0.25  # a mean-tie rank of 1.5 misses Hits@1
    assert hits_at_k(ranks, 2) == 0.75
    m = rank_metrics(ranks, ks=(1, 10))
    assert m["mr"] == pytest.approx(2.125) and m["hits@10"] == 1.0 and m["count"] == 4
    assert mrr(torch.empty(0)) == 0.0


def test_evaluate_end_to_end() -> None:
    m = evaluate(_predictor(), TEST, [TRAIN])
    assert m["mrr"] == pytest.approx((1 / 1.5 + 1.0) / 2)
    assert m["hits@1"] == 0.5 and m["hits@3"] == 1.0 and m["mr"] == pytest.approx(1.25)
    assert m["count"] == 2
