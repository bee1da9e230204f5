"""Reasoners: link predictors (embeddings, GNNs, rules) and fuzzy logic over them.

The public surface, imported on first use (torch loads only then)::

    from nesykg.reasoners import load_predictor
    from nesykg.reasoners.predict import predict  # (``predict`` is also the module's name)

* `LinkPredictor`: the one contract (scores, top-k, truth values, set projection);
* `PREDICTORS`, `get_model_class`, `model_names`: the registry of predictors;
* `load_predictor`, `save_predictor`: any checkpoint folder;
* ``nesykg.reasoners.predict.predict``: ranked answers by names, for the CLI and agents
  (evaluation of a checkpoint on a dataset by name: `nesykg.pipeline.evaluate_checkpoint`);
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
    "Answer": "predict",
    "Ranking": "predict",
}


def __getattr__(name: str) -> object:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
