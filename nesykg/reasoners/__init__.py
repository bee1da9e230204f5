"""Reasoners: link predictors (embeddings, GNNs, rules) and fuzzy logic over them.

The public surface, imported on first use (torch loads only then)::

    from nesykg.reasoners import load_predictor, evaluate_checkpoint
    from nesykg.reasoners.predict import predict  # (``predict`` is also the module's name)

* `LinkPredictor`: the one contract (scores, top-k, truth values, set projection);
* `PREDICTORS`, `get_model_class`, `model_names`: the registry of predictors;
* `load_predictor`, `save_predictor`: any checkpoint folder;
* `evaluate_checkpoint` (and ``nesykg.reasoners.predict.predict``): library calls by
  names, for the CLI and agents;
* `KnownTails`: the observed-edge index (filtering, truth values, known-flags).
"""

from __future__ import annotations

import importlib

__all__ = [
    "LinkPredictor",
    "KnownTails",
    "PREDICTORS",
    "get_model_class",
    "model_names",
    "load_predictor",
    "save_predictor",
    "evaluate_checkpoint",
    "Answer",
    "Ranking",
]

_LAZY = {
    "LinkPredictor": "base",
    "KnownTails": "known",
    "PREDICTORS": "registry",
    "get_model_class": "registry",
    "model_names": "registry",
    "load_predictor": "checkpoint",
    "save_predictor": "checkpoint",
    "evaluate_checkpoint": "predict",
    "Answer": "predict",
    "Ranking": "predict",
}


def __getattr__(name: str) -> object:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
