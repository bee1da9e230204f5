"""Store registry: resolve a backend by name or by location.

Built-in backends are listed by import path so that nothing heavy loads until used;
third parties add theirs through the ``nesykg.stores`` entry-point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from nesykg.errors import UnknownNameError
from nesykg.kg.store import GraphStore

__all__ = ["STORES", "get_store_class", "store_names", "open_store"]

STORES: dict[str, str] = {
    "oxigraph": "nesykg.kg.backends.oxigraph:OxigraphStore",
    "memory": "nesykg.kg.backends.memory:MemoryStore",
}


def _all() -> dict[str, str]:
    found = dict(STORES)
    for ep in entry_points(group="nesykg.stores"):
        found.setdefault(ep.name, ep.value)
    return found


def store_names() -> list[str]:
    """Names of every registered store backend."""
    return sorted(_all())


def get_store_class(name: str) -> type[GraphStore]:
    """The backend class registered as `name`."""
    table = _all()
    if name not in table:
        raise UnknownNameError("store backend", name, table)
    module, _, attr = table[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def open_store(location: str | Path | None = None, backend: str | None = None, **kwargs: Any) -> GraphStore:
    """Open a graph store.

    Args:
        location: ``None`` for an in-memory store; a directory path for an on-disk
            embedded store (created if missing); ``"memory:"`` for the pure-Python
            reference backend.
        backend: a registered backend name, overriding the guess from `location`.
        **kwargs: passed to the backend's constructor.

    Examples:
        >>> store = open_store()                    # embedded Oxigraph, in memory
        >>> store = open_store("kg.db")             # embedded Oxigraph, on disk
    """
    if backend is None:
        if location is None:
            backend = "oxigraph"
        elif str(location) == "memory:":
            backend, location = "memory", None
        else:
            backend = "oxigraph"
    cls = get_store_class(backend)
    if location is None:
        return cls(**kwargs)
    return cls(location, **kwargs)  # type: ignore[call-arg]
