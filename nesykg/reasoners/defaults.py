"""Good default hyperparameters per model and built-in dataset.

`DEFAULTS["*"][model]` holds a model's defaults for any dataset; `DEFAULTS[dataset][model]`
overrides some of them for one dataset. Both are partial `TrainingConfig` mappings, with the
model's own keys (``dim``, ``n3_weight``) given flat, as `TrainingConfig.from_dict` accepts
them; they are checked by `default_config` (unknown keys are an `InputError`), and every
entry is loaded by the tests. Flags given on the command line win over these.

Sources: ComplEx/DistMult with N3, Adagrad 0.1, batch 256, rank 200, 1-vs-all per triple
(Lacroix et al. 2018). Measured with these defaults (``nesykg train --dataset codex-s``):
CoDEx-S filtered test MRR .4651, Hits@1 .369, Hits@10 .654 (early stop after epoch 28, best
23), the published tuned LibKGE ComplEx being .465. TransE/RotatE are trained with the same
1-vs-all cross-entropy, with Adam.
"""

from __future__ import annotations

from typing import Any

from nesykg.errors import InputError, UnknownNameError
from nesykg.reasoners.config import TrainingConfig

__all__ = ["DEFAULTS", "default_config", "dataset_key"]

_N3 = {"dim": 200, "epochs": 50, "batch_size": 256, "learning_rate": 0.1, "optimizer": "adagrad", "mode": "1vsall", "patience": 5}

DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "*": {
        "complex": {"model": "complex", **_N3, "n3_weight": 0.01},
        "distmult": {"model": "distmult", **_N3, "n3_weight": 0.01},
        "rotate": {
            "model": "rotate", "dim": 200, "epochs": 50, "batch_size": 256, "learning_rate": 0.001,
            "optimizer": "adam", "mode": "1vsall", "n3_weight": 0.0, "patience": 5,
        },
        "transe": {
            "model": "transe", "dim": 200, "epochs": 50, "batch_size": 256, "learning_rate": 0.001,
            "optimizer": "adam", "mode": "1vsall", "n3_weight": 0.0, "patience": 5,
        },
    },
    "umls": {"complex": {"epochs": 40}, "distmult": {"epochs": 40}},
    "kinship": {"complex": {"n3_weight": 0.05}, "distmult": {"n3_weight": 0.05}},
    "nations": {"complex": {"n3_weight": 0.05, "epochs": 30}, "distmult": {"n3_weight": 0.05, "epochs": 30}},
    "countries_s1": {"complex": {"dim": 50, "epochs": 30}, "distmult": {"dim": 50, "epochs": 30}},
    "countries_s2": {"complex": {"dim": 50, "epochs": 30}, "distmult": {"dim": 50, "epochs": 30}},
    "countries_s3": {"complex": {"dim": 50, "epochs": 30}, "distmult": {"dim": 50, "epochs": 30}},
    "codex_s": {"complex": {"epochs": 50}},
}


def dataset_key(name: str) -> str:
    """``"CoDEx-S"`` -> ``"codex_s"``: the key of a dataset in `DEFAULTS`."""
    return name.lower().replace("-", "_")


def default_config(dataset: str | None, model: str, **overrides: Any) -> TrainingConfig:
    """The default `TrainingConfig` of `model` on `dataset`, with non-``None`` `overrides`.

    Raises:
        UnknownNameError: `model` has no defaults (lists the models that have).
        InputError: an entry or override has an unknown key or a bad value.
    """
    model = model.lower()
    base = DEFAULTS["*"]
    if model not in base:
        from nesykg.reasoners.registry import PREDICTORS

        if model in PREDICTORS:  # registered, but not trained by gradient descent (rules)
            raise InputError(f"model {model!r} has no training defaults; only {', '.join(sorted(base))} are trained")
        raise UnknownNameError("model", model, base)
    data = dict(base[model])
    if dataset is not None:
        data.update(DEFAULTS.get(dataset_key(dataset), {}).get(model, {}))
    data.update({k: v for k, v in overrides.items() if v is not None})
    where = f"defaults of {model!r}" + (f" on {dataset!r}" if dataset else "")
    return TrainingConfig.from_dict(data, where=where)
