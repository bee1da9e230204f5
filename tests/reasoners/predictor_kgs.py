"""The shipped graph the predictor contract runs on, loaded once per test session."""

from __future__ import annotations

from functools import lru_cache

from nesykg.datasets import load_dataset
from nesykg.kg.tensor import TensorKG
from tests.reasoners import embedding_kgs  # noqa: F401  (one torch thread)


@lru_cache(maxsize=1)
def countries() -> TensorKG:
    """Countries S1: 271 entities, 2 relations, 1,111 train triples."""
    return TensorKG.from_dataset(load_dataset("countries_s1"))
