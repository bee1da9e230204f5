"""`RangePrior`: the relation-range prior, the agent's last fallback where nothing else knows an edge.

It scores every entity as a tail of ``(h, r, ?)`` by its share of the observed tails of ``r``
(for ``inv:r``, of the observed heads), whatever ``h`` is: ``gender`` -> ``male`` 0.6,
``female`` 0.4. A guess of the relation's usual value, so the agent's confidence in it is
capped at `PRIOR_CONFIDENCE`, below the write threshold: an answer may come from it, a
written triple never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch
from torch import Tensor

from nesykg.reasoners.base import LinkPredictor

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.tensor import TensorKG

__all__ = ["PRIOR_CONFIDENCE", "RangePrior"]

PRIOR_CONFIDENCE = 0.5
"""The most confidence a triple supported only by the range prior gets (below the write threshold)."""
MIN_REPEAT = 2.0
"""A relation (direction) has a prior only when its values repeat: at least this many edges per
distinct value (``gender``: 237 edges, 2 values; ``spouse``: about one edge per value, no prior)."""


class RangePrior(LinkPredictor):
    """Tail shares of each relation (and head shares of its inverse) in a graph's train split;
    zero for a relation whose values hardly repeat (`MIN_REPEAT`), where a share says nothing.

    Args:
        kg: the graph.

    Attributes:
        max_confidence: the cap the agent puts on its scores as confidences.
    """

    name: ClassVar[str] = "prior"
    max_confidence: ClassVar[float] = PRIOR_CONFIDENCE

    def __init__(self, kg: TensorKG):
        super().__init__(kg.vocab)
        t = kg.triples("train")
        n, r = self.num_entities, self.num_relations
        counts = torch.zeros(2 * r, n)
        if len(t):
            ones = torch.ones(len(t))
            counts.index_put_((t[:, 1], t[:, 2]), ones, accumulate=True)
            counts.index_put_((t[:, 1] + r, t[:, 0]), ones, accumulate=True)
        total, distinct = counts.sum(1), (counts > 0).sum(1).clamp(min=1)
        self._covered = total >= MIN_REPEAT * distinct
        self._shares = counts / total.unsqueeze(1).clamp(min=1.0) * self._covered.unsqueeze(1)

    def covers(self, relation: int) -> bool:
        """Whether relation id `relation` (``r + R``: the inverse of ``r``) has a prior (its values repeat)."""
        return bool(self._covered[relation])

    def usual(self, relation: str, inverse: bool = False, k: int = 3) -> list[tuple[str, float]]:
        """The `k` most common tails of `relation` (heads when `inverse`) with their shares, most
        common first; empty for a relation without a prior or unknown to the graph."""
        assert self.vocab is not None
        if relation not in self.vocab.relations:
            return []
        q = self.vocab.relation_id(relation) + (self.num_relations if inverse else 0)
        if not self.covers(q):
            return []
        shares = self._shares[q]
        top = torch.topk(shares, min(k, len(shares)))
        return [(self.vocab.entities[int(i)], float(v)) for v, i in zip(top.values, top.indices) if v > 0]

    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        """The share of each entity among the relation's observed tails, the same for every head."""
        return self._shares[relations.long()]
