"""ComplEx (Trouillon et al., 2016, "Complex Embeddings for Simple Link Prediction",
ICML, https://arxiv.org/abs/1606.06357), trained 1-vs-all with reciprocal relations and
N3 (Lacroix et al., 2018, "Canonical Tensor Decomposition for Knowledge Base Completion",
ICML, https://arxiv.org/abs/1806.07297).

Scoring function, with ``h, r, t`` in ``C^d``:

    f(h, r, t) = Re( sum_k h_k * r_k * conj(t_k) )

Stored as reals ``[re | im]``: an entity is ``[a | b]``, a relation ``[c | d]``. The query
of ``(h, r)`` is the real vector ``q = [a*c - b*d | a*d + b*c]``, and the score of tail
``[e | f]`` is ``q . [e | f]`` -- one matrix product against the entity table.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from nesykg.reasoners.embeddings.base import DotProductScoring, EmbeddingModel

__all__ = ["ComplEx"]


def _halves(x: Tensor) -> tuple[Tensor, Tensor]:
    d = x.shape[-1] // 2
    return x[..., :d], x[..., d:]


class ComplEx(DotProductScoring, EmbeddingModel):
    """ComplEx: bilinear product in complex space, ``Re(<h, r, conj(t)>)``.

    `dim` counts complex numbers (PyKEEN's and Lacroix's "rank"), so each table row holds
    ``2 * dim`` reals. Default init ``N(0, 1e-3)`` as in Lacroix et al.
    """

    name: ClassVar[str] = "complex"
    entity_width_factor: ClassVar[int] = 2
    relation_width_factor: ClassVar[int] = 2
    supports_n3: ClassVar[bool] = True

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        a, b = _halves(self.entity(heads))  # (B, d) each
        c, d = _halves(self.relation(relations))
        return torch.cat([a * c - b * d, a * d + b * c], dim=-1)  # (B, 2d)

    def n3_terms(self, heads: Tensor, relations: Tensor, tails: Tensor | None) -> list[Tensor]:
        """``|x_k|^3`` of the complex moduli of head, relation and tail factors."""
        tail_rows = self.entity.weight if tails is None else self.entity(tails)
        out = []
        for x in (self.entity(heads), self.relation(relations), tail_rows):
            re, im = _halves(x)
            out.append((re * re + im * im).pow(1.5))  # |z|^3, smooth at 0
        return out

