"""Boolean sparse adjacency of a `TensorKG` over *directed* relation ids.

Directed id ``d < R`` is relation ``d``; ``d >= R`` is its inverse. `DirectedGraph.mat(d)`
is a ``scipy.sparse.csr_array [N, N]`` of int32 ones with rows as subjects, so a body
path ``d1, d2, d3`` counts its groundings with ``mat(d1) @ mat(d2) @ mat(d3)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from nesykg.kg.tensor import TensorKG

__all__ = ["DirectedGraph", "inverse"]


def inverse(d: int, num_relations: int) -> int:
    """The directed id of the inverse of `d`."""
    return d - num_relations if d >= num_relations else d + num_relations


def binarize(m: Any) -> Any:
    """`m` as a canonical CSR of int32 ones (its nonzero structure)."""
    m = sp.csr_array(m)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.data = np.ones(len(m.data), dtype=np.int32)
    return m


class DirectedGraph:
    """Per-directed-relation boolean adjacency matrices of one split, built lazily.

    Args:
        kg: the graph.
        split: which split's triples form the graph.
        extra: extra ``(h, r, t)`` id triples added to the split (forward chaining).
    """

    def __init__(self, kg: TensorKG, split: str = "train", extra: np.ndarray | None = None):
        t = kg.triples(split).numpy()
        if extra is not None and len(extra):
            t = np.concatenate([t, np.asarray(extra, dtype=np.int64).reshape(-1, 3)])
        self.num_entities = kg.num_entities
        self.num_relations = kg.num_relations
        self.triples = np.unique(t, axis=0) if len(t) else np.zeros((0, 3), dtype=np.int64)
        self._mats: dict[int, Any] = {}
        self._csc: dict[int, Any] = {}
        self._ret_cache: dict[tuple[int, ...], Any] = {}
        order = np.argsort(self.triples[:, 1], kind="stable")
        self._by_rel = self.triples[order]
        self._ptr = np.searchsorted(self._by_rel[:, 1], np.arange(self.num_relations + 1))

    def edges(self, r: int) -> np.ndarray:
        """``int64[E, 2]`` (head, tail) pairs of relation `r` (not directed)."""
        return self._by_rel[self._ptr[r] : self._ptr[r + 1]][:, [0, 2]]

    def size(self, r: int) -> int:
        return int(self._ptr[r + 1] - self._ptr[r])

    def mat(self, d: int) -> Any:
        """CSR ``[N, N]`` of directed relation `d` (rows: subjects)."""
        m = self._mats.get(d)
        if m is None:
            R, n = self.num_relations, self.num_entities
            e = self.edges(d % R)
            rows, cols = (e[:, 0], e[:, 1]) if d < R else (e[:, 1], e[:, 0])
            m = binarize(sp.coo_array((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, n)).tocsr())
            self._mats[d] = m
        return m

    def csc(self, d: int) -> Any:
        m = self._csc.get(d)
        if m is None:
            m = self.mat(d).tocsc()
            self._csc[d] = m
        return m

    def has_out(self, d: int) -> np.ndarray:
        """``bool[N]``: entities with at least one `d` edge as subject."""
        return np.diff(self.mat(d).indptr) > 0

    def neighbours(self, d: int, x: int) -> np.ndarray:
        """Objects ``y`` of ``d(x, y)``."""
        m = self.mat(d)
        return m.indices[m.indptr[x] : m.indptr[x + 1]]

    def mat_oi(self, d: int) -> Any:
        """`mat` without self-loops (object identity: ``d(x, x)`` never grounds a step)."""
        key = -1 - d
        m = self._mats.get(key)
        if m is None:
            m = self.mat(d).copy()
            m.setdiag(0)
            m.eliminate_zeros()
            self._mats[key] = m
        return m

    def chain_counts(self, chain: tuple[int, ...], rows: np.ndarray | None = None, prefix: Any = None) -> Any:
        """Grounding counts of a body path under object identity: CSR ``[len(rows) or N, N]``.

        Entry ``[i, y]`` counts the paths ``x = rows[i], v1, ..., y`` along `chain` whose
        entities are pairwise distinct (AnyBURL's object identity; a path of length up to
        3 has at most 4 variables, and every pair of them is kept apart exactly).

        Args:
            chain: directed relation ids, 1 to 3 of them.
            rows: the start entities (default: all).
            prefix: for length 3, `prefix_counts` of ``chain[:2]`` over the same rows.
        """
        starts = np.arange(self.num_entities) if rows is None else np.asarray(rows)
        m1 = self.mat_oi(chain[0])
        if rows is not None:
            m1 = m1[starts]
        if len(chain) == 1:
            return _drop_start(sp.csr_array(m1), starts)
        if len(chain) == 2:
            return _drop_start(sp.csr_array(m1 @ self.mat_oi(chain[1])), starts)
        q = prefix if prefix is not None else self.prefix_counts(chain[:2], rows)
        p = sp.csr_array(q @ self.mat_oi(chain[2]))
        c = self._returns(chain, cache=rows is not None)
        if rows is not None:
            c = c[starts]
        return _drop_start(sp.csr_array(p - c), starts)

    def _returns(self, chain: tuple[int, ...], cache: bool) -> Any:
        """Counts of the length-3 paths (x, v1, v2, y) that object identity drops because they
        come back to v1 at the end (v1 == y), all other variables distinct: for the pair
        (x, y) that is ``m1[x, y] * #{b : m2[y, b] m3[b, y], b != x}``."""
        c = self._ret_cache.get(chain)
        if c is not None:
            return c
        m1, m2, m3 = (self.mat_oi(d) for d in chain)
        diag = np.asarray(m2.multiply(m3.T).sum(axis=1)).ravel()  # D[y] = sum_b m2[y,b] m3[b,y]
        back = sp.csr_array(m2.T.multiply(m3))  # [x, y] = m2[y, x] m3[x, y]
        c = sp.csr_array(sp.csr_array(m1.multiply(diag[None, :])) - sp.csr_array(m1.multiply(back)))
        if cache:
            if len(self._ret_cache) >= 4096:
                self._ret_cache.clear()
            self._ret_cache[chain] = c
        return c

    def prefix_counts(self, chain: tuple[int, int], rows: np.ndarray | None = None) -> Any:
        """Counts of the 2-step paths ``x, v1, v2`` with distinct entities (``v2 != x``)."""
        starts = np.arange(self.num_entities) if rows is None else np.asarray(rows)
        m1 = self.mat_oi(chain[0])
        if rows is not None:
            m1 = m1[starts]
        return _drop_start(sp.csr_array(m1 @ self.mat_oi(chain[1])), starts)


def _drop_start(m: Any, starts: np.ndarray) -> Any:
    """Zero the entries ``[i, starts[i]]`` (a path may not end where it began) and zeros."""
    m.sum_duplicates()
    row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    m.data[m.indices == starts[row_of]] = 0
    m.eliminate_zeros()
    return m
