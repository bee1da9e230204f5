"""DistMult (Yang et al., 2015, "Embedding Entities and Relations for Learning and
Inference in Knowledge Bases", ICLR, https://arxiv.org/abs/1412.6575), trained 1-vs-all
with reciprocal relations and N3 (Lacroix et al., 2018).

Scoring function, with ``h, r, t`` in ``R^d``:

    f(h, r, t) = sum_k h_k * r_k * t_k

The query of ``(h, r)`` is ``q = h * r``; tails are scored by ``q . t``. DistMult is
symmetric in ``h`` and ``t``; reciprocal relations let head and tail prediction differ.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from nesykg.reasoners.embeddings.base import DotProductScoring, EmbeddingModel

__all__ = ["DistMult"]


class DistMult(DotProductScoring, EmbeddingModel):
    """DistMult: trilinear product ``<h, r, t>``. `dim` counts reals."""

    name: ClassVar[str] = "distmult"
    supports_n3: ClassVar[bool] = True

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        return self.entity(heads) * self.relation(relations)  # (B, d)

    def n3_terms(self, heads: Tensor, relations: Tensor, tails: Tensor | None) -> list[Tensor]:
        """``|x_k|^3`` of head, relation and tail factors."""
        tail_rows = self.entity.weight if tails is None else self.entity(tails)
        return [x.abs().pow(3) for x in (self.entity(heads), self.relation(relations), tail_rows)]
