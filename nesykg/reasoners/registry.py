"""The predictor registry: every `LinkPredictor` class resolved by name.

One `nesykg.registry.Registry` holds the embedding models and the rule predictor (GNNs
join it when they land). Built-in entries are import paths, so torch loads only when a
predictor is used; third parties add theirs through the ``nesykg.models`` entry-point
group (``name = "package.module:Class"``). Every registered class is a checkpoint: its
``name`` is written into ``config.json`` and `nesykg.reasoners.checkpoint.load_predictor`
resolves it here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nesykg.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.reasoners.base import LinkPredictor

__all__ = ["PREDICTORS", "ENTRY_POINT_GROUP", "model_names", "get_model_class"]

ENTRY_POINT_GROUP = "nesykg.models"

PREDICTORS: Registry[type[LinkPredictor]] = Registry(
    "model",
    ENTRY_POINT_GROUP,
    {
        "complex": "nesykg.reasoners.embeddings.complex:ComplEx",
        "distmult": "nesykg.reasoners.embeddings.distmult:DistMult",
        "rotate": "nesykg.reasoners.embeddings.rotate:RotatE",
        "transe": "nesykg.reasoners.embeddings.transe:TransE",
        "rules": "nesykg.reasoners.rules.predictor:RuleLinkPredictor",
        "nbfnet": "nesykg.reasoners.gnn.nbfnet:NBFNet",
        "epignn": "nesykg.reasoners.gnn.epignn:EpiGNN",
    },
)


def model_names(kind: type | None = None) -> list[str]:
    """Names of every registered predictor, built-in and from entry points.

    Args:
        kind: only the predictors that subclass it (e.g. ``EmbeddingModel``); this
            imports every entry.
    """
    names = PREDICTORS.names()
    if kind is None:
        return names
    return [n for n in names if issubclass(PREDICTORS.get(n), kind)]


def get_model_class(name: str | type) -> type[LinkPredictor]:
    """The predictor class registered as `name` (case-insensitive); a class passes through.

    Raises:
        UnknownNameError: listing the registered names.
        InputError: the entry is registered but cannot be loaded.
    """
    if isinstance(name, type):
        return name
    return PREDICTORS.get(name)
