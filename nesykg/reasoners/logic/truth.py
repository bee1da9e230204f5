"""`TruthCache`: sparse truth rows ``T(h, r, .)`` computed on demand, kept in an LRU bounded in bytes.

The fuzzy reasoners need truth values ``T(h, r, t)`` in ``[0, 1]`` for the few heads a query
touches (its anchors, the top members of its fuzzy sets), never the ``N x N`` matrix of a
relation (40 GB at 100,000 entities). A row is computed when first asked for, through a
*row function* ``(heads[B], relations[B]) -> FloatTensor[B, N]`` (FIT's: the predictor's
`truth_tails` with the observed edges), then **sparsified**: values at or below `threshold`
become 0 (FIT drops values <= 0.005 the same way) and at most `row_k` of the largest are kept.
A stored row costs ``8 x nnz + 64`` bytes (int32 ids, float32 values, bookkeeping) and the
cache evicts least recently used rows beyond `max_bytes`.

Memory: ``max_bytes`` for the cache, plus, while rows are computed, ``batch x N`` floats with
``batch = max(1, max_floats // N)`` (16 MiB by default).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import Tensor

from nesykg.errors import InputError

__all__ = ["RowFunction", "TruthCache", "ROW_OVERHEAD"]

RowFunction = Callable[[Tensor, Tensor], Tensor]
#: bytes counted per stored row besides its entries
ROW_OVERHEAD = 64


class TruthCache:
    """Sparse truth rows keyed by ``(head, relation)``, least recently used evicted first.

    Args:
        rows: the row function, ``(heads LongTensor[B], relations LongTensor[B]) -> [B, N]``.
        num_entities: ``N``.
        threshold: values ``<= threshold`` are stored as 0.
        row_k: at most this many non-zero values per row (the largest).
        max_bytes: cache budget; rows beyond it are evicted (a single row always fits).
        max_floats: floats computed at a time (``batch x N``).
    """

    def __init__(
        self,
        rows: RowFunction,
        num_entities: int,
        *,
        threshold: float = 0.005,
        row_k: int = 2048,
        max_bytes: int = 256 << 20,
        max_floats: int = 1 << 22,
    ):
        if row_k < 1 or max_bytes < 0 or not 0.0 <= threshold < 1.0:
            raise InputError(
                f"TruthCache needs row_k >= 1, max_bytes >= 0 and 0 <= threshold < 1, got {row_k}, "
                f"{max_bytes}, {threshold}"
            )
        self._rows = rows
        self.num_entities = int(num_entities)
        self.threshold = float(threshold)
        self.row_k = int(row_k)
        self.max_bytes = int(max_bytes)
        self.max_floats = int(max_floats)
        self._store: OrderedDict[tuple[int, int], tuple[Tensor, Tensor]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()
        self.bytes = 0

    # ------------------------------------------------------------ computing
    def _mask(self, dense: Tensor) -> Tensor:
        """`dense` with every value the cache drops set to 0: those ``<= threshold`` and, when
        ``row_k < N``, those outside the row's ``row_k`` largest (one batched `topk`)."""
        keep = dense > self.threshold
        if self.row_k < dense.shape[1]:
            _, top = torch.topk(dense, self.row_k, dim=1)
            keep &= torch.zeros_like(keep).scatter_(1, top, True)
        return torch.where(keep, dense, torch.zeros((), dtype=dense.dtype, device=dense.device))

    def _sparsify(self, masked: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Rows of a masked batch as ``(ids int32, values float32)``, ids ascending; each row a
        tensor of its own (no view of the batch), so evicting it frees it."""
        masked = masked.float().cpu()
        nz = masked.nonzero()
        counts = torch.bincount(nz[:, 0], minlength=len(masked)).tolist()
        ids = nz[:, 1].to(torch.int32).split(counts)
        vals = masked[nz[:, 0], nz[:, 1]].split(counts)
        return [(i.clone(), v.clone()) for i, v in zip(ids, vals)]

    def _put(self, key: tuple[int, int], row: tuple[Tensor, Tensor]) -> None:
        size = ROW_OVERHEAD + 8 * len(row[0])
        old = self._store.pop(key, None)
        if old is not None:
            self.bytes -= ROW_OVERHEAD + 8 * len(old[0])
        self._store[key] = row
        self.bytes += size
        while self.bytes > self.max_bytes and len(self._store) > 1:
            _, (ids, _v) = self._store.popitem(last=False)
            self.bytes -= ROW_OVERHEAD + 8 * len(ids)

    def _fetch(
        self, heads: list[int], relations: list[int], want_dense: bool
    ) -> tuple[list[tuple[int, int]], dict[tuple[int, int], tuple[Tensor, Tensor]], dict[tuple[int, int], Tensor]]:
        """The keys, the sparse row of each distinct key and, with `want_dense`, the masked
        dense row of each key computed now (a view of its batch). Missing rows are computed in
        batches of ``max_floats // N`` through one call of the row function each."""
        keys = list(zip((int(h) for h in heads), (int(r) for r in relations)))
        found: dict[tuple[int, int], tuple[Tensor, Tensor]] = {}
        fresh: dict[tuple[int, int], Tensor] = {}
        missing: list[tuple[int, int]] = []
        seen_missing: set[tuple[int, int]] = set()
        for key in keys:
            row = self._store.get(key)
            if row is None:
                if key not in seen_missing:
                    seen_missing.add(key)
                    missing.append(key)
            else:
                self._store.move_to_end(key)
                found[key] = row
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        step = max(1, self.max_floats // max(1, self.num_entities))
        for i in range(0, len(missing), step):
            part = missing[i : i + step]
            h = torch.tensor([k[0] for k in part], dtype=torch.long)
            r = torch.tensor([k[1] for k in part], dtype=torch.long)
            masked = self._mask(self._rows(h, r))
            for j, (key, row) in enumerate(zip(part, self._sparsify(masked))):
                found[key] = row
                self._put(key, row)
                if want_dense:
                    fresh[key] = masked[j]
        return keys, found, fresh

    def get(self, heads: list[int], relations: list[int]) -> list[tuple[Tensor, Tensor]]:
        """Sparse rows ``(ids int32[nnz], values float32[nnz])`` of each ``(heads[i], relations[i])``."""
        keys, found, _ = self._fetch(heads, relations, want_dense=False)
        return [found[k] for k in keys]

    def prefetch(self, heads: list[int], relations: list[int]) -> None:
        """Compute the missing rows among these now, in as few row-function calls as the memory
        bound allows (the rows a query step will read one by one)."""
        self._fetch(heads, relations, want_dense=False)

    def dense(self, heads: list[int], relations: list[int]) -> Tensor:
        """The rows as a dense ``FloatTensor[B, N]`` (dropped values are 0)."""
        keys, found, fresh = self._fetch(heads, relations, want_dense=True)
        out = torch.zeros(len(keys), self.num_entities)
        sparse_at = [i for i, k in enumerate(keys) if k not in fresh]
        if sparse_at:
            rows = [found[keys[i]] for i in sparse_at]
            counts = torch.tensor([len(ids) for ids, _ in rows])
            at = torch.tensor(sparse_at)[torch.repeat_interleave(counts)]  # (the one-argument form: no thread-pool round trip)
            out[at, torch.cat([ids for ids, _ in rows]).long()] = torch.cat([v for _, v in rows])
        if fresh:
            dense_at = [i for i, k in enumerate(keys) if k in fresh]
            out[dense_at] = torch.stack([fresh[keys[i]] for i in dense_at]).float().cpu()
        return out

    def value(self, head: int, relation: int, tail: int) -> float:
        """``T(head, relation, tail)`` (0 where the row dropped it)."""
        ((ids, vals),) = self.get([head], [relation])
        hit = (ids == tail).nonzero()
        return float(vals[hit[0, 0]]) if len(hit) else 0.0
