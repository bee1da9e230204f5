"""Evaluation protocols for inductive link prediction, as pure functions over a predictor.

* **GraIL's sampled protocol** (Teru et al. 2020): each test triple is ranked against
  ``num_negatives`` (50) sampled corruptions of its tail -- and, with `both_directions`, of
  its head -- that are not known true; Hits@10 of those ranks (out of 51) is the usual
  figure. Sampling is seeded, so two predictors are ranked against the same negatives.
* **Full filtered ranking** over every entity of the inference graph:
  `nesykg.reasoners.evaluation.filtered_ranks` (MRR, Hits@k).

Ties count as the mean of the optimistic and pessimistic rank, as everywhere in nesykg.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from nesykg.errors import InputError
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.evaluation import filtered_ranks, rank_metrics
from nesykg.reasoners.known import KnownTails

__all__ = ["sample_negatives", "grail_sampled_ranks", "inductive_metrics", "PROTOCOLS"]

PROTOCOLS = ("full", "grail50")


def _queries(triples: Tensor, num_relations: int, both_directions: bool) -> Tensor:
    q = [triples]
    if both_directions:
        q.append(torch.stack([triples[:, 2], triples[:, 1] + num_relations, triples[:, 0]], 1))
    return torch.cat(q)


def sample_negatives(
    queries: Tensor, num_entities: int, known: KnownTails, num: int = 50, seed: int = 0
) -> Tensor:
    """``LongTensor[M, num]`` tails for each query ``(h, r, t)`` with ``(h, r, x)`` not known true.

    Drawn uniformly without replacement per query (fewer candidates than `num`: the
    remaining slots repeat the true tail's corruption pool, and ranks stay correct since
    duplicates of a negative only count as more negatives).
    """
    g = torch.Generator().manual_seed(seed)
    rows, cols = known.mask(queries[:, 0], queries[:, 1])
    out = torch.empty(len(queries), num, dtype=torch.long)
    for i in range(len(queries)):
        bad = cols[rows == i]
        ok = torch.ones(num_entities, dtype=torch.bool)
        ok[bad] = False
        ok[queries[i, 2]] = False
        pool = ok.nonzero().view(-1)
        if len(pool) == 0:
            raise InputError(f"query {i}: every entity is a known answer, so no negative can be drawn")
        pick = torch.randperm(len(pool), generator=g)[:num]
        if len(pick) < num:
            pick = pick[torch.arange(num) % len(pick)]
        out[i] = pool[pick]
    return out


@torch.no_grad()
def grail_sampled_ranks(
    predictor: LinkPredictor,
    triples: Tensor,
    filter_triples: Sequence[Tensor],
    num_negatives: int = 50,
    both_directions: bool = True,
    seed: int = 0,
    batch_size: int = 64,
) -> Tensor:
    """Ranks (1 = best, of ``num_negatives + 1``) of each true tail among sampled negatives.

    Args:
        predictor: any predictor over the evaluation graph's entities.
        triples: ``LongTensor[M, 3]`` test triples.
        filter_triples: known true triples (negatives are never one of them).
        both_directions: also rank heads (through reciprocal relations).

    Returns:
        ``DoubleTensor[M]`` tail ranks (then ``M`` head ranks with `both_directions`).
    """
    N, R = predictor.num_entities, predictor.num_relations
    known = KnownTails([*filter_triples, triples], N, R)
    q = _queries(triples, R, both_directions)
    negs = sample_negatives(q, N, known, num_negatives, seed)
    out = []
    for i in range(0, len(q), batch_size):
        b = q[i : i + batch_size]
        scores = predictor.score_tails(b[:, 0], b[:, 1]).float().cpu()
        pos = scores.gather(1, b[:, 2:3])
        neg = scores.gather(1, negs[i : i + batch_size])
        out.append(1.0 + (neg > pos).sum(1).double() + (neg == pos).sum(1).double() / 2.0)
    return torch.cat(out) if out else torch.empty(0, dtype=torch.double)


def inductive_metrics(
    predictor: LinkPredictor,
    triples: Tensor,
    filter_triples: Sequence[Tensor],
    protocol: str = "full",
    both_directions: bool = True,
    seed: int = 0,
) -> dict[str, float]:
    """MRR, MR, Hits@1/3/10 of `predictor` on `triples` under `protocol`.

    ``full``: filtered ranks over all entities; ``grail50``: ranks against 50 sampled
    negatives (`grail_sampled_ranks`).
    """
    if protocol == "full":
        known = KnownTails([*filter_triples, triples], predictor.num_entities, predictor.num_relations)
        ranks = filtered_ranks(predictor, triples, known, both_directions)
    elif protocol == "grail50":
        ranks = grail_sampled_ranks(predictor, triples, filter_triples, 50, both_directions, seed)
    else:
        raise InputError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    return {"protocol": protocol, **rank_metrics(ranks)}  # type: ignore[dict-item]
