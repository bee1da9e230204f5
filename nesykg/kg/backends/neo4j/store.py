"""`Neo4jStore`: the `GraphStore` on a Neo4j server (the mapping: see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from nesykg.errors import (
    InputError,
    StoreError,
    UnknownNameError,
)
from nesykg.kg.backends.neo4j.cypher import run_readonly_cypher
from nesykg.kg.backends.neo4j.driver import make_driver, neo4j_errors, no_futile_retries
from nesykg.kg.backends.neo4j.queries import (  # package-internal statements
    _ADD,
    _ADD_PROV,
    _ANY_REL,
    _COUNT_DISTINCT,
    _COUNTED,
    _DROP_ORPHAN_LITS,
    _DROP_ORPHANS,
    _LOCK,
    _OBJ,
    _PAGE,
    _RECOUNT,
    _REMOVE,
    _RETURN_GROUPED,
    _RETURN_TRIPLE,
    _UNDO,
    _UNDO_COUNT,
    BATCH,
    SCAN_PAGE,
    SCHEMA,
    _columns,
    _row,
    _statement,
    _where,
    literal_key,
)
from nesykg.kg.provenance import Provenance
from nesykg.kg.store import Capability, ChangeSet, GraphStore, StoreStats
from nesykg.kg.terms import INFERRED, Literal, Pattern, Triple


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
        """Run a read-only Cypher query (see `nesykg.kg.backends.neo4j.cypher.run_readonly_cypher`)."""
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
