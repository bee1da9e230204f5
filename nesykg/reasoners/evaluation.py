"""Filtered link-prediction evaluation as pure functions.

Protocol (Bordes et al. 2013, "filtered"): for a test triple ``(h, r, t)`` the rank of
``t`` among all entities is computed after removing every *other* known true tail of
``(h, r)`` (from train, valid and test). Both directions are evaluated, head
prediction through the reciprocal relation ``r + R``. Ties count as the mean of the
optimistic and pessimistic rank: ``rank = 1 + #greater + #equal_others / 2``.

Memory bound: scores are computed ``batch_size`` queries at a time, so peak memory is
``batch_size x N`` floats (the batch size is chosen to keep this under ``max_floats``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from nesykg.errors import InputError
from nesykg.progress import Progress
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.known import KnownTails

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.tensor import TensorKG

__all__ = [
    "TrueTails",
    "filtered_ranks",
    "ranks_from_scores",
    "rank_metrics",
    "mrr",
    "hits_at_k",
    "evaluate",
    "evaluate_split",
    "filter_splits",
    "FILTER_SPLITS",
]

#: the splits whose triples are "known true" when ranking filtered
FILTER_SPLITS = ("train", "valid", "test")


#: the filter index of the evaluator (one index for filtering, truth values and known-flags)
TrueTails = KnownTails


def ranks_from_scores(scores: Tensor, targets: Tensor, filter_rows: Tensor | None = None, filter_cols: Tensor | None = None) -> Tensor:
    """Filtered mean-tie ranks of `targets` (``LongTensor[B]``) in ``scores [B, N]``.

    Entries ``(filter_rows, filter_cols)`` are removed before ranking, except each
    row's own target.
    """
    scores = scores.float()
    target_scores = scores.gather(1, targets.view(-1, 1))
    if filter_rows is not None and filter_cols is not None and len(filter_rows):
        scores = scores.clone()
        scores[filter_rows, filter_cols] = float("-inf")
        scores.scatter_(1, targets.view(-1, 1), target_scores)
    greater = (scores > target_scores).sum(1)
    equal = (scores == target_scores).sum(1) - 1
    return 1.0 + greater.double() + equal.double() / 2.0


@torch.no_grad()
def filtered_ranks(
    predictor: LinkPredictor,
    triples: Tensor,
    true_tails: TrueTails | None,
    both_directions: bool = True,
    batch_size: int | None = None,
    max_floats: int = 1 << 25,
    progress: Progress | None = None,
) -> Tensor:
    """Ranks of the tails of `triples` (then of their heads, if `both_directions`).

    Args:
        predictor: any `LinkPredictor`.
        triples: ``LongTensor[M, 3]``.
        true_tails: filter index (``None`` for raw ranks).
        both_directions: also rank heads, through reciprocal relations.
        batch_size: queries per scoring call (default: ``max_floats // N``).
        progress: called as ``progress("evaluating", queries_done, queries)``.

    Returns:
        ``DoubleTensor[M]`` tail ranks, followed by ``M`` head ranks when `both_directions`.
    """
    R = predictor.num_relations
    queries = [triples]
    if both_directions:
        queries.append(torch.stack([triples[:, 2], triples[:, 1] + R, triples[:, 0]], 1))
    q = torch.cat(queries)
    bs = batch_size or max(1, max_floats // max(1, predictor.num_entities))
    out = []
    if progress is not None:
        progress("evaluating", 0, len(q))
    for i in range(0, len(q), bs):
        b = q[i : i + bs]
        scores = predictor.score_tails(b[:, 0], b[:, 1]).cpu()
        if true_tails is not None:
            rows, cols = true_tails.mask(b[:, 0], b[:, 1])
            out.append(ranks_from_scores(scores, b[:, 2], rows, cols))
        else:
            out.append(ranks_from_scores(scores, b[:, 2]))
        if progress is not None:
            progress("evaluating", min(len(q), i + bs), len(q))
    return torch.cat(out) if out else torch.empty(0, dtype=torch.double)


def mrr(ranks: Tensor) -> float:
    """Mean reciprocal rank."""
    return float((1.0 / ranks.double()).mean()) if len(ranks) else 0.0


def hits_at_k(ranks: Tensor, k: int) -> float:
    """Share of ranks ``<= k`` (a mean-tie rank of 1.5 misses Hits@1)."""
    return float((ranks <= k).double().mean()) if len(ranks) else 0.0


def rank_metrics(ranks: Tensor, ks: Sequence[int] = (1, 3, 10)) -> dict[str, float]:
    """``{"mrr", "mr", "hits@k"...}`` from ranks."""
    res = {"mrr": mrr(ranks), "mr": float(ranks.double().mean()) if len(ranks) else 0.0}
    for k in ks:
        res[f"hits@{k}"] = hits_at_k(ranks, k)
    res["count"] = int(len(ranks))
    return res


def evaluate(
    predictor: LinkPredictor,
    triples: Tensor,
    filter_triples: Iterable[Tensor] = (),
    both_directions: bool = True,
    batch_size: int | None = None,
) -> dict[str, float]:
    """Filtered MRR, MR and Hits@1/3/10 of `predictor` on `triples`.

    `filter_triples` are the known true triples (usually train, valid and test).
    """
    filt = list(filter_triples)
    tt = TrueTails(filt + [triples], predictor.num_entities, predictor.num_relations)
    return rank_metrics(filtered_ranks(predictor, triples, tt, both_directions, batch_size))


def filter_splits(kg: TensorKG) -> list[Tensor]:
    """The known true triples of `kg` for filtered ranking: its train, valid and test splits
    (those it has)."""
    return [kg.triples(s) for s in FILTER_SPLITS if s in kg.splits]


def evaluate_split(
    predictor: LinkPredictor,
    kg: TensorKG,
    split: str = "test",
    both_directions: bool = True,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Filtered MRR, MR and Hits@1/3/10 of `predictor` on a split of `kg`, filtered by
    `filter_splits` (train, valid and test): the protocol of ``nesykg eval``.

    Raises:
        InputError: `kg` has no triples in `split`.
        VocabularyMismatchError: the predictor was built for another vocabulary.
    """
    if predictor.vocab is not None:
        kg.vocab.check_same(predictor.vocab, what="predictor")
    triples = kg.triples(split)
    if len(triples) == 0:
        raise InputError(f"dataset {kg.name!r} has no {split!r} triples")
    tt = TrueTails(filter_splits(kg), predictor.num_entities, predictor.num_relations)
    ranks = filtered_ranks(predictor, triples, tt, both_directions, batch_size, progress=progress)
    return rank_metrics(ranks)
