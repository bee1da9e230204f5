"""The Cypher statements of the Neo4j backend and the parameter rows they take.

No user text is ever spliced into these statements: every value travels as a parameter.
The f-strings below only assemble fixed fragments.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from nesykg.kg.provenance import Provenance
from nesykg.kg.terms import Literal, Triple

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


