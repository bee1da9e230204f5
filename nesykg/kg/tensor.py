"""`TensorKG`: a snapshot of a store or dataset as contiguous integer ids.

Shapes: a split is a ``LongTensor[N, 3]`` of ``(head, relation, tail)`` ids.
Adjacency per relation is a sparse CSR ``[num_entities, num_entities]`` built on
first use and cached, so memory stays O(E + N) per relation actually used.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import torch
from torch import LongTensor, Tensor

from nesykg.errors import InputError
from nesykg.kg.terms import DATASET_NS, Literal as RdfLiteral, local_name
from nesykg.kg.vocab import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.store import GraphSelection, GraphStore

__all__ = ["TensorKG", "Vocabulary"]


class SplitSource(Protocol):
    """What `TensorKG.from_dataset` reads (a `nesykg.datasets.Dataset` is one): the kg
    layer knows no dataset module."""

    name: str

    @property
    def namespace(self) -> str: ...

    @property
    def splits(self) -> Mapping[str, Iterable[tuple[str, str, str]]]: ...


Split = Literal["train", "valid", "test"]


def common_dataset_namespace(iris: Iterable[str]) -> str | None:
    """The one dataset namespace (``urn:nesykg:ds:NAME:``) every IRI lies in, else ``None``."""
    ns: str | None = None
    for iri in iris:
        if not iri.startswith(DATASET_NS):
            return None
        head, sep, _ = iri[len(DATASET_NS) :].partition(":")
        cand = f"{DATASET_NS}{head}:"
        if not sep or (ns is not None and cand != ns):
            return None
        ns = cand
    return ns


@dataclass
class TensorKG:
    """Integer-id view of a knowledge graph.

    Attributes:
        vocab: entity and relation names in id order.
        splits: split name -> ``LongTensor[N, 3]`` of ``(head, relation, tail)``.
        name: dataset or store name, for display.
    """

    vocab: Vocabulary
    splits: dict[str, Tensor]
    name: str = "kg"
    _adj_cache: dict[tuple[str, int, str], Any] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------ building
    @classmethod
    def from_triples(
        cls,
        splits: dict[str, Iterable[tuple[str, str, str]]],
        name: str = "kg",
        namespace: str | None = None,
        vocab: Vocabulary | None = None,
    ) -> TensorKG:
        """Map name triples to ids; the vocabulary covers every split unless given."""
        lists = {k: list(v) for k, v in splits.items()}
        if vocab is None:
            ents = {x for ts in lists.values() for h, _, t in ts for x in (h, t)}
            rels = {r for ts in lists.values() for _, r, _ in ts}
            vocab = Vocabulary.from_names(ents, rels, namespace)
        e2i, r2i = vocab.entity_to_id, vocab.relation_to_id
        tensors = {}
        for split, ts in lists.items():
            try:
                ids = [(e2i[h], r2i[r], e2i[t]) for h, r, t in ts]
            except KeyError as e:
                raise InputError(f"split {split!r}: {e.args[0]!r} is not in the vocabulary") from None
            tensors[split] = torch.tensor(ids, dtype=torch.long).reshape(-1, 3)
        return cls(vocab, tensors, name)

    @classmethod
    def from_dataset(cls, dataset: SplitSource) -> TensorKG:
        """Snapshot of a `nesykg.datasets.Dataset` (train/valid/test; vocabulary over all
        splits), or of anything else with its ``name``, ``namespace`` and ``splits``."""
        return cls.from_triples(dataset.splits, dataset.name, dataset.namespace)

    @classmethod
    def from_store(
        cls,
        store: GraphStore,
        graphs: GraphSelection = None,
        namespace: str | None = None,
        vocab: Vocabulary | None = None,
        name: str | None = None,
    ) -> TensorKG:
        """Snapshot of the union of `graphs` as one ``train`` split.

        Triples with a literal object are left out (they are attributes, not edges).
        Names are IRIs with `namespace` stripped; by default, when every IRI lies in
        one dataset namespace (``urn:nesykg:ds:NAME:``), that one.
        """
        edges = [(s, p, o) for s, p, o in store.triples(graphs=graphs) if not isinstance(o, RdfLiteral)]
        edges.sort()
        if namespace is None and vocab is None:
            namespace = common_dataset_namespace(x for t in edges for x in t)
        if vocab is not None:
            namespace = vocab.namespace
        if namespace:
            edges = [(local_name(s, namespace), local_name(p, namespace), local_name(o, namespace)) for s, p, o in edges]
        label = name or (namespace[len(DATASET_NS) : -1] if namespace and namespace.startswith(DATASET_NS) else store.name)
        return cls.from_triples({"train": edges}, label, namespace, vocab)

    # ------------------------------------------------------------- access
    @property
    def num_entities(self) -> int:
        return self.vocab.num_entities

    @property
    def num_relations(self) -> int:
        return self.vocab.num_relations

    def triples(self, split: str = "train") -> LongTensor:
        """``LongTensor[N, 3]`` of a split."""
        try:
            return self.splits[split]  # type: ignore[return-value]
        except KeyError:
            raise InputError(f"no split {split!r}; this TensorKG has {sorted(self.splits)}") from None

    def _sorted(self, split: str) -> tuple[Tensor, Tensor]:
        key = (split, -1, "sorted")
        if key not in self._adj_cache:
            t = self.triples(split)
            n = self.num_entities
            order = torch.argsort((t[:, 1] * n + t[:, 0]) * n + t[:, 2])
            st = t[order]
            ptr = torch.searchsorted(st[:, 1].contiguous(), torch.arange(self.num_relations + 1))
            self._adj_cache[key] = (st, ptr)
        return self._adj_cache[key]

    def relation_edges(self, relation: int, split: str = "train") -> Tensor:
        """``LongTensor[E_r, 2]`` of ``(head, tail)`` for one relation, sorted."""
        st, ptr = self._sorted(split)
        rows = st[ptr[relation] : ptr[relation + 1]]
        return rows[:, [0, 2]]

    def adjacency(self, relation: int, split: str = "train", layout: Literal["torch", "scipy"] = "torch") -> Any:
        """Adjacency of one relation as a CSR matrix ``[N, N]``; rows are heads.

        ``layout="torch"`` gives a ``torch.sparse_csr_tensor`` of float ones,
        ``"scipy"`` a ``scipy.sparse.csr_array`` of int32 ones (for sparse counting).
        """
        if not 0 <= relation < self.num_relations:
            raise InputError(f"relation id {relation} out of range [0, {self.num_relations})")
        key = (split, relation, layout)
        if key not in self._adj_cache:
            edges = self.relation_edges(relation, split)
            n = self.num_entities
            heads, tails = edges[:, 0], edges[:, 1]
            indptr = torch.zeros(n + 1, dtype=torch.long)
            indptr[1:] = torch.cumsum(torch.bincount(heads, minlength=n), 0)
            if layout == "torch":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "sparse CSR is in beta"
                    mat: Any = torch.sparse_csr_tensor(
                        indptr, tails, torch.ones(len(tails)), size=(n, n), check_invariants=False
                    )
            else:
                import numpy as np
                import scipy.sparse as sp

                mat = sp.csr_array(
                    (np.ones(len(tails), dtype=np.int32), tails.numpy(), indptr.numpy()), shape=(n, n)
                )
            self._adj_cache[key] = mat
        return self._adj_cache[key]

    def to_pyg(self, split: str = "train") -> Any:
        """A ``torch_geometric.data.Data`` with ``edge_index [2, E]``, ``edge_type [E]``
        and ``num_nodes``."""
        from torch_geometric.data import Data

        t = self.triples(split)
        return Data(edge_index=t[:, [0, 2]].t().contiguous(), edge_type=t[:, 1].clone(), num_nodes=self.num_entities)

    # ------------------------------------------------------------ storing
    def save(self, folder: str | Path) -> Path:
        """Write ``vocab.json`` and ``splits.pt`` into `folder`."""
        p = Path(folder)
        p.mkdir(parents=True, exist_ok=True)
        self.vocab.save(p)
        torch.save({k: v.clone() for k, v in self.splits.items()}, p / "splits.pt")
        (p / "tensorkg.json").write_text(json.dumps({"name": self.name}), encoding="utf-8")
        return p

    @classmethod
    def load(cls, folder: str | Path, expect: Vocabulary | None = None) -> TensorKG:
        """Read a saved snapshot; with `expect`, refuse one of another vocabulary."""
        p = Path(folder)
        vocab = Vocabulary.load(p)
        if expect is not None:
            expect.check_same(vocab, what="saved snapshot")
        try:
            splits = torch.load(p / "splits.pt", weights_only=True)
            meta = json.loads((p / "tensorkg.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RuntimeError) as e:
            raise InputError(f"{p}: cannot read the snapshot: {e}") from None
        return cls(vocab, splits, meta.get("name", "kg"))

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"TensorKG({self.name!r}, entities={self.num_entities}, relations={self.num_relations}, {sizes})"
