"""Model registry: resolve a link-prediction model class by name.

Built-in models are listed by import path so that torch loads only when a model is used;
third parties add theirs through the ``nesykg.models`` entry-point group
(``name = "package.module:Class"``), loaded lazily on the first lookup.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from nesykg.errors import InputError, UnknownNameError

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.reasoners.embeddings.base import EmbeddingModel

__all__ = ["MODELS", "ENTRY_POINT_GROUP", "model_names", "get_model_class", "make_model"]

ENTRY_POINT_GROUP = "nesykg.models"

MODELS: dict[str, str] = {
    "complex": "nesykg.reasoners.embeddings.complex:ComplEx",
    "distmult": "nesykg.reasoners.embeddings.distmult:DistMult",
    "rotate": "nesykg.reasoners.embeddings.rotate:RotatE",
    "transe": "nesykg.reasoners.embeddings.transe:TransE",
}


def _all() -> dict[str, str]:
    found = dict(MODELS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name.lower(), ep.value)
    return found


def model_names() -> list[str]:
    """Names of every registered model, built-in and from entry points."""
    return sorted(_all())


def get_model_class(name: str | type) -> type[EmbeddingModel]:
    """The model class registered as `name` (case-insensitive); a class passes through.

    Raises:
        UnknownNameError: listing the registered names.
    """
    if isinstance(name, type):
        return name
    table = _all()
    key = name.lower()
    if key not in table:
        raise UnknownNameError("model", name, table)
    module, _, attr = table[key].partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise InputError(f"model {name!r} is registered as {table[key]!r}, which cannot be loaded: {e}") from None


def make_model(name: str | type, num_entities: int, num_relations: int, dim: int, **kwargs: Any) -> EmbeddingModel:
    """Build a model by name: ``make_model("complex", N, R, dim=200)``."""
    return get_model_class(name)(num_entities, num_relations, dim, **kwargs)
