"""Query tools: read-only, bounded SPARQL on any SPARQL store, read-only Cypher on Neo4j stores.

Both run the model's query text as it is, through the store's own guards: `GraphStore.sparql`
refuses updates, ``LOAD``, ``SERVICE`` and foreign ``FROM`` before running and cancels after
`TIMEOUT` seconds; ``store.cypher`` (`run_readonly_cypher`) refuses anything that may write.
Values the agent itself puts into a query go in as parameters, never as text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from nesykg.agents.tools.base import MAX_ITEMS, MAX_TEXT, Episode, ToolError, bounded
from nesykg.errors import InputError, QueryTimeoutError, UnsupportedCapabilityError

__all__ = ["sparql", "cypher", "SparqlArgs", "CypherArgs", "TIMEOUT"]

TIMEOUT = 10.0
"""Seconds a query of the agent may run."""


class SparqlArgs(BaseModel):
    query: str = Field(..., min_length=1, max_length=10000, description="a SPARQL 1.1 SELECT, ASK or CONSTRUCT query")
    limit: int = Field(MAX_ITEMS, ge=1, le=MAX_ITEMS, description="most rows returned")


class CypherArgs(BaseModel):
    query: str = Field(..., min_length=1, max_length=10000, description="a read-only Cypher query")
    parameters: dict[str, Any] = Field(default_factory=dict, description="query parameters ($name in the text)")
    limit: int = Field(MAX_ITEMS, ge=1, le=MAX_ITEMS, description="most rows returned")


def _value(ep: Episode, v: Any) -> Any:
    if isinstance(v, str):
        return ep.ws.name(v)
    if isinstance(v, (int, float, bool)) or v is None:
        return v
    return str(v)[:MAX_TEXT]


def sparql(ep: Episode, query: str, limit: int = MAX_ITEMS) -> dict[str, Any]:
    """Run a read-only SPARQL query over the store (the union of its graphs); updates, LOAD and SERVICE
    are refused. Entity IRIs in the result are shown as the names the other tools use."""
    try:
        res = ep.ws.store.sparql(query, timeout=TIMEOUT, max_rows=limit)
    except (InputError, QueryTimeoutError, UnsupportedCapabilityError) as e:
        raise ToolError(f"query refused or failed: {e}") from None
    if isinstance(res, bool):
        return {"boolean": res}
    rows = []
    for row in res:
        if isinstance(row, dict):
            rows.append({k: _value(ep, v) for k, v in row.items()})
        else:
            rows.append([_value(ep, v) for v in row])
    if not rows:
        raise ToolError("the query has no result")
    out = bounded(rows, limit)
    out["truncated"] = out["truncated"] or bool(getattr(res, "truncated", False))
    return out


def cypher(ep: Episode, query: str, parameters: dict[str, Any] | None = None, limit: int = MAX_ITEMS) -> dict[str, Any]:
    """Run a read-only Cypher query on a Neo4j-backed store (writes and schema changes are refused)."""
    from nesykg.kg.store import Capability

    st = ep.ws.store
    if not st.supports(Capability.CYPHER):
        raise ToolError(f"the {st.name!r} store does not run Cypher; use sparql or the graph tools")
    try:
        res = st.cypher(query, parameters or {}, limit=limit, timeout_s=TIMEOUT)  # type: ignore[attr-defined]
    except (InputError, QueryTimeoutError) as e:
        raise ToolError(f"query refused or failed: {e}") from None
    if not res.rows:
        raise ToolError("the query has no result")
    rows = [{k: _value(ep, v) for k, v in r.items()} for r in res.rows]
    out = {"columns": res.columns, **bounded(rows, limit)}
    out["truncated"] = out["truncated"] or res.truncated
    return out
