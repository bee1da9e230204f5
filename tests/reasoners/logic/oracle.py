"""Oracle link predictors over a known graph, and a small random KG whose splits nest.

`OracleConfidence` scores every true triple 1 and every other 0 and says so as truth values
(its scores are confidences); `OracleScores` scores true triples high and others low and
leaves truth to the default FIT mapping. Both are real `LinkPredictor`s over a real graph.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from nesykg.kg.tensor import TensorKG
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.base import LinkPredictor


class OracleScores(LinkPredictor):
    """``score_tails(h, r)[t]`` is `high` when ``(h, r, t)`` (or its reciprocal) is true, else 0."""

    name = "oracle"

    def __init__(self, vocab: Vocabulary, triples: Tensor, high: float = 30.0):
        super().__init__(vocab)
        n, R = vocab.num_entities, vocab.num_relations
        self.table = torch.zeros(2 * R, n, n)
        h, r, t = triples[:, 0], triples[:, 1], triples[:, 2]
        self.table[r, h, t] = high
        self.table[r + R, t, h] = high

    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        return self.table[relations, heads]


class OracleConfidence(OracleScores):
    """The same graph, truth 1 for true triples and 0 otherwise."""

    def __init__(self, vocab: Vocabulary, triples: Tensor):
        super().__init__(vocab, triples, high=1.0)

    def truth_tails(self, heads: Tensor, relations: Tensor, graph: object = None) -> Tensor:
        return self.score_tails(heads, relations).clone()


@lru_cache(maxsize=4)
def random_kg(seed: int = 0, n: int = 36, relations: int = 4, triples: int = 260) -> TensorKG:
    """A random graph with nested train/valid/test splits (80/10/10), names ``e0..`` and ``r0..``."""
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, int, int]] = set()
    while len(seen) < triples:
        h, t = rng.integers(n, size=2)
        if h != t:
            seen.add((int(h), int(rng.integers(relations)), int(t)))
    rows = sorted(seen)
    rng.shuffle(rows)
    ents = [f"e{i:02d}" for i in range(n)]
    rels = [f"r{j}" for j in range(relations)]
    named = [(ents[h], rels[r], ents[t]) for h, r, t in rows]
    a, b = int(0.8 * len(named)), int(0.9 * len(named))
    return TensorKG.from_triples(
        {"train": named[:a], "valid": named[a:b], "test": named[b:]}, "random", vocab=Vocabulary(tuple(ents), tuple(rels))
    )


def all_triples(kg: TensorKG) -> Tensor:
    return torch.cat([kg.triples(s) for s in ("train", "valid", "test")])
