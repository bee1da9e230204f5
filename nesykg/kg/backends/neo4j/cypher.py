"""A read-only Cypher tool: for agents, the CLI and users who must not write.

`run_readonly_cypher` refuses anything but reads, with three independent guards:

1. the query is first planned with ``EXPLAIN`` (nothing runs) and refused unless the
   server classifies it as read-only (``summary.query_type == 'r'``) and its plan has no
   operator that reaches outside the database (``LoadCSV``);
2. it then runs in a managed transaction of a session opened in READ access mode
   (``session.execute_read``), which the server itself refuses to let write;
3. results are bounded (`limit` rows) and the transaction has a server-side timeout.

Parameters always travel as parameters, never spliced into the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nesykg.errors import InputError, QueryRefusedError

__all__ = ["CypherResult", "run_readonly_cypher", "FORBIDDEN_OPERATORS"]

FORBIDDEN_OPERATORS = frozenset({"LoadCSV"})
"""Plan operators refused even in read-only queries (they read files or URLs)."""

_QUERY_TYPES = {"r": "read", "rw": "read-write", "w": "write", "s": "schema or administration"}


@dataclass
class CypherResult:
    """Rows of a read-only Cypher query.

    Attributes:
        columns: the result keys, in order.
        rows: at most ``limit`` rows, as ``{column: value}`` with JSON-friendly values
            (nodes, relationships and paths become dicts, temporal values ISO strings).
        truncated: ``True`` when the query had more rows than ``limit``.
    """

    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows, "truncated": self.truncated}


def _plan_operators(plan: Any) -> set[str]:
    if not plan:
        return set()
    ops = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        op = str(node.get("operatorType", ""))
        ops.add(op.split("@", 1)[0])
        stack.extend(node.get("children", []) or [])
    return ops


def to_jsonable(value: Any) -> Any:
    """Driver values (nodes, relationships, paths, temporal, spatial) -> plain JSON values."""
    from neo4j.graph import Node, Path, Relationship

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Node):
        return {"element_id": value.element_id, "labels": sorted(value.labels), "properties": to_jsonable(dict(value))}
    if isinstance(value, Relationship):
        return {
            "element_id": value.element_id,
            "type": value.type,
            "start": value.start_node.element_id if value.start_node is not None else None,
            "end": value.end_node.element_id if value.end_node is not None else None,
            "properties": to_jsonable(dict(value)),
        }
    if isinstance(value, Path):
        return {"nodes": [to_jsonable(n) for n in value.nodes], "relationships": [to_jsonable(r) for r in value.relationships]}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "srid"):  # spatial point
        return {"srid": value.srid, "coordinates": list(value)}
    return str(value)


def _resolve(driver_or_store: Any) -> tuple[Any, str | None, str]:
    """(driver, database, address) of a `Neo4jStore` or a ``neo4j.Driver``."""
    from nesykg.kg.store import Capability, GraphStore

    if isinstance(driver_or_store, GraphStore):
        if not driver_or_store.supports(Capability.CYPHER):
            driver_or_store.require(Capability.CYPHER)
        return driver_or_store.driver, driver_or_store.database, driver_or_store.location  # type: ignore[attr-defined]
    if hasattr(driver_or_store, "session") and hasattr(driver_or_store, "verify_connectivity"):
        return driver_or_store, None, "the given driver"
    raise InputError(f"expected a Neo4j store or a neo4j.Driver, got {type(driver_or_store).__name__}")


def run_readonly_cypher(
    driver_or_store: Any,
    query: str,
    params: dict[str, Any] | None = None,
    limit: int = 1000,
    timeout_s: float = 30.0,
    database: str | None = None,
) -> CypherResult:
    """Run one Cypher query that only reads; refuse everything else before it runs.

    Args:
        driver_or_store: a `Neo4jStore` or a ``neo4j.Driver``.
        query: the Cypher text (one statement).
        params: query parameters (``$name`` in the text), passed as parameters.
        limit: the most rows returned; more set ``truncated``.
        timeout_s: server-side transaction timeout, seconds; past it the query is
            cancelled with `QueryTimeoutError`.
        database: the database (default: the store's, or the server's default).

    Raises:
        QueryRefusedError: the query may write, change the schema, administer the
            server or read files (``LOAD CSV``).
        QueryTimeoutError: it ran longer than `timeout_s`.
        InputError: a syntax error or bad arguments.
        StoreError: the server failed or could not be reached.
    """
    import neo4j
    import neo4j.exceptions as nx

    from nesykg.kg.backends.neo4j.driver import neo4j_errors, no_futile_retries

    if not isinstance(query, str) or not query.strip():
        raise InputError("empty Cypher query")
    if params is not None and not isinstance(params, dict):
        raise InputError(f"Cypher parameters must be a dict, got {type(params).__name__}")
    if not isinstance(limit, int) or limit < 1:
        raise InputError(f"limit must be a positive integer, got {limit!r}")
    if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise InputError(f"timeout_s must be a positive number, got {timeout_s!r}")
    driver, db, where = _resolve(driver_or_store)
    db = database or db
    params = dict(params or {})
    translate = neo4j_errors(where, None, "the Cypher query")

    def fail(e: BaseException) -> None:
        if isinstance(e, nx.ClientError) and "Statement.SyntaxError" in (e.code or ""):
            raise InputError(f"Cypher syntax error: {e.message}") from None
        if isinstance(e, nx.ClientError) and "Forbidden" in (e.code or ""):
            raise QueryRefusedError(f"refused by the server: {e.message}") from None
        err = translate(e)
        if err is e:
            raise e
        raise err from None

    # 1. plan only: EXPLAIN never executes anything.
    try:
        with driver.session(database=db, default_access_mode=neo4j.READ_ACCESS) as session:
            summary = session.run(neo4j.Query("EXPLAIN " + query, timeout=timeout_s), params).consume()
    except Exception as e:  # noqa: BLE001
        fail(e)
        raise  # unreachable
    qtype = summary.query_type
    if qtype != "r":
        raise QueryRefusedError(
            f"refused: this tool only runs read queries, and the server classifies this one as"
            f" {_QUERY_TYPES.get(str(qtype), repr(qtype))} (query type {qtype!r})"
        )
    bad = _plan_operators(summary.plan) & FORBIDDEN_OPERATORS
    if bad:
        raise QueryRefusedError(f"refused: the query uses {', '.join(sorted(bad))} (reads files or URLs)")

    # 2. run it in a READ transaction with a server-side timeout, keeping at most `limit` rows.
    @no_futile_retries
    @neo4j.unit_of_work(timeout=timeout_s)
    def work(tx: Any) -> CypherResult:
        result = tx.run(query, params)
        columns = list(result.keys())
        rows: list[dict[str, Any]] = []
        truncated = False
        for record in result:
            if len(rows) >= limit:
                truncated = True
                break
            rows.append({k: to_jsonable(v) for k, v in record.items()})
        return CypherResult(columns, rows, truncated)

    try:
        with driver.session(database=db, default_access_mode=neo4j.READ_ACCESS, fetch_size=min(limit + 1, 1000)) as session:
            return session.execute_read(work)
    except Exception as e:  # noqa: BLE001
        fail(e)
        raise  # unreachable
