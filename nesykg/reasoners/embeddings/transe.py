"""TransE (Bordes et al., 2013, "Translating Embeddings for Modeling Multi-relational
Data", NeurIPS, https://papers.nips.cc/paper/5071), here trained 1-vs-all with
cross-entropy and reciprocal relations like the other models.

Scoring function, with ``h, r, t`` in ``R^d``:

    f(h, r, t) = -|| h + r - t ||_2

The query of ``(h, r)`` is ``q = h + r``; all tails are scored at once with
``torch.cdist`` (for large batches it uses ``|q|^2 + |t|^2 - 2 q.t``, one matrix product,
so no ``B x n x d`` tensor is built). The margin ``gamma`` of the paper only shifts scores,
which a softmax ignores, so it is left out.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from nesykg.reasoners.embeddings.base import EmbeddingModel

__all__ = ["TransE"]


class TransE(EmbeddingModel):
    """TransE: relations as translations, score ``-||h + r - t||_2``. `dim` counts reals.

    Default init ``N(0, 0.1)``: distances must not start at exactly 0, where the norm has
    no gradient.
    """

    name: ClassVar[str] = "transe"
    default_init_std: ClassVar[float] = 0.1

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        return self.entity(heads) + self.relation(relations)  # (B, d)

    def score_candidates(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return -torch.cdist(queries, candidates, p=2.0)  # (B, n)

    def score_pairs(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return -torch.linalg.vector_norm(queries - candidates, ord=2, dim=-1)  # (B,)
