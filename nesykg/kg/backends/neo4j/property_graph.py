"""Reading a user's own property graph (any labels and relationship types) into a `TensorKG`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nesykg.errors import (
    InputError,
)
from nesykg.kg.backends.neo4j.driver import make_driver, neo4j_errors, no_futile_retries
from nesykg.kg.backends.neo4j.store import Neo4jStore


def _node_name(node: Any, node_key: str | Callable[[Any], str]) -> str:
    if callable(node_key):
        return str(node_key(node))
    value = node.get(node_key)
    if value is None:
        raise InputError(
            f"node {node.element_id} with labels {sorted(node.labels)} has no property {node_key!r};"
            " choose another node_key or pass a function"
        )
    return str(value)


def read_property_graph(
    uri: str | Any,
    auth: tuple[str, str] | None = None,
    node_key: str | Callable[[Any], str] = "name",
    labels: Iterable[str] | None = None,
    rel_types: Iterable[str] | None = None,
    database: str | None = None,
    name: str = "neo4j",
    include_nesykg: bool = False,
) -> Any:
    """Read a user's property graph into a `TensorKG` (one ``train`` split).

    Every relationship ``(a)-[:TYPE]->(b)`` becomes the triple ``(key(a), TYPE, key(b))``.

    Args:
        uri: a Bolt/Neo4j URI, a `Neo4jStore` or a ``neo4j.Driver``.
        auth: ``(user, password)``; by default from the URI or the environment.
        node_key: the node property naming a node (``"name"``), or a function of the
            driver's ``Node`` returning its name.
        labels: keep only relationships between nodes that have one of these labels.
        rel_types: keep only these relationship types.
        include_nesykg: also read nesykg's own ``:REL`` relationships (off by default).
    """
    from nesykg.kg.tensor import TensorKG

    own_driver = False
    if isinstance(uri, Neo4jStore):
        driver, where, database = uri.driver, uri.location, database or uri.database
    elif isinstance(uri, str):
        user, pw = auth if auth is not None else (None, None)
        driver, where, _ = make_driver(uri, user, pw)
        own_driver = True
    else:
        driver, where = uri, "the given driver"
    label_list = list(labels) if labels is not None else None
    type_list = list(rel_types) if rel_types is not None else None
    query = (
        "MATCH (a)-[r]->(b) "
        "WHERE ($types IS NULL OR type(r) IN $types) AND ($own OR type(r) <> 'REL') "
        "AND ($labels IS NULL OR (any(l IN labels(a) WHERE l IN $labels) AND any(l IN labels(b) WHERE l IN $labels))) "
        "RETURN a, type(r) AS t, b"
    )
    translate = neo4j_errors(where, None, "reading the property graph")

    @no_futile_retries
    def work(tx: Any) -> list[tuple[str, str, str]]:
        out = []
        for rec in tx.run(query, types=type_list, labels=label_list, own=include_nesykg):
            out.append((_node_name(rec["a"], node_key), rec["t"], _node_name(rec["b"], node_key)))
        return out

    try:
        with driver.session(database=database) as session:
            triples = session.execute_read(work)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001
        err = translate(e)
        if err is e:
            raise
        raise err from None
    finally:
        if own_driver:
            driver.close()
    return TensorKG.from_triples({"train": sorted(set(triples))}, name)

