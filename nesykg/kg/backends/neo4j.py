"""A `GraphStore` on a Neo4j server (5.x), through the official ``neo4j`` driver.

Mapping of RDF onto the property graph (one fixed schema, created on open)::

    (:Resource {iri})                                  every IRI subject / IRI object (unique iri)
    (:Literal {key, value, datatype?, language?})      every literal object (unique key = hash of
                                                       value, datatype and language)
    (s:Resource)-[:REL {predicate, graph}]->(o)        one relationship per (triple, graph)
    (s:Resource)-[:REL {predicate, graph: 'inferred',  one relationship per (triple, run) in the
        run_id, confidence, method, evidence,          ``inferred`` graph: provenance lives
        time}]->(o)                                    on the relationship itself
    (:NamedGraph {iri, relationships, writes})         one per graph written (unique iri); its
                                                       lock serialises that graph's writers,
                                                       which keep its relationship tally

* Every triple uses the single type ``REL`` with the predicate IRI as a property
  (Neo4j 5.26 takes a type as a parameter, ``$(...)``, but cannot then use its type
  index to match it). No user text is ever spliced into Cypher: every value travels
  as a parameter.
* A triple in several graphs has one relationship per graph. A triple several runs
  inferred has one ``inferred`` relationship per run, so ``undo(run)`` deletes exactly
  that run's relationships and the triple stays while another run still holds it.
* No (triple, graph[, run]) is ever stored twice, by the write protocol rather than by
  an index: a write transaction first locks the ``:NamedGraph`` node of every graph it
  changes (in sorted order, so writers cannot deadlock), then creates each relationship
  only if the same one does not exist between the two nodes. The check is an
  ``Expand(Into)`` between two bound nodes, O(min(out-degree(s), in-degree(o))), and
  under the lock no concurrent writer of that graph can add the same relationship
  between the check and the commit. Writing a change set twice (for instance a driver
  retry after a lost commit acknowledgement) therefore changes nothing. An earlier
  mapping kept a hashed ``key`` per relationship under a uniqueness constraint; that
  index cost 40% of the write time, and ``Expand(Into)`` does the same job (see
  docs/neo4j.md for the figures).
* A change set is one transaction, so its size is bounded by the server's transaction
  memory (``dbms.memory.transaction.total.max``; with the test server's 768 MB heap
  200k-300k triples): load larger graphs in several change sets (`nesykg.kg.batches`).

Writes: each `ChangeSet` is one managed write transaction (``session.execute_write``,
retried by the driver on transient errors and lost connections), made of a graph lock
statement and batched ``UNWIND`` statements (`BATCH` rows each): removals, run undo, then
node merges with relationship creates. Reads use managed read transactions.

`read_property_graph` reads a user's own property graph (any labels and relationship
types, e.g. ``(:Person)-[:KNOWS]->(:Person)``) into a `TensorKG`.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from nesykg.errors import (
    AuthenticationError,
    InputError,
    QueryTimeoutError,
    StoreError,
    StoreUnavailableError,
    UnknownNameError,
)
from nesykg.kg.provenance import Provenance
from nesykg.kg.store import Capability, ChangeSet, GraphStore, StoreStats
from nesykg.kg.terms import INFERRED, Literal, Pattern, Triple

__all__ = ["Neo4jStore", "read_property_graph", "split_credentials", "BATCH", "neo4j_errors", "no_futile_retries"]

BATCH = 50_000
"""Rows per ``UNWIND`` statement."""

SCHEMA = (
    "CREATE CONSTRAINT nesykg_resource_iri IF NOT EXISTS FOR (n:Resource) REQUIRE n.iri IS UNIQUE",
    "CREATE CONSTRAINT nesykg_literal_key IF NOT EXISTS FOR (n:Literal) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT nesykg_named_graph_iri IF NOT EXISTS FOR (n:NamedGraph) REQUIRE n.iri IS UNIQUE",
    "CREATE INDEX nesykg_rel_run IF NOT EXISTS FOR ()-[r:REL]-() ON (r.run_id)",
)
# One relationship property is indexed: ``run_id``, which only ``inferred`` relationships
# have, so that undo and a run's provenance read that run, not every relationship. No
# other is, on purpose: with an index on ``REL(graph)`` the planner answered
# ``MERGE (s)-[:REL {predicate, graph}]->(o)`` by seeking *every* relationship of that
# graph, making a batch of N writes O(N * graph size). Existence checks expand between the
# two bound nodes instead (see the module docstring); those that look at ``run_id``
# (`_ADD_PROV`, `_UNDO_COUNT`) compare ``coalesce(q.run_id, ...)``, which no index can
# answer, so the planner keeps the expand rather than reading the run's index entries for
# every row (quadratic: an undo of a 185k-triple run did not finish in 10 minutes).

_LOCK = (
    "UNWIND $graphs AS g MERGE (n:NamedGraph {iri: g}) ON CREATE SET n.relationships = 0, n.writes = 0 "
    "SET n.writes = n.writes + 1"
)
"""Takes the write lock of each graph (a node property write holds an exclusive lock on
the node until commit); ``$graphs`` is sorted so that two writers lock in the same order."""


def _tally(graph: str, sign: str = "+", group: str = "") -> str:
    """Cypher that adds (or subtracts) the rows counted so far to a graph's
    ``relationships`` tally, under the lock `_LOCK` took on it."""
    return (
        f"WITH {group}count(*) AS n MATCH (gn:NamedGraph {{iri: {graph}}}) "
        f"SET gn.relationships = gn.relationships {sign} n"
    )


_COUNTED = "MATCH (g:NamedGraph) WHERE g.relationships IS NOT NULL RETURN g LIMIT 1"
_ANY_REL = "MATCH ()-[r:REL]->() RETURN r LIMIT 1"
_RECOUNT = (
    "MATCH ()-[r:REL]->() WITH r.graph AS g, count(*) AS n "
    "MERGE (gn:NamedGraph {iri: g}) SET gn.relationships = n, gn.writes = coalesce(gn.writes, 0)"
)
"""Tallies for a database written by a nesykg that kept none (one scan, once)."""

# ---------------------------------------------------------------- Cypher (fixed text)
# Additions are columnar: a batch sends its distinct IRIs (and literals) once, the nodes
# are merged and collected into a list, and each row is a few integers indexing into
# that list and into small string tables. The integer columns travel as one fixed-width
# decimal string each (``$si`` holds row i's subject index at ``i * $si_w``): the Python
# driver packs one long string in microseconds, but a list of 50,000 ints in ~0.1 s,
# which was a quarter of a load. Every name below is one of ours, never data.
_NODES = "UNWIND $iris AS iri MERGE (n:Resource {iri: iri}) WITH collect(n) AS nodes "
_OBJECTS = {
    False: "WITH nodes, nodes AS objs ",
    True: (
        "UNWIND $lits AS l MERGE (m:Literal {key: l.key}) "
        "ON CREATE SET m.value = l.value, m.datatype = l.datatype, m.language = l.language "
        "WITH nodes, collect(m) AS objs "
    ),
}


def _at(column: str) -> str:
    """Cypher for row ``i`` of an integer column sent as fixed-width text (see `_fixed`)."""
    return f"toInteger(substring(${column}, i * ${column}_w, ${column}_w))"


_ROWS = (
    f"UNWIND range(0, $n - 1) AS i WITH i, nodes[{_at('si')}] AS s, objs[{_at('oi')}] AS o, "
    f"$texts[{_at('pi')}] AS p "
)
_PROV = (
    ("confidence", "$c[i]"),
    ("method", f"$texts[{_at('mi')}]"),
    ("evidence", f"$texts[{_at('ei')}]"),
    ("time", f"$times[{_at('ti')}]"),
)
# Each row creates its relationship unless the same one exists already (an Expand(Into)
# between the two nodes; the planner puts an Eager between the checks and the creates).
# Correct under concurrency because `_LOCK` runs first in the same transaction.
_ADD = (
    _ROWS
    + "WITH s, o, p WHERE NOT EXISTS { (s)-[q:REL]->(o) WHERE q.predicate = p AND q.graph = $g } "
    + "CREATE (s)-[:REL {predicate: p, graph: $g}]->(o) "
    + _tally("$g")
)
_ADD_PROV = (
    _ROWS
    + f"WITH i, s, o, p, $texts[{_at('ri')}] AS run "
    + "WHERE NOT EXISTS { (s)-[q:REL]->(o) "
    + "WHERE q.graph = 'inferred' AND q.predicate = p AND coalesce(q.run_id, '') = run } "
    + "CREATE (s)-[:REL {predicate: p, graph: 'inferred', run_id: run, "
    + ", ".join(f"{name}: {expr}" for name, expr in _PROV)
    + "}]->(o) "
    + _tally("'inferred'")
)
_OBJ = {False: "(o:Resource {iri: row.o})", True: "(o:Literal {key: row.o})"}
_REMOVE = (
    "UNWIND $rows AS row MATCH (s:Resource {iri: row.s})-[r:REL {predicate: row.p, graph: row.g}]->%OBJ% "
    "USING INDEX s:Resource(iri) DELETE r " + _tally("g", "-", group="row.g AS g, ")
)
_UNDO = (
    "UNWIND $runs AS run MATCH ()-[r:REL {run_id: run}]->() USING INDEX r:REL(run_id) "
    "WHERE r.graph = 'inferred' DELETE r "
    + _tally("'inferred'", "-")
)
_UNDO_COUNT = (
    "MATCH (s)-[r:REL {run_id: $run}]->(o) USING INDEX r:REL(run_id) WHERE r.graph = 'inferred' "
    "WITH s, o, r.predicate AS p "
    "OPTIONAL MATCH (s)-[q:REL]->(o) WHERE q.graph = 'inferred' AND q.predicate = p "
    "AND coalesce(q.run_id, $run) <> $run "
    "WITH s, o, p, count(q) AS others "
    "RETURN count(*) AS records, sum(CASE WHEN others = 0 THEN 1 ELSE 0 END) AS gone"
)
_DROP_ORPHANS = (
    "UNWIND $keys AS k OPTIONAL MATCH (n:Resource {iri: k}) USING INDEX n:Resource(iri) "
    "WITH n WHERE n IS NOT NULL AND NOT EXISTS { (n)--() } DELETE n"
)
_DROP_ORPHAN_LITS = (
    "UNWIND $keys AS k OPTIONAL MATCH (n:Literal {key: k}) USING INDEX n:Literal(key) "
    "WITH n WHERE n IS NOT NULL AND NOT EXISTS { (n)--() } DELETE n"
)
_PO = (
    "CASE WHEN o.iri IS NULL THEN [r.predicate, null, o.value, o.datatype, o.language] "
    "ELSE [r.predicate, o.iri] END"
)
"""One (predicate, object) of a grouped read: ``[p, iri]`` or ``[p, null, value, datatype, language]``."""
_RETURN_GROUPED = f"s.iri AS s, collect(DISTINCT {_PO}) AS po"
_COUNT_DISTINCT = "count(DISTINCT [elementId(s), r.predicate, elementId(o)]) AS n"
"""Triples, each once however many graphs or runs hold it."""
SCAN_PAGE = 2_000
"""Subjects per read transaction when a read binds neither subject nor object. The client
holds one page: at CoDEx-M's out-degree (11) about 22k triples, 20 MB (5,000: 45 MB; the
whole 185k-triple graph at once: 65 MB); a subject's triples never span pages."""
# A read that binds neither end could return the whole graph: it pages through the
# subjects in iri order (an ordered range seek in the iri index), SCAN_PAGE at a time,
# so the client holds one page, not the graph. Each page is its own read transaction;
# pages never repeat a subject. OPTIONAL MATCH keeps subjects without matching
# relationships, so that the page's last iri is known.
_PAGE = (
    "MATCH (s:Resource) USING INDEX s:Resource(iri) WHERE s.iri > $after "
    "WITH s ORDER BY s.iri LIMIT $page "
    "OPTIONAL MATCH (s)-[r:REL]->(o) WHERE %WHERE% "
    f"RETURN s.iri AS s, collect(DISTINCT CASE WHEN r IS NULL THEN null ELSE {_PO} END) AS po"
)
_RETURN_TRIPLE = (
    "s.iri AS s, r.predicate AS p, o.iri AS o, o.value AS v, o.datatype AS dt, o.language AS lang"
)


def literal_key(lit: Literal) -> str:
    """Unique key of a literal node: a hash of value, datatype and language."""
    h = hashlib.sha1()
    for part in (lit.value, lit.datatype or "", lit.language or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def split_credentials(uri: str) -> tuple[str, str | None, str | None]:
    """``neo4j://user:pass@host:7687`` -> (``neo4j://host:7687``, user, password)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri, None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    user = unquote(parts.username) if parts.username is not None else None
    pw = unquote(parts.password) if parts.password is not None else None
    return clean, user, pw


class _Unretryable(Exception):
    """A server error that retrying cannot fix, raised from inside a transaction function
    so that the driver gives up at once (see `no_futile_retries`)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


_FUTILE_CODES = ("MemoryPoolOutOfMemoryError",)
"""Neo4j 5 calls running out of transaction memory a *transient* error, so the driver
would retry the same too-large transaction for its whole retry time (30 s by default)
before the error reached the user; it fails the same way every time."""


def no_futile_retries(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a managed-transaction function so that errors retrying cannot fix end the
    transaction at once (the driver retries only its own exception types)."""

    @functools.wraps(fn)  # keeps unit_of_work's timeout and metadata
    def wrapped(tx: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(tx, *args, **kwargs)
        except Exception as e:
            if any(c in (getattr(e, "code", None) or "") for c in _FUTILE_CODES):
                raise _Unretryable(e) from e
            raise

    return wrapped


def neo4j_errors(uri: str, user: str | None, action: str) -> Callable[[BaseException], BaseException]:
    """A translator from driver exceptions to nesykg `StoreError` subclasses."""
    import neo4j.exceptions as nx

    def translate(e: BaseException) -> BaseException:
        if isinstance(e, _Unretryable):
            e = e.error
        code = getattr(e, "code", None) or ""
        if isinstance(e, nx.AuthError) or "Security.Unauthorized" in code:
            return AuthenticationError(
                f"Neo4j at {uri} refused user {user!r}: wrong user name or password"
                " (set NESYKG_NEO4J_USER / NESYKG_NEO4J_PASSWORD or neo4j://USER:PASSWORD@HOST:PORT)"
            )
        if "MemoryPoolOutOfMemoryError" in code:
            return StoreError(
                f"{action} on Neo4j at {uri} was rolled back: the transaction needs more memory than the"
                " server allows (dbms.memory.transaction.total.max); split the work into smaller"
                " transactions (for writes: smaller change sets; nesykg kg load/copy: --batch N)"
                " or give the server more heap"
            )
        if "TransactionTimedOut" in code:
            return QueryTimeoutError(f"{action} on Neo4j at {uri} timed out and was rolled back")
        if isinstance(e, (nx.ServiceUnavailable, nx.SessionExpired, OSError)):
            return StoreUnavailableError(f"cannot reach Neo4j at {uri} ({action}): {_first_line(e)}")
        if isinstance(e, nx.ConfigurationError):
            return StoreError(f"bad Neo4j configuration for {uri}: {_first_line(e)}")
        if isinstance(e, nx.Neo4jError):
            return StoreError(f"{action} on Neo4j at {uri} failed: {getattr(e, 'message', None) or _first_line(e)}")
        if isinstance(e, nx.DriverError):
            return StoreError(f"{action} on Neo4j at {uri} failed: {_first_line(e)}")
        return e

    return translate


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def make_driver(uri: str, user: str | None = None, password: str | None = None, **config: Any) -> tuple[Any, str, str]:
    """Open and verify a driver. Returns ``(driver, clean_uri, user)``.

    Credentials: arguments, else those in the URI, else ``$NESYKG_NEO4J_USER`` /
    ``$NESYKG_NEO4J_PASSWORD`` (user ``neo4j`` by default).
    """
    import neo4j

    try:
        clean, u, p = split_credentials(uri)
    except ValueError as e:
        raise InputError(f"invalid Neo4j URI {uri!r}: {e}") from None
    user = user or u or os.environ.get("NESYKG_NEO4J_USER") or "neo4j"
    password = password if password is not None else (p if p is not None else os.environ.get("NESYKG_NEO4J_PASSWORD", ""))
    config.setdefault("notifications_min_severity", "OFF")
    config.setdefault("connection_timeout", 10.0)
    translate = neo4j_errors(clean, user, "connect")
    try:
        driver = neo4j.GraphDatabase.driver(clean, auth=(user, password), **config)
    except (ValueError, TypeError, neo4j.exceptions.ConfigurationError) as e:
        raise InputError(f"cannot open a Neo4j driver for {clean!r}: {_first_line(e)}") from None
    try:
        driver.verify_connectivity()
    except Exception as e:  # noqa: BLE001 - translated below
        driver.close()
        err = translate(e)
        if err is e:
            raise
        raise err from None
    return driver, clean, user


def _row(t: Triple) -> dict[str, Any]:
    s, p, o = t
    if type(o) is str:
        return {"s": s, "p": p, "o": o}
    return {"s": s, "p": p, "o": literal_key(o)}  # type: ignore[arg-type]


def _lit_row(o: Literal) -> dict[str, Any]:
    return {"key": literal_key(o), "value": o.value, "datatype": o.datatype, "language": o.language}


def _where(predicate: str | None, any_graph: bool, params: dict[str, Any]) -> str:
    """The relationship filter of a read: its graphs (``$graphs``, or any when
    `any_graph`: each ``REL`` belongs to one user graph) and its predicate, if bound."""
    where = "true" if any_graph else "r.graph IN $graphs"
    if predicate is not None:
        params["p"] = predicate
        where += " AND r.predicate = $p"
    return where


def _statement(template: str, is_lit: bool) -> str:
    """The statement of one addition batch: nodes, then rows (`_ADD` / `_ADD_PROV`)."""
    return _NODES + _OBJECTS[is_lit] + template


def _fixed(values: list[int]) -> tuple[str, int]:
    """Non-negative ints as one string of fixed-width decimal fields, and the width."""
    width = len(str(max(values))) if values else 1
    return ("%0" + str(width) + "d") * len(values) % tuple(values), width


def _columns(triples: list[Triple], is_lit: bool, provs: list[Provenance] | None = None) -> dict[str, Any]:
    """Parameters of one columnar batch (see `_ADD`): node and string tables, index rows."""
    iris: dict[str, int] = {}
    texts: dict[str, int] = {}
    cols: dict[str, list[int]] = {
        "si": [iris.setdefault(t[0], len(iris)) for t in triples],
        "pi": [texts.setdefault(t[1], len(texts)) for t in triples],
    }
    params: dict[str, Any] = {"n": len(triples)}
    if is_lit:
        lits: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        oi = []
        for t in triples:
            lr = _lit_row(t[2])  # type: ignore[arg-type]
            j = lits.get(lr["key"])
            if j is None:
                j = lits[lr["key"]] = len(rows)
                rows.append(lr)
            oi.append(j)
        params["lits"] = rows
    else:
        oi = [iris.setdefault(t[2], len(iris)) for t in triples]  # type: ignore[arg-type]
    cols["oi"] = oi
    if provs is not None:
        times: dict[datetime, int] = {}
        cols["ri"] = [texts.setdefault(p.run_id, len(texts)) for p in provs]
        cols["mi"] = [texts.setdefault(p.method, len(texts)) for p in provs]
        cols["ei"] = [texts.setdefault(p.evidence, len(texts)) for p in provs]
        cols["ti"] = [times.setdefault(p.time, len(times)) for p in provs]
        params["c"] = [float(p.confidence) for p in provs]
        params["times"] = list(times)
    for name, values in cols.items():
        params[name], params[name + "_w"] = _fixed(values)
    params["iris"] = list(iris)
    params["texts"] = list(texts)
    return params


def _triple_from(rec: Any) -> Triple:
    o = rec["o"]
    if o is None:
        o = Literal(rec["v"], rec["dt"], rec["lang"])
    return Triple(rec["s"], rec["p"], o)


def _chunks(rows: list[Any], n: int | None = None) -> Iterator[list[Any]]:
    n = n or BATCH  # read at call time, so that tests can patch BATCH
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def _to_datetime(value: Any) -> datetime:
    if hasattr(value, "to_native"):
        value = value.to_native()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class Neo4jStore(GraphStore):
    """Graph store on a Neo4j server (see the module docstring for the mapping).

    Args:
        uri: ``bolt://``, ``neo4j://`` (or ``+s`` / ``+ssc``) URI, credentials optional.
        user / password: override those in the URI and in the environment.
        database: the Neo4j database (default: the server's default).
        max_retry_time: seconds the driver keeps retrying a managed transaction.
        driver_config: extra keyword arguments for ``neo4j.GraphDatabase.driver``.
    """

    name = "neo4j"
    capabilities = frozenset(
        {
            Capability.CYPHER,
            Capability.NAMED_GRAPHS,
            Capability.ANNOTATIONS,
            Capability.TRANSACTIONS,
            Capability.PERSISTENCE,
        }
    )

    def __init__(
        self,
        uri: str,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        max_retry_time: float = 30.0,
        **driver_config: Any,
    ) -> None:
        super().__init__()
        driver_config.setdefault("max_transaction_retry_time", max_retry_time)
        self._driver, self._uri, self._user = make_driver(uri, user, password, **driver_config)
        self._database = database
        self._translate = neo4j_errors(self._uri, self._user, "a query")
        try:
            self._ensure_schema()
        except Exception as e:  # noqa: BLE001
            self._driver.close()
            self._raise(e, "schema setup")

    def _ensure_schema(self) -> None:
        """Create the constraints if missing (a user without schema rights may still
        open a database where they exist), and the per-graph tallies if the data was
        written before nesykg kept them."""
        import neo4j.exceptions as nx

        with self._driver.session(database=self._database) as session:
            names = {r["name"] for r in session.run("SHOW INDEXES YIELD name RETURN name")}
            names |= {r["name"] for r in session.run("SHOW CONSTRAINTS YIELD name RETURN name")}
            for stmt in SCHEMA:
                name = stmt.split()[2]
                if name in names:
                    continue
                try:
                    session.run(stmt).consume()
                except nx.ClientError as e:
                    if "Security" in (e.code or ""):
                        raise StoreError(
                            f"Neo4j at {self._uri}: user {self._user!r} may not create the index or"
                            f" constraint {name}"
                            " that nesykg needs; create it once as an admin or use an admin user"
                        ) from None
                    raise
            if session.run(_ANY_REL).peek() is not None and session.run(_COUNTED).peek() is None:
                # written by a nesykg that kept no per-graph tallies: count once
                session.execute_write(lambda tx: tx.run(_RECOUNT).consume())

    # ------------------------------------------------------------- plumbing
    @property
    def location(self) -> str:
        return self._uri

    @property
    def driver(self) -> Any:
        """The underlying ``neo4j.Driver`` (for Cypher; writes should go through nesykg)."""
        return self._driver

    @property
    def database(self) -> str | None:
        return self._database

    def _raise(self, e: BaseException, action: str) -> None:
        err = neo4j_errors(self._uri, self._user, action)(e)
        if err is e:
            raise e
        raise err from None

    def _read(self, query: str, **params: Any) -> list[Any]:
        @no_futile_retries
        def work(tx: Any) -> list[Any]:
            return list(tx.run(query, params))

        try:
            with self._driver.session(database=self._database) as session:
                return session.execute_read(work)
        except Exception as e:  # noqa: BLE001
            self._raise(e, "read")
            raise  # unreachable

    # ----------------------------------------------------------------- writes
    def _apply(self, changes: ChangeSet) -> None:
        steps: list[tuple[str, dict[str, Any]]] = []

        removed_iris: set[str] = set()
        removed_lits: set[str] = set()
        for is_lit in (False, True):
            rows = [dict(_row(t), g=g) for t, g in changes.remove if (type(t[2]) is not str) == is_lit]
            for chunk in _chunks(rows):
                steps.append((_REMOVE.replace("%OBJ%", _OBJ[is_lit]), {"rows": chunk}))
        for t, _ in changes.remove:
            removed_iris.add(t[0])
            if type(t[2]) is str:
                removed_iris.add(t[2])
            else:
                removed_lits.add(literal_key(t[2]))  # type: ignore[arg-type]
        if changes.undo_runs:
            steps.append((_UNDO, {"runs": list(dict.fromkeys(changes.undo_runs))}))
        if removed_iris:
            for chunk in _chunks(sorted(removed_iris)):
                steps.append((_DROP_ORPHANS, {"keys": chunk}))
        if removed_lits:
            for chunk in _chunks(sorted(removed_lits)):
                steps.append((_DROP_ORPHAN_LITS, {"keys": chunk}))

        adds: list[tuple[str, dict[str, Any]]] = []
        for is_lit in (False, True):
            by_graph: dict[str, list[Triple]] = {}
            for t, g in dict.fromkeys(changes.add):
                if (type(t[2]) is not str) == is_lit:
                    by_graph.setdefault(g, []).append(t)
            for g, triples in sorted(by_graph.items()):
                for chunk in _chunks(triples):
                    params = _columns(chunk, is_lit)
                    params["g"] = g
                    adds.append((_statement(_ADD, is_lit), params))
            seen: set[tuple[str, Triple]] = set()
            records = []
            for t, p in changes.provenance:
                if (type(t[2]) is not str) != is_lit or (p.run_id, t) in seen:
                    continue  # the first record of a (run, triple) wins
                seen.add((p.run_id, t))
                records.append((t, p))
            for chunk in _chunks(records):
                params = _columns([t for t, _ in chunk], is_lit, [p for _, p in chunk])
                adds.append((_statement(_ADD_PROV, is_lit), params))
        if not steps and not adds:
            return

        graphs = {g for _, g in changes.add} | {g for _, g in changes.remove}
        if changes.provenance or changes.undo_runs:
            graphs.add(INFERRED)

        @no_futile_retries
        def work(tx: Any) -> None:
            tx.run(_LOCK, graphs=sorted(graphs)).consume()
            for query, params in steps + adds:
                tx.run(query, params).consume()

        try:
            with self._driver.session(database=self._database) as session:
                session.execute_write(work)
        except Exception as e:  # noqa: BLE001
            self._raise(e, "write (the transaction was rolled back or not confirmed; retrying it is safe)")

    def undo(self, run_id: str) -> int:
        """Remove exactly what run `run_id` wrote, in one transaction (see `GraphStore.undo`).

        Its ``inferred`` relationships are deleted; a triple another run also wrote
        keeps that run's relationship, so it stays.
        """
        if self._pending is not None:  # inside a transaction block: the generic way
            return super().undo(run_id)
        self.require(Capability.ANNOTATIONS)
        missing = object()

        @no_futile_retries
        def work(tx: Any) -> Any:
            tx.run(_LOCK, graphs=[INFERRED]).consume()
            rec = tx.run(_UNDO_COUNT, run=run_id).single()
            if not rec or not rec["records"]:
                return missing
            tx.run(_UNDO, runs=[run_id]).consume()
            return rec["gone"]

        try:
            with self._driver.session(database=self._database) as session:
                gone = session.execute_write(work)
        except Exception as e:  # noqa: BLE001
            self._raise(e, f"undo of run {run_id!r}")
            raise  # unreachable
        if gone is missing:
            raise UnknownNameError("run", run_id, [r.run_id for r in self.runs()])
        return int(gone)

    # ------------------------------------------------------------------ reads
    @staticmethod
    def _pattern_query(
        pattern: Pattern, ret: str, distinct: bool = True, extra: str = "", any_graph: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """Cypher matching `pattern` in the graphs ``$graphs`` (in every graph when
        `any_graph`: each ``REL`` belongs to exactly one user graph)."""
        s, p, o = pattern
        params: dict[str, Any] = {}
        subj = "(s:Resource)"
        if s is not None:
            subj = "(s:Resource {iri: $s})"
            params["s"] = s
        if o is None:
            obj = "(o)"
        elif type(o) is str:
            obj = "(o:Resource {iri: $o})"
            params["o"] = o
        else:
            obj = "(o:Literal {key: $o})"
            params["o"] = literal_key(o)  # type: ignore[arg-type]
        where = _where(p, any_graph, params) + extra
        # A bound end is always an index seek. Left to itself, the planner may scan the whole
        # iri index in order to feed the grouped RETURN in order (seen with plans made while
        # the database was small: 17k index entries read for one subject, 3.5 ms, not 1.2 ms).
        hint = ""
        if s is not None:
            hint = "USING INDEX s:Resource(iri) "
        elif o is not None:
            hint = "USING INDEX o:Resource(iri) " if type(o) is str else "USING INDEX o:Literal(key) "
        distinct_ = "DISTINCT " if distinct else ""
        query = f"MATCH {subj}-[r:REL]->{obj} {hint}WHERE {where} RETURN {distinct_}{ret}"
        return query, params

    def _match(self, pattern: Pattern, graphs: tuple[str, ...]) -> Iterator[Triple]:
        return self._grouped(pattern, graphs)

    def _match_all(self, pattern: Pattern) -> Iterator[Triple]:
        return self._grouped(pattern, None)  # each triple once: collect(DISTINCT ...) per subject

    def _grouped(self, pattern: Pattern, graphs: tuple[str, ...] | None) -> Iterator[Triple]:
        for t in pattern:
            if t is not None and not isinstance(t, (str, Literal)):
                raise InputError(f"invalid term in pattern {pattern!r}")
        # one record per subject: the driver spends most of a large read creating records
        if pattern[0] is None and pattern[2] is None:
            records: Iterable[Any] = self._pages(pattern[1], graphs)
        else:
            query, params = self._pattern_query(
                pattern, _RETURN_GROUPED, distinct=False, any_graph=graphs is None
            )
            records = self._read(query, graphs=list(graphs or ()), **params)
        for rec in records:
            subj = rec["s"]
            for row in rec["po"]:
                if len(row) == 2:
                    yield Triple(subj, row[0], row[1])
                else:
                    yield Triple(subj, row[0], Literal(row[2], row[3], row[4]))

    def _pages(self, predicate: str | None, graphs: tuple[str, ...] | None) -> Iterator[Any]:
        """The grouped records of a read binding neither end, a page of subjects at a
        time (see `_PAGE`): memory is bounded by one page."""
        params: dict[str, Any] = {"graphs": list(graphs or ()), "page": SCAN_PAGE}
        query = _PAGE.replace("%WHERE%", _where(predicate, graphs is None, params))
        after = ""
        while True:
            page = self._read(query, after=after, **params)
            for rec in page:
                if rec["po"]:
                    yield rec
            if len(page) < SCAN_PAGE:
                return
            after = max(rec["s"] for rec in page)

    def _count(self, pattern: Pattern, graph: str) -> int:
        if graph == INFERRED:  # one relationship per (triple, run): count triples once
            return self._count_union(pattern, (graph,))
        if pattern == (None, None, None):
            return self._tallies().get(graph, 0)
        query, params = self._pattern_query(pattern, "count(r) AS n", distinct=False)
        return self._read(query, graphs=[graph], **params)[0]["n"]

    def _count_union(self, pattern: Pattern, graphs: tuple[str, ...] | None) -> int:
        # counted on the server: a triple in several graphs (or several runs) counts once
        query, params = self._pattern_query(pattern, _COUNT_DISTINCT, distinct=False, any_graph=graphs is None)
        return self._read(query, graphs=list(graphs or ()), **params)[0]["n"]

    def _count_all(self, pattern: Pattern) -> int:
        return self._count_union(pattern, None)

    def _tallies(self) -> dict[str, int]:
        """Relationships per non-empty graph, from the :NamedGraph tallies: O(graphs)."""
        recs = self._read(
            "MATCH (g:NamedGraph) WHERE g.relationships > 0 RETURN g.iri AS g, g.relationships AS n"
        )
        return {r["g"]: r["n"] for r in recs}

    def _graph_names(self) -> list[str]:
        return list(self._tallies())

    def _provenance_records(
        self, triple: Triple | None = None, run_id: str | None = None
    ) -> list[tuple[Triple, Provenance]]:
        ret = _RETURN_TRIPLE + ", r.run_id AS run, r.confidence AS c, r.method AS m, r.evidence AS e, r.time AS t"
        if triple is not None:
            query, params = self._pattern_query(triple, ret, distinct=False, extra=" AND r.run_id IS NOT NULL")
        elif run_id is not None:
            query = (
                "MATCH (s:Resource)-[r:REL {run_id: $run}]->(o) USING INDEX r:REL(run_id) "
                f"WHERE r.graph IN $graphs RETURN {ret}"
            )
            params = {"run": run_id}
        else:
            query = f"MATCH (s:Resource)-[r:REL]->(o) WHERE r.graph IN $graphs AND r.run_id IS NOT NULL RETURN {ret}"
            params = {}
        out = []
        for rec in self._read(query, graphs=[INFERRED], **params):
            if run_id is not None and rec["run"] != run_id:
                continue
            prov = Provenance(
                confidence=float(rec["c"]),
                method=rec["m"],
                evidence=rec["e"] if rec["e"] is not None else "",
                run_id=rec["run"],
                time=_to_datetime(rec["t"]),
            )
            out.append((_triple_from(rec), prov))
        return out

    def stats(self) -> StoreStats:
        per_graph = {g: n for g, n in self._tallies().items() if g != INFERRED}
        inferred = self._count((None, None, None), INFERRED)
        if inferred:
            per_graph[INFERRED] = inferred
        ents = self._read(
            "MATCH (n:Resource) WHERE EXISTS { (n)-[:REL]-() } RETURN count(n) AS n"
        )[0]["n"]
        rels = self._read("MATCH ()-[r:REL]->() RETURN count(DISTINCT r.predicate) AS n")[0]["n"]
        runs = self._read("MATCH ()-[r:REL]->() WHERE r.run_id IS NOT NULL RETURN count(DISTINCT r.run_id) AS n")[0]["n"]
        return StoreStats(self.name, self.location, dict(sorted(per_graph.items())), ents, rels, runs)

    # ----------------------------------------------------------------- extras
    def cypher(self, query: str, params: dict[str, Any] | None = None, limit: int = 1000, timeout_s: float = 30.0) -> Any:
        """Run a read-only Cypher query (see `nesykg.kg.cypher.run_readonly_cypher`)."""
        from nesykg.kg.cypher import run_readonly_cypher

        return run_readonly_cypher(self, query, params, limit=limit, timeout_s=timeout_s)

    def clear(self) -> None:
        """Delete every nesykg node and relationship (``:Resource``, ``:Literal``,
        ``:NamedGraph``, ``:REL``), in batches; other data in the database is left alone.
        Not transactional."""
        if self._pending is not None:
            raise InputError("clear() cannot run inside a transaction block")
        try:
            with self._driver.session(database=self._database) as session:
                session.run(
                    "MATCH ()-[r:REL]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS"
                ).consume()
                session.run(
                    "MATCH (n) WHERE (n:Resource OR n:Literal OR n:NamedGraph) AND NOT EXISTS { (n)--() } "
                    "CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                ).consume()
        except Exception as e:  # noqa: BLE001
            self._raise(e, "clear")

    def _close(self) -> None:
        self._driver.close()


# -------------------------------------------------------------- property graphs
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
