"""Datasets: the small public KGs shipped with nesykg, loaders for split folders, EFO-1 query sets.

>>> from nesykg.datasets import load_dataset
>>> ds = load_dataset("umls")           # shipped; offline
>>> ds = load_dataset("/data/codex-s")  # any folder with train/valid/test files
>>> qs = sample_queries(ds, ["2p", "2in", "3c"], 100)   # easy/hard answers, BetaE's protocol
>>> write_queries_jsonl(qs, "q.jsonl"); read_betae("FB15k-237-betae")

The query sampler and the BetaE files need numpy and load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from nesykg.datasets.loader import BUILTIN, Dataset, dataset_info, list_datasets, load_dataset

_LAZY = {
    "QueryGraphs": "nesykg.datasets.queries",
    "SampledQuery": "nesykg.datasets.queries",
    "nested_graphs": "nesykg.datasets.queries",
    "read_queries_jsonl": "nesykg.datasets.queries",
    "sample_queries": "nesykg.datasets.queries",
    "write_queries_jsonl": "nesykg.datasets.queries",
    "read_betae": "nesykg.datasets.betae",
    "write_betae": "nesykg.datasets.betae",
    "safe_load_pickle": "nesykg.datasets.betae",
}

__all__ = [
    "BUILTIN",
    "Dataset",
    "QueryGraphs",
    "SampledQuery",
    "dataset_info",
    "list_datasets",
    "load_dataset",
    "nested_graphs",
    "read_betae",
    "read_queries_jsonl",
    "safe_load_pickle",
    "sample_queries",
    "write_betae",
    "write_queries_jsonl",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
