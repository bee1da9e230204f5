"""`KnownTails`: the index of observed edges that filters, scales and flags predictions.

One index serves three uses: the filtered ranking of the evaluator (other true tails are
removed), the truth values of `LinkPredictor.truth_tails` (observed edges are true and
scale the softmax) and the known-flag of `nesykg.reasoners.predict.predict`.

Wherever a predictor method takes ``graph``, it accepts an `ObservedGraph`:

* a `KnownTails` (build it once and reuse it: building costs ``O(M log M)``),
* a `TensorKG` (its ``train`` split), or
* a ``LongTensor[M, 3]`` of ``(head, relation, tail)`` ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Union

import torch
from torch import Tensor

from nesykg.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.tensor import TensorKG
    from nesykg.kg.vocab import Vocabulary

__all__ = ["KnownTails", "ObservedGraph", "as_known_tails"]


class KnownTails:
    """Index of the known tails of every ``(head, relation)`` pair, reciprocals included.

    Stored sorted by ``head * 2R + relation`` (CSR-like), O(number of triples).

    Args:
        triples: ``LongTensor[M, 3]`` parts (e.g. train, valid, test); empty ones are fine.
        num_entities: ``N``.
        num_relations: ``R`` (without reciprocals); ``(h, r, t)`` also indexes ``(t, r + R, h)``.
    """

    def __init__(self, triples: Iterable[Tensor], num_entities: int, num_relations: int):
        parts = [t for t in triples if len(t)]
        allt = torch.cat(parts) if parts else torch.empty(0, 3, dtype=torch.long)
        recip = torch.stack([allt[:, 2], allt[:, 1] + num_relations, allt[:, 0]], 1)
        both = torch.unique(torch.cat([allt, recip]), dim=0)
        self.num_relations = num_relations
        self.num_entities = num_entities
        keys = both[:, 0] * (2 * num_relations) + both[:, 1]
        order = torch.argsort(keys, stable=True)
        self._keys = keys[order]
        self._tails = both[order, 2]

    def mask(self, heads: Tensor, relations: Tensor) -> tuple[Tensor, Tensor]:
        """``(row, col)`` index pairs of all known tails of each query in the batch (CPU)."""
        keys = heads.cpu() * (2 * self.num_relations) + relations.cpu()
        start = torch.searchsorted(self._keys, keys, side="left")
        end = torch.searchsorted(self._keys, keys, side="right")
        counts = end - start
        rows = torch.repeat_interleave(torch.arange(len(keys)), counts)
        firsts = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        offsets = torch.arange(int(counts.sum())) - firsts
        cols = self._tails[torch.repeat_interleave(start, counts) + offsets]
        return rows, cols


ObservedGraph = Union[KnownTails, "TensorKG", Tensor]
"""What a ``graph`` argument accepts; see the module docstring."""


def as_known_tails(
    graph: ObservedGraph, num_entities: int, num_relations: int, vocab: Vocabulary | None = None
) -> KnownTails:
    """`graph` as a `KnownTails` index over ``num_entities`` x ``num_relations``.

    Raises:
        InputError: `graph` is of another type, or its sizes do not match.
        VocabularyMismatchError: `graph` is a `TensorKG` over another vocabulary than `vocab`.
    """
    if isinstance(graph, KnownTails):
        if (graph.num_entities, graph.num_relations) != (num_entities, num_relations):
            raise InputError(
                f"the observed-edge index covers {graph.num_entities} entities and {graph.num_relations} "
                f"relations, the predictor {num_entities} and {num_relations}"
            )
        return graph
    if isinstance(graph, Tensor):
        if graph.dim() != 2 or graph.shape[1] != 3 or graph.dtype != torch.long:
            got = f"{graph.dtype} {tuple(graph.shape)}"
            raise InputError(f"observed edges must be a LongTensor[M, 3], got {got}")
        return KnownTails([graph.cpu()], num_entities, num_relations)
    from nesykg.kg.tensor import TensorKG

    if isinstance(graph, TensorKG):
        if (graph.num_entities, graph.num_relations) != (num_entities, num_relations):
            raise InputError(
                f"graph {graph.name!r} has {graph.num_entities} entities and {graph.num_relations} "
                f"relations, the predictor {num_entities} and {num_relations}"
            )
        if vocab is not None:
            graph.vocab.check_same(vocab, what="predictor")
        return KnownTails([graph.triples("train")], num_entities, num_relations)
    kind = type(graph).__name__
    raise InputError(f"observed edges must be a KnownTails, a TensorKG or a LongTensor[M, 3], got {kind}")
