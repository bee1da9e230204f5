"""`LinkPredictor`: the one scoring interface every reasoner implements.

Relation ids follow the reciprocal convention of Lacroix et al. (2018): for a graph
with ``R`` relations, id ``r + R`` is the inverse of relation ``r``, so head
prediction ``(?, r, t)`` is tail prediction ``(t, r + R, ?)``. Embedding models,
GNNs and rule-based predictors all implement `score_tails`; the evaluator, the fuzzy
query engine and the agent work with any of them.

Scores are "higher is more plausible"; they need not be probabilities.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = ["LinkPredictor"]


class LinkPredictor(ABC):
    """Scores candidate tails for ``(head, relation)`` queries.

    Attributes:
        num_entities: ``N``, the number of candidate entities.
        num_relations: ``R``, relations of the graph, *without* reciprocals.
        vocab: the vocabulary the predictor was built for, when known.
    """

    num_entities: int
    num_relations: int
    vocab: Vocabulary | None = None

    @abstractmethod
    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Scores of every entity as tail.

        Args:
            heads: ``LongTensor[B]`` head ids.
            relations: ``LongTensor[B]`` relation ids in ``[0, 2R)``; ``r + R`` is the
                inverse of ``r``.

        Returns:
            ``FloatTensor[B, N]``.
        """

    def score_heads(self, relations: Tensor, tails: Tensor) -> Tensor:
        """Scores of every entity as head of ``(?, r, t)``: ``FloatTensor[B, N]``."""
        return self.score_tails(tails, relations + self.num_relations)

    def score_triples(self, triples: Tensor) -> Tensor:
        """Scores of given triples, ``LongTensor[B, 3] -> FloatTensor[B]``.

        The default gathers from `score_tails`; models with a cheaper pointwise score
        override it.
        """
        scores = self.score_tails(triples[:, 0], triples[:, 1])
        return scores.gather(1, triples[:, 2:3]).squeeze(1)

    @torch.no_grad()
    def top_tails(self, head: int, relation: int, k: int = 10) -> tuple[Tensor, Tensor]:
        """The `k` best tails of one query: ``(scores[k], entity_ids[k])``."""
        scores = self.score_tails(torch.tensor([head]), torch.tensor([relation]))[0]
        k = min(k, scores.numel())
        return torch.topk(scores, k)
