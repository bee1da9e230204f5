"""Knowledge-graph storage: terms, the `GraphStore` protocol, backends, I/O and TensorKG.

>>> from nesykg import kg
>>> store = kg.open_store()
>>> store.add(("urn:x:alice", "urn:x:knows", "urn:x:bob"))
"""

from __future__ import annotations

from nesykg.kg.provenance import Provenance, RunInfo, new_run_id
from nesykg.kg.registry import open_store, store_names
from nesykg.kg.store import Capability, ChangeSet, GraphStore, StoreStats
from nesykg.kg.terms import DEFAULT_GRAPHS, DOMAIN, EXPERT, INFERRED, Literal, Triple

open = open_store  # noqa: A001  `nesykg.kg.open(path)` reads naturally

__all__ = [
    "Capability",
    "ChangeSet",
    "DEFAULT_GRAPHS",
    "DOMAIN",
    "EXPERT",
    "GraphStore",
    "INFERRED",
    "Literal",
    "Provenance",
    "RunInfo",
    "StoreStats",
    "Triple",
    "new_run_id",
    "open",
    "open_store",
    "store_names",
]
