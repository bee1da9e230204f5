"""nesykg: neuro-symbolic knowledge-graph reasoning.

The top-level import is deliberately light: it pulls in neither torch, pyoxigraph,
rdflib, torch-geometric, the Neo4j driver nor LangChain. The names below are resolved
on first use.

>>> import nesykg
>>> store = nesykg.open_store()            # embedded Oxigraph store, in memory
>>> ds = nesykg.load_dataset("umls")      # shipped with the package
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "NesykgError", "open_store", "load_dataset", "TensorKG"]

from nesykg.errors import NesykgError

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.datasets import load_dataset
    from nesykg.kg import open_store
    from nesykg.kg.tensor import TensorKG

_LAZY = {
    "open_store": ("nesykg.kg", "open_store"),
    "load_dataset": ("nesykg.datasets", "load_dataset"),
    "TensorKG": ("nesykg.kg.tensor", "TensorKG"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nesykg' has no attribute {name!r}")
