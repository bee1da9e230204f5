"""Store registry: resolve a backend by name or by location.

Built-in backends are listed by import path so that nothing heavy loads until used;
third parties add theirs through the ``nesykg.stores`` entry-point group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nesykg.kg.store import GraphStore
from nesykg.registry import Registry

__all__ = ["STORES", "STORE_REGISTRY", "backend_for", "get_store_class", "store_names", "open_store"]

STORES: dict[str, str] = {
    "oxigraph": "nesykg.kg.backends.oxigraph:OxigraphStore",
    "memory": "nesykg.kg.backends.memory:MemoryStore",
    "neo4j": "nesykg.kg.backends.neo4j:Neo4jStore",
    "sparql": "nesykg.kg.backends.sparql:SparqlStore",
}

STORE_REGISTRY: Registry[type[GraphStore]] = Registry("store backend", "nesykg.stores", STORES)

_NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")
_HTTP_SCHEMES = ("http://", "https://")


def backend_for(location: str | Path | None) -> str:
    """The backend name `open_store` picks for `location`."""
    if location is None:
        return "oxigraph"
    text = str(location)
    if text == "memory:":
        return "memory"
    low = text.lower()
    if low.startswith(_NEO4J_SCHEMES):
        return "neo4j"
    if low.startswith(_HTTP_SCHEMES):
        return "sparql"
    return "oxigraph"


def store_names() -> list[str]:
    """Names of every registered store backend."""
    return STORE_REGISTRY.names()


def get_store_class(name: str) -> type[GraphStore]:
    """The backend class registered as `name`.

    Raises:
        UnknownNameError: no such backend (the closest names are offered).
        InputError: the backend is registered but cannot be loaded.
    """
    return STORE_REGISTRY.get(name)


def open_store(location: str | Path | None = None, backend: str | None = None, **kwargs: Any) -> GraphStore:
    """Open a graph store.

    Args:
        location: ``None`` for an in-memory store; a directory path for an on-disk
            embedded store (created if missing); ``"memory:"`` for the pure-Python
            reference backend; a ``neo4j://``, ``neo4j+s://`` or ``bolt://`` URI for a
            Neo4j server (credentials from ``user=``/``password=``, the URI
            ``neo4j://USER:PASSWORD@HOST:PORT`` or ``$NESYKG_NEO4J_USER`` /
            ``$NESYKG_NEO4J_PASSWORD``); an ``http(s)://`` SPARQL 1.1 query URL (the
            update URL is given as ``update_url=`` or derived: ``/query`` -> ``/update``,
            ``/sparql`` stays ``/sparql``).
        backend: a registered backend name, overriding the guess from `location`.
        **kwargs: passed to the backend's constructor.

    Examples:
        >>> store = open_store()                    # embedded Oxigraph, in memory
        >>> store = open_store("kg.db")             # embedded Oxigraph, on disk
        >>> store = open_store("bolt://localhost:7687", user="neo4j", password="...")
        >>> store = open_store("http://localhost:7878/query")   # SPARQL endpoint
    """
    if backend is None:
        backend = backend_for(location)
    if backend == "memory" and location is not None and str(location) == "memory:":
        location = None
    cls = get_store_class(backend)
    if location is None:
        return cls(**kwargs)
    return cls(location, **kwargs)  # type: ignore[call-arg]
