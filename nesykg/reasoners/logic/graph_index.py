"""`GraphIndex`: the observed graph as sorted id arrays, for exact answering and query sampling.

A graph of ``M`` distinct triples over ``N`` entities and ``R`` relations is kept as four
sorted copies (keyed by relation and head, relation and tail, head and tail, tail and head),
each a CSR-style ``(keys, ptr, values)`` triple of numpy arrays: O(M) memory (under 100 bytes
per triple), built in O(M log M). A lookup (``successors(h, r)``, ``relations(h, t)``) is a
binary search, O(log M + answer size); `successors_of` maps a whole set of heads at once.

Only numpy is needed; a ``torch.LongTensor[M, 3]`` is accepted wherever triples are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from nesykg.errors import InputError
from nesykg.kg.vocab import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.tensor import TensorKG

__all__ = ["GraphIndex"]

_EMPTY = np.zeros(0, dtype=np.int64)


class _Csr:
    """Values grouped by an int64 key: ``values[ptr[i]:ptr[i+1]]`` belong to ``keys[i]``."""

    __slots__ = ("keys", "ptr", "values")

    def __init__(self, key: np.ndarray, values: np.ndarray, order_key: np.ndarray):
        order = np.argsort(order_key, kind="stable")
        k = key[order]
        self.values = values[order]
        self.keys, starts = np.unique(k, return_index=True)
        self.ptr = np.append(starts, len(k)).astype(np.int64)

    def get(self, key: int) -> np.ndarray:
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            return self.values[self.ptr[i] : self.ptr[i + 1]]
        return _EMPTY

    def key_range(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Keys in ``[lo, hi)`` and the values of all of them, concatenated."""
        i, j = np.searchsorted(self.keys, [lo, hi])
        return self.keys[i:j], self.values[self.ptr[i] : self.ptr[j]]

    def get_many(self, keys: np.ndarray) -> np.ndarray:
        """Concatenated values of every key in `keys` (with repeats)."""
        if len(keys) == 0 or len(self.keys) == 0:
            return _EMPTY
        idx = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        idx = idx[self.keys[idx] == keys]
        starts, ends = self.ptr[idx], self.ptr[idx + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return _EMPTY
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        return self.values[np.arange(total) + offsets]


class GraphIndex:
    """Adjacency of an observed graph of id triples.

    Args:
        triples: ``[M, 3]`` ``(head, relation, tail)`` ids (numpy array, LongTensor or list).
        num_entities: size of the entity universe (ids ``0..N-1``); negation is taken against it.
        num_relations: number of relation ids.
        vocab: names of the ids, for answering formulas written with names (optional).
    """

    def __init__(
        self,
        triples: Any,
        num_entities: int,
        num_relations: int,
        vocab: Vocabulary | None = None,
    ):
        t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
        if len(t):
            t = np.unique(t, axis=0)
            if t.min() < 0 or t[:, [0, 2]].max() >= num_entities or t[:, 1].max() >= num_relations:
                raise InputError(
                    f"triple ids out of range: entities must lie in [0, {num_entities}), "
                    f"relations in [0, {num_relations})"
                )
        if vocab is not None and (vocab.num_entities, vocab.num_relations) != (num_entities, num_relations):
            raise InputError(
                f"vocabulary of {vocab.num_entities} entities and {vocab.num_relations} relations given for "
                f"a graph of {num_entities} and {num_relations}"
            )
        self.num_entities = int(num_entities)
        self.num_relations = int(num_relations)
        self.vocab = vocab
        self.triples = t
        n = self.num_entities
        h, r, o = t[:, 0], t[:, 1], t[:, 2]
        self._fwd = _Csr(r * n + h, o, (r * n + h) * n + o)  # (r, h) -> tails
        self._bwd = _Csr(r * n + o, h, (r * n + o) * n + h)  # (r, t) -> heads
        self._out = _Csr(h * n + o, r, (h * n + o) * self.num_relations + r)  # (h, t) -> relations
        self._in = _Csr(o * n + h, r, (o * n + h) * self.num_relations + r)  # (t, h) -> relations
        self._answerable = np.unique(self._in.keys // n) if len(t) else _EMPTY

    # ------------------------------------------------------------ building
    @classmethod
    def from_tensor_kg(cls, kg: TensorKG, splits: Iterable[str] = ("train",)) -> GraphIndex:
        """The union of `splits` of a `TensorKG`, with its vocabulary."""
        parts = [np.asarray(kg.triples(s), dtype=np.int64).reshape(-1, 3) for s in splits]
        t = np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)
        return cls(t, kg.num_entities, kg.num_relations, kg.vocab)

    @classmethod
    def from_names(cls, triples: Iterable[tuple[str, str, str]], vocab: Vocabulary) -> GraphIndex:
        """Name triples mapped through `vocab` (every name must be in it)."""
        e, r = vocab.entity_to_id, vocab.relation_to_id
        try:
            ids = [(e[h], r[p], e[o]) for h, p, o in triples]
        except KeyError as err:
            raise InputError(f"{err.args[0]!r} is not in the vocabulary") from None
        return cls(
            np.array(ids, dtype=np.int64).reshape(-1, 3), vocab.num_entities, vocab.num_relations, vocab
        )

    def __len__(self) -> int:
        return len(self.triples)

    def __repr__(self) -> str:
        return (
            f"GraphIndex(entities={self.num_entities}, relations={self.num_relations}, triples={len(self)})"
        )

    # ------------------------------------------------------------ lookups
    def successors(self, head: int, relation: int) -> np.ndarray:
        """Tails ``t`` with ``(head, relation, t)``, sorted."""
        return self._fwd.get(relation * self.num_entities + head)

    def predecessors(self, tail: int, relation: int) -> np.ndarray:
        """Heads ``h`` with ``(h, relation, tail)``, sorted."""
        return self._bwd.get(relation * self.num_entities + tail)

    def successors_of(self, heads: Iterable[int] | np.ndarray, relation: int) -> np.ndarray:
        """Distinct tails reached from any of `heads` by `relation`, sorted."""
        hs = np.fromiter(heads, dtype=np.int64) if not isinstance(heads, np.ndarray) else heads
        return np.unique(self._fwd.get_many(relation * self.num_entities + hs))

    def predecessors_of(self, tails: Iterable[int] | np.ndarray, relation: int) -> np.ndarray:
        """Distinct heads reaching any of `tails` by `relation`, sorted."""
        ts = np.fromiter(tails, dtype=np.int64) if not isinstance(tails, np.ndarray) else tails
        return np.unique(self._bwd.get_many(relation * self.num_entities + ts))

    def relations(self, head: int, tail: int) -> np.ndarray:
        """Relations ``r`` with ``(head, r, tail)``, sorted."""
        return self._out.get(head * self.num_entities + tail)

    def has_edge(self, head: int, relation: int, tail: int) -> bool:
        rels = self.relations(head, tail)
        i = int(np.searchsorted(rels, relation))
        return i < len(rels) and int(rels[i]) == relation

    def in_neighbors(self, tail: int) -> np.ndarray:
        """Distinct heads of any edge into `tail`, sorted."""
        n = self.num_entities
        keys, _ = self._in.key_range(tail * n, (tail + 1) * n)
        return keys - tail * n

    def out_neighbors(self, head: int) -> np.ndarray:
        """Distinct tails of any edge out of `head`, sorted."""
        n = self.num_entities
        keys, _ = self._out.key_range(head * n, (head + 1) * n)
        return keys - head * n

    def tails(self, relation: int) -> np.ndarray:
        """Distinct objects of `relation`, sorted."""
        n = self.num_entities
        return np.unique(self._fwd.key_range(relation * n, (relation + 1) * n)[1])

    def heads(self, relation: int) -> np.ndarray:
        """Distinct subjects of `relation`, sorted."""
        n = self.num_entities
        return np.unique(self._bwd.key_range(relation * n, (relation + 1) * n)[1])

    def entities_with_in_edges(self) -> np.ndarray:
        """Entities that are the tail of at least one edge, sorted."""
        return self._answerable

    # ------------------------------------------------------------ names
    def entity_id(self, name: str) -> int:
        return self.require_vocab().entity_id(name)

    def relation_id(self, name: str) -> int:
        return self.require_vocab().relation_id(name)

    def require_vocab(self) -> Vocabulary:
        """The vocabulary; `InputError` when the index was built from bare ids."""
        if self.vocab is None:
            raise InputError("this GraphIndex has no vocabulary: build it with vocab=... to answer by name")
        return self.vocab
