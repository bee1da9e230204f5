"""RotatE (Sun et al., 2019, "RotatE: Knowledge Graph Embedding by Relational Rotation in
Complex Space", ICLR, https://arxiv.org/abs/1902.10197), here trained 1-vs-all with
cross-entropy and reciprocal relations like the other models.

Scoring function, with ``h, t`` in ``C^d`` and ``r_k = exp(i * theta_k)`` of modulus 1:

    f(h, r, t) = -|| h o r - t ||_2

(``o`` the elementwise product: each relation rotates the head), the L2 norm of the complex
difference as in PyKEEN's RotatE interaction. Entities are stored as ``[re | im]`` and
relations as ``d`` phases ``theta``; the query ``h o r`` is a real vector ``[2d]`` and the
norm of a complex vector equals the norm of its real ``[re | im]`` form, so all tails are
scored with one ``torch.cdist``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn

from nesykg.reasoners.embeddings.base import EmbeddingModel

__all__ = ["RotatE"]


class RotatE(EmbeddingModel):
    """RotatE: relations as rotations in ``C^d``. `dim` counts complex numbers.

    Entities start ``N(0, 0.1)``; phases start uniform in ``[-pi, pi)``.
    """

    name: ClassVar[str] = "rotate"
    entity_width_factor: ClassVar[int] = 2
    relation_width_factor: ClassVar[int] = 1
    default_init_std: ClassVar[float] = 0.1

    def reset_parameters(self, init_std: float, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            nn.init.normal_(self.entity.weight, 0.0, init_std, generator=generator)
            nn.init.uniform_(self.relation.weight, -math.pi, math.pi, generator=generator)

    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        h = self.entity(heads)  # (B, 2d)
        d = h.shape[-1] // 2
        a, b = h[:, :d], h[:, d:]
        theta = self.relation(relations)  # (B, d)
        c, s = torch.cos(theta), torch.sin(theta)
        return torch.cat([a * c - b * s, a * s + b * c], dim=-1)  # (B, 2d)

    def score_candidates(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return -torch.cdist(queries, candidates, p=2.0)  # (B, n)

    def score_pairs(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return -torch.linalg.vector_norm(queries - candidates, ord=2, dim=-1)  # (B,)
