"""`EmbeddingModel`: what every embedding link predictor shares.

A model is an entity table ``E [N, W_e]`` and a relation table ``P [2R, W_r]`` (reciprocal
relations, Lacroix et al. 2018: row ``r + R`` is the inverse of ``r``). Each model says how
a query ``(h, r)`` becomes a vector (`query`) and how a query vector scores candidate
entities (`score_candidates`, `score_pairs`). Scoring is then entity-chunked for free.

Memory bound: `score_tails_range` touches only entities ``[start, end)``, so its peak
memory is ``B x (end - start)`` scores plus the query vectors ``B x W``; `top_tails_chunked`
keeps ``B x k`` running best scores, so top-k prediction over a million entities needs
``B x chunk`` floats, never ``B x N``. The parameters themselves are ``(N + 2R) x W`` floats.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor, nn

from nesykg.reasoners.base import LinkPredictor

__all__ = ["EmbeddingModel"]


class EmbeddingModel(LinkPredictor, nn.Module):
    """Base class of the embedding link predictors.

    Args:
        num_entities: ``N``.
        num_relations: ``R``, without reciprocals (the relation table has ``2R`` rows).
        dim: embedding size in the model's own numbers (complex numbers for ComplEx and
            RotatE, reals otherwise).
        init_std: standard deviation of the normal initialisation (default: the model's
            `default_init_std`).
        generator: seeded generator for the initialisation.
    """

    name: ClassVar[str]
    #: reals stored per unit of `dim` for entities and relations (2 for complex numbers)
    entity_width_factor: ClassVar[int] = 1
    relation_width_factor: ClassVar[int] = 1
    default_init_std: ClassVar[float] = 1e-3
    #: whether the N3 regulariser (Lacroix et al. 2018) applies to this model
    supports_n3: ClassVar[bool] = False

    def __init__(
        self,
        num_entities: int,
        num_relations: int,
        dim: int,
        init_std: float | None = None,
        generator: torch.Generator | None = None,
    ):
        nn.Module.__init__(self)
        self.num_entities = int(num_entities)
        self.num_relations = int(num_relations)
        self.dim = int(dim)
        self.entity = nn.Embedding(self.num_entities, self.entity_width_factor * self.dim)
        self.relation = nn.Embedding(2 * self.num_relations, self.relation_width_factor * self.dim)
        self.reset_parameters(self.default_init_std if init_std is None else init_std, generator)

    def reset_parameters(self, init_std: float, generator: torch.Generator | None = None) -> None:
        """Normal initialisation ``N(0, init_std^2)`` of both tables."""
        with torch.no_grad():
            nn.init.normal_(self.entity.weight, 0.0, init_std, generator=generator)
            nn.init.normal_(self.relation.weight, 0.0, init_std, generator=generator)

    @property
    def device(self) -> torch.device:
        return self.entity.weight.device

    # ------------------------------------------------------------ per-model
    @abstractmethod
    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Query vectors of ``(h, r)`` pairs: ``LongTensor[B] x 2 -> FloatTensor[B, W]``."""

    @abstractmethod
    def score_candidates(self, queries: Tensor, candidates: Tensor) -> Tensor:
        """Scores of every candidate for every query: ``[B, W] x [n, W] -> [B, n]``."""

    @abstractmethod
    def score_pairs(self, queries: Tensor, candidates: Tensor) -> Tensor:
        """Row-wise scores: ``[B, W] x [B, W] -> [B]``."""

    def n3_terms(self, heads: Tensor, relations: Tensor, tails: Tensor | None) -> list[Tensor]:
        """Elementwise ``|x|^3`` of the factors of a batch, one ``[*, W]`` tensor per factor.

        `tails` ``None`` means every entity (PyKEEN's LCWA regularises the full table).
        Only models with `supports_n3` implement it.
        """
        from nesykg.errors import UnsupportedCapabilityError

        raise UnsupportedCapabilityError(type(self).__name__, "N3 regularisation", kind="model")

    # ------------------------------------------------------------ LinkPredictor
    def score_tails_range(self, heads: Tensor, relations: Tensor, start: int, end: int) -> Tensor:
        """Scores of entities ``[start, end)`` as tails: ``FloatTensor[B, end - start]``."""
        dev = self.device
        q = self.query(heads.to(dev), relations.to(dev))
        return self.score_candidates(q, self.entity.weight[start:end])

    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Scores of every entity as tail, ``FloatTensor[B, N]`` (on the model's device)."""
        return self.score_tails_range(heads, relations, 0, self.num_entities)

    forward = score_tails

    def score_triples(self, triples: Tensor) -> Tensor:
        """Pointwise scores of ``LongTensor[B, 3]`` triples: ``FloatTensor[B]``."""
        t = triples.to(self.device)
        return self.score_pairs(self.query(t[:, 0], t[:, 1]), self.entity(t[:, 2]))

    @torch.no_grad()
    def top_tails_chunked(
        self, heads: Tensor, relations: Tensor, k: int = 10, chunk: int = 65536
    ) -> tuple[Tensor, Tensor]:
        """The `k` best tails of each query, scoring ``chunk`` entities at a time.

        Returns ``(scores[B, k], entity_ids[B, k])``; memory ``B x (chunk + k)`` scores.
        """
        k = min(k, self.num_entities)
        dev = self.device
        q = self.query(heads.to(dev), relations.to(dev))
        best_s = torch.full((len(q), 0), float("-inf"), device=dev)
        best_i = torch.empty((len(q), 0), dtype=torch.long, device=dev)
        for start in range(0, self.num_entities, chunk):
            end = min(self.num_entities, start + chunk)
            s = self.score_candidates(q, self.entity.weight[start:end])
            ids = torch.arange(start, end, device=dev).expand(len(q), -1)
            s, pos = torch.topk(torch.cat([best_s, s], 1), min(k, best_s.shape[1] + end - start), dim=1)
            best_i = torch.cat([best_i, ids], 1).gather(1, pos)
            best_s = s
        return best_s, best_i

    @torch.no_grad()
    def top_tails(self, head: int, relation: int, k: int = 10) -> tuple[Tensor, Tensor]:
        """The `k` best tails of one query: ``(scores[k], entity_ids[k])``, entity-chunked."""
        s, i = self.top_tails_chunked(torch.tensor([head]), torch.tensor([relation]), k)
        return s[0].cpu(), i[0].cpu()

    def extra_repr(self) -> str:
        return f"entities={self.num_entities}, relations={self.num_relations}, dim={self.dim}"


class DotProductScoring:
    """Mixin for bilinear models (DistMult, ComplEx): the score is ``<query, candidate>``,
    so scoring every candidate is one matrix product."""

    def score_candidates(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return queries @ candidates.t()  # (B, n)

    def score_pairs(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return (queries * candidates).sum(-1)  # (B,)
