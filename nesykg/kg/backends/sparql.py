"""A `GraphStore` on any SPARQL 1.1 Query + Update endpoint, over HTTP.

The RDF layout is the embedded Oxigraph backend's (`nesykg.kg.backends.oxigraph`):
graph ``name`` is the named graph ``urn:nesykg:graph:name``; provenance records are
RDF 1.2 reifiers in ``urn:nesykg:graph:provenance``::

    <urn:nesykg:prov:KEY> rdf:reifies <<( s p o )>> ; nk:graph graph:inferred ;
        nk:run "…" ; nk:method "…" ; nk:confidence 0.9 ; nk:evidence "…" ; nk:time "…"^^xsd:dateTime .

so a store copied between the two backends reads the same through SPARQL. The endpoint
must support RDF 1.2 triple terms for provenance (Oxigraph does); plain triples work on
any SPARQL 1.1 endpoint.

Writes: one `ChangeSet` is one SPARQL update request (``DELETE DATA`` / run undo /
``INSERT DATA`` joined with ``;``), which Oxigraph applies as one transaction. Every
term in a request is serialised by pyoxigraph from a validated term object, and the
terms of read patterns travel in ``VALUES`` blocks built the same way: no user text is
spliced into SPARQL.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import pyoxigraph as ox

from nesykg.errors import (
    AuthenticationError,
    InputError,
    QueryTimeoutError,
    StoreError,
    StoreUnavailableError,
    UnknownNameError,
)
from nesykg.kg.backends.oxigraph import (
    _NK_CONF,
    _NK_EVIDENCE,
    _NK_GRAPH,
    _NK_METHOD,
    _NK_RUN,
    _NK_TIME,
    _PROV_G,
    _PROV_NS,
    _RDF_REIFIES,
    _XSD_DATETIME,
    _XSD_DOUBLE,
    from_ox,
    result_term,
    to_ox,
)
from nesykg.kg.provenance import Provenance, record_key
from nesykg.kg.store import Capability, ChangeSet, GraphStore, QueryRows, StoreStats
from nesykg.kg.terms import DEFAULT_GRAPHS, GRAPH_NS, INFERRED, NS, PROVENANCE_GRAPH, Pattern, Triple, graph_iri, graph_name

__all__ = ["SparqlStore", "derive_update_url"]

_PREFIXES = f"PREFIX nk: <{NS}>\nPREFIX graph: <{GRAPH_NS}>\n"
_JSON = "application/sparql-results+json"
_NT = "application/n-triples"
_CHUNK = 2_000  # terms per VALUES block in lookups


def derive_update_url(query_url: str) -> str:
    """``…/query`` -> ``…/update``; any other URL (``…/sparql``) is used for both."""
    parts = urllib.parse.urlsplit(query_url)
    path = parts.path
    if path.endswith("/query"):
        path = path[: -len("query")] + "update"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _term_text(term: Any) -> str:
    if type(term) is ox.Triple:
        return f"<<( {term.subject} {term.predicate} {term.object} )>>"
    return str(term)  # pyoxigraph's N-Triples serialisation, with escaping


def _user_graph(node: Any) -> str | None:
    """The nesykg name of a user graph's IRI node (None: not ours, or the provenance graph)."""
    name = graph_name(node.value) if isinstance(node, ox.NamedNode) else None
    return None if name == PROVENANCE_GRAPH else name


class SparqlStore(GraphStore):
    """Graph store on a remote SPARQL 1.1 endpoint.

    Args:
        query_url: the query endpoint (e.g. ``http://localhost:7878/query``).
        update_url: the update endpoint; derived from `query_url` when omitted.
        timeout_s: HTTP timeout per request.
        user / password: HTTP basic authentication, if the endpoint needs it.
    """

    name = "sparql"
    capabilities = frozenset(
        {
            Capability.SPARQL,
            Capability.NAMED_GRAPHS,
            Capability.ANNOTATIONS,
            Capability.TRANSACTIONS,
            Capability.PERSISTENCE,
        }
    )

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        timeout_s: float = 300.0,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__()
        if not str(query_url).lower().startswith(("http://", "https://")):
            raise InputError(f"a SPARQL endpoint URL starts with http:// or https://, got {query_url!r}")
        self._query_url = str(query_url)
        self._update_url = update_url or derive_update_url(self._query_url)
        self._timeout = timeout_s
        self._headers: dict[str, str] = {}
        if user is not None:
            import base64

            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._user = user
        self._ask("ASK {}")  # fail early, with the address, when the endpoint is unreachable

    @property
    def location(self) -> str:
        return self._query_url

    @property
    def update_url(self) -> str:
        return self._update_url

    # -------------------------------------------------------------------- http
    def _post(self, url: str, body: str, content_type: str, accept: str | None, what: str) -> bytes:
        with self._open(url, body, content_type, accept, what) as resp:
            try:
                return resp.read()
            except OSError as e:
                raise self._lost(url, what, e) from None

    def _lost(self, url: str, what: str, e: OSError, timeout: float | None = None) -> StoreError:
        """The error for a connection that failed while a response was being read."""
        if isinstance(e, TimeoutError):
            return QueryTimeoutError(f"{what} at {url} took longer than {timeout or self._timeout:g} s")
        return StoreUnavailableError(
            f"lost the SPARQL endpoint {url} while reading the answer to {what}: {e}"
        )

    def _open(
        self, url: str, body: str, content_type: str, accept: str | None, what: str, timeout: float | None = None
    ) -> Any:
        """POST `body`; returns the open response (the caller closes it)."""
        timeout = timeout or self._timeout
        shown = url.split("?", 1)[0]  # messages name the endpoint, not the graph parameters
        headers = {"Content-Type": content_type + "; charset=utf-8", **self._headers}
        if accept:
            headers["Accept"] = accept
        req = urllib.request.Request(url, data=body.encode("utf-8"), headers=headers, method="POST")
        try:
            return urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace").strip()[:500]
            if e.code in (401, 403):
                raise AuthenticationError(
                    f"the SPARQL endpoint {shown} refused {what} (HTTP {e.code})"
                    + (f" for user {self._user!r}" if self._user else "")
                    + f": {detail}"
                ) from None
            if e.code == 400:
                raise InputError(f"the SPARQL endpoint {shown} rejected {what}: {detail}") from None
            raise StoreError(f"the SPARQL endpoint {shown} failed {what} (HTTP {e.code}): {detail}") from None
        except TimeoutError:
            raise QueryTimeoutError(f"{what} at {shown} took longer than {timeout:g} s") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise QueryTimeoutError(f"{what} at {shown} took longer than {timeout:g} s") from None
            raise StoreUnavailableError(f"cannot reach the SPARQL endpoint {shown}: {e.reason}") from None
        except OSError as e:
            raise StoreUnavailableError(f"cannot reach the SPARQL endpoint {shown}: {e}") from None

    def _query(
        self,
        query: str,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        accept: str = _JSON,
    ) -> Any:
        url = self._query_url
        if default_graphs is not None:
            # SPARQL protocol: with default-graph-uri and no named-graph-uri the dataset has
            # no named graphs, so GRAPH ?g {...} needs them listed too.
            params = [("default-graph-uri", graph_iri(g)) for g in default_graphs]
            params += [("named-graph-uri", graph_iri(g)) for g in named_graphs or ()]
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        data = self._post(url, query, "application/sparql-query", accept, "a query")
        if accept == _NT:
            return list(ox.parse(data, ox.RdfFormat.N_TRIPLES))
        try:
            return ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as e:
            raise StoreError(f"unreadable results from {self._query_url}: {e}") from None

    def _select(self, query: str, default_graphs: Iterable[str] | None = None) -> Iterator[Any]:
        return iter(self._query(query, default_graphs))

    def _stream(self, query: str) -> Iterator[Any]:
        """The solutions of a SELECT, parsed as the response arrives: a large answer is
        never held whole (memory: the parser's buffer and one solution)."""
        what = "a query"
        resp = self._open(self._query_url, query, "application/sparql-query", _JSON, what)
        with resp:
            try:
                yield from ox.parse_query_results(resp, ox.QueryResultsFormat.JSON)
            except (SyntaxError, ValueError) as e:
                raise StoreError(f"unreadable results from {self._query_url}: {e}") from None
            except OSError as e:
                raise self._lost(self._query_url, what, e) from None

    def _ask(self, query: str) -> bool:
        return bool(self._query(query))

    def _update(self, update: str) -> None:
        self._post(self._update_url, update, "application/sparql-update", None, "an update")

    # ----------------------------------------------------------------- writes
    def _prov_quads(self, triple: Triple, prov: Provenance) -> list[ox.Quad]:
        r = ox.NamedNode(_PROV_NS + record_key(prov.run_id, triple))
        g = _PROV_G
        return [
            ox.Quad(r, _RDF_REIFIES, ox.Triple(*(to_ox(x) for x in triple)), g),
            ox.Quad(r, _NK_GRAPH, ox.NamedNode(graph_iri(INFERRED)), g),
            ox.Quad(r, _NK_RUN, ox.Literal(prov.run_id), g),
            ox.Quad(r, _NK_METHOD, ox.Literal(prov.method), g),
            ox.Quad(r, _NK_CONF, ox.Literal(repr(float(prov.confidence)), datatype=_XSD_DOUBLE), g),
            ox.Quad(r, _NK_EVIDENCE, ox.Literal(prov.evidence), g),
            ox.Quad(r, _NK_TIME, ox.Literal(prov.time.isoformat(), datatype=_XSD_DATETIME), g),
        ]

    def _existing_records(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), _CHUNK):
            values = " ".join(str(ox.NamedNode(_PROV_NS + k)) for k in keys[i : i + _CHUNK])
            q = f"SELECT ?r WHERE {{ VALUES ?r {{ {values} }} GRAPH {_PROV_G} {{ ?r {_RDF_REIFIES} ?t }} }}"
            for row in self._select(q):
                found.add(row["r"].value[len(_PROV_NS) :])
        return found

    def _apply(self, changes: ChangeSet) -> None:
        adds = [ox.Quad(ox.NamedNode(t[0]), ox.NamedNode(t[1]), to_ox(t[2]), ox.NamedNode(graph_iri(g))) for t, g in changes.add]
        records: dict[str, tuple[Triple, Provenance]] = {}
        for triple, prov in changes.provenance:
            records.setdefault(record_key(prov.run_id, triple), (triple, prov))  # first record wins
        if records:
            existing = self._existing_records(list(records))
            inferred = ox.NamedNode(graph_iri(INFERRED))
            for key, (triple, prov) in records.items():
                if key in existing:
                    continue
                adds.append(ox.Quad(ox.NamedNode(triple[0]), ox.NamedNode(triple[1]), to_ox(triple[2]), inferred))
                adds.extend(self._prov_quads(triple, prov))

        def data_block(quads: list[ox.Quad]) -> str:
            body = " ".join(
                f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {_term_text(q.object)} }}" for q in quads
            )
            return "{ " + body + " }"

        ops: list[str] = []
        if changes.remove:
            rem = [ox.Quad(ox.NamedNode(t[0]), ox.NamedNode(t[1]), to_ox(t[2]), ox.NamedNode(graph_iri(g))) for t, g in changes.remove]
            ops.append("DELETE DATA " + data_block(rem))
        for run_id in dict.fromkeys(changes.undo_runs):
            run = ox.Literal(run_id)
            ops.append(
                f"DELETE {{ GRAPH {_PROV_G} {{ ?r ?p ?o }} }} "
                f"WHERE {{ GRAPH {_PROV_G} {{ ?r {_NK_RUN} {run} . ?r ?p ?o }} }}"
            )
        if adds:
            ops.append("INSERT DATA " + data_block(adds))
        if ops:
            self._update(" ;\n".join(ops))

    def undo(self, run_id: str) -> int:
        """Remove exactly what run `run_id` wrote, in one update request (one transaction
        on Oxigraph) instead of a query per triple; see `GraphStore.undo`."""
        if self._pending is not None:  # inside a transaction block: the generic way
            return super().undo(run_id)
        self.require(Capability.ANNOTATIONS)
        run = ox.Literal(run_id)
        # MINUS on the whole triple term ?t: Oxigraph evaluates it as one hash join
        # (FILTER NOT EXISTS, or a <<( ?s ?p ?o )>> pattern, re-scans the reifiers per record).
        mine = f"GRAPH {_PROV_G} {{ ?r {_NK_RUN} {run} ; {_RDF_REIFIES} ?t }}"
        others = (
            f"MINUS {{ GRAPH {_PROV_G} {{ ?r2 {_RDF_REIFIES} ?t ; {_NK_RUN} ?run2 "
            f"FILTER(?run2 != {run}) }} }}"
        )
        spo = "BIND(SUBJECT(?t) AS ?s) BIND(PREDICATE(?t) AS ?p) BIND(OBJECT(?t) AS ?o)"
        count = lambda q: int(next(self._select(q))["n"].value)  # noqa: E731
        records = count(f"SELECT (COUNT(?r) AS ?n) WHERE {{ GRAPH {_PROV_G} {{ ?r {_NK_RUN} {run} }} }}")
        gone = count(f"SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ {mine} {others} }}") if records else 0
        if not records:
            raise UnknownNameError("run", run_id, [r.run_id for r in self.runs()])
        inferred = ox.NamedNode(graph_iri(INFERRED))
        self._update(
            f"DELETE {{ GRAPH {inferred} {{ ?s ?p ?o }} }} WHERE {{ {mine} {others} {spo} }} ;\n"
            f"DELETE {{ GRAPH {_PROV_G} {{ ?r ?x ?y }} }} WHERE {{ GRAPH {_PROV_G} {{ ?r {_NK_RUN} {run} . ?r ?x ?y }} }}"
        )
        return gone

    # ------------------------------------------------------------------ reads
    @staticmethod
    def _pattern_text(pattern: Pattern) -> tuple[str, str]:
        """``VALUES`` blocks for the bound positions, and the triple pattern."""
        values = []
        for var, term in zip(("?s", "?p", "?o"), pattern):
            if term is None:
                continue
            if var != "?o" and not isinstance(term, str):
                raise InputError(f"invalid term in pattern {pattern!r}: only the object may be a literal")
            try:
                node = to_ox(term)
            except (ValueError, TypeError, AttributeError) as e:
                raise InputError(f"invalid term in pattern {pattern!r}: {e}") from None
            values.append(f"VALUES {var} {{ {node} }}")
        return " ".join(values), "?s ?p ?o"

    def _match(self, pattern: Pattern, graphs: tuple[str, ...]) -> Iterator[Triple]:
        if not graphs:
            return
        values, tp = self._pattern_text(pattern)
        gvals = " ".join(f"<{graph_iri(g)}>" for g in graphs)
        distinct = "DISTINCT " if len(graphs) > 1 else ""
        q = f"SELECT {distinct}?s ?p ?o WHERE {{ {values} VALUES ?g {{ {gvals} }} GRAPH ?g {{ {tp} }} }}"
        yield from self._triples(q)

    def _triples(self, query: str) -> Iterator[Triple]:
        """The ``?s ?p ?o`` solutions of `query` as triples, streamed."""
        for row in self._stream(query):
            yield Triple(from_ox(row["s"]), from_ox(row["p"]), from_ox(row["o"]))

    # Reads naming no graph: every nesykg graph but the provenance one, found by its IRI
    # in the same query (listing the endpoint's graphs first took 5-20 ms on Oxigraph).
    _USER_GRAPHS = (
        f'FILTER(isIRI(?g) && STRSTARTS(STR(?g), "{GRAPH_NS}") && ?g != <{graph_iri(PROVENANCE_GRAPH)}>)'
    )

    def _match_all(self, pattern: Pattern) -> Iterator[Triple]:
        values, tp = self._pattern_text(pattern)
        q = f"SELECT DISTINCT ?s ?p ?o WHERE {{ {values} GRAPH ?g {{ {tp} }} {self._USER_GRAPHS} }}"
        return self._triples(q)

    def _count_all(self, pattern: Pattern) -> int:
        values, tp = self._pattern_text(pattern)
        q = (
            f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ {values} "
            f"GRAPH ?g {{ {tp} }} {self._USER_GRAPHS} }} }}"
        )
        return int(next(self._select(q))["n"].value)

    def _count(self, pattern: Pattern, graph: str) -> int:
        values, tp = self._pattern_text(pattern)
        q = f"SELECT (COUNT(*) AS ?n) WHERE {{ {values} GRAPH <{graph_iri(graph)}> {{ {tp} }} }}"
        return int(next(self._select(q))["n"].value)

    def _graph_sizes(self) -> dict[str, int]:
        q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        sizes = {}
        for row in self._select(q):
            name = _user_graph(row["g"])
            if name is not None:
                sizes[name] = int(row["n"].value)
        return sizes

    def _graph_names(self) -> list[str]:
        # the named graphs that hold a triple (EXISTS stops at a graph's first one), not
        # a count of every quad (70 ms at 185k triples on Oxigraph; this takes 5 ms)
        q = "SELECT ?g WHERE { GRAPH ?g { } FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }"
        return [name for row in self._select(q) if (name := _user_graph(row["g"])) is not None]

    def _provenance_records(
        self, triple: Triple | None = None, run_id: str | None = None
    ) -> list[tuple[Triple, Provenance]]:
        values = ""
        if triple is not None:
            values = f"VALUES ?t {{ {_term_text(ox.Triple(*(to_ox(x) for x in triple)))} }}"
        elif run_id is not None:
            values = f"VALUES ?run {{ {ox.Literal(run_id)} }}"
        q = (
            f"SELECT ?t ?run ?m ?c ?e ?time WHERE {{ {values} GRAPH {_PROV_G} {{ ?r {_RDF_REIFIES} ?t ; "
            f"{_NK_RUN} ?run ; {_NK_METHOD} ?m ; {_NK_CONF} ?c ; {_NK_EVIDENCE} ?e ; {_NK_TIME} ?time }} }}"
        )
        out = []
        for row in self._select(q):
            tt = row["t"]
            out.append(
                (
                    Triple(from_ox(tt.subject), from_ox(tt.predicate), from_ox(tt.object)),
                    Provenance(
                        confidence=float(row["c"].value),
                        method=row["m"].value,
                        evidence=row["e"].value,
                        run_id=row["run"].value,
                        time=datetime.fromisoformat(row["time"].value),
                    ),
                )
            )
        return out

    # ------------------------------------------------------------------ query
    def _sparql(
        self,
        query: str,
        graphs: tuple[str, ...],
        timeout: float | None,
        max_rows: int | None,
        max_memory: int | None,
    ) -> Any:
        """Results are parsed as they arrive and reading stops at `max_rows` (client memory:
        the rows kept); past `timeout` the connection is closed. The server's own
        ``--timeout-s`` bounds what it computes for a query whose first row never comes."""
        import time

        from nesykg.kg.sparql_guard import query_form

        named = sorted(set(self._graph_names()) | set(DEFAULT_GRAPHS) | {PROVENANCE_GRAPH})
        params = [("default-graph-uri", graph_iri(g)) for g in graphs]
        params += [("named-graph-uri", graph_iri(g)) for g in named]
        url = self._query_url + ("&" if "?" in self._query_url else "?") + urllib.parse.urlencode(params)
        form = query_form(query)
        accept = _NT if form in ("CONSTRUCT", "DESCRIBE") else _JSON
        deadline = None if timeout is None else time.monotonic() + timeout
        what = "a query"

        def too_late() -> bool:
            return deadline is not None and time.monotonic() > deadline

        resp = self._open(url, _PREFIXES + query, "application/sparql-query", accept, what, timeout=timeout)
        rows = QueryRows()
        with resp:
            try:
                if accept == _NT:
                    items: Any = ox.parse(resp, ox.RdfFormat.N_TRIPLES)

                    def convert(t: Any) -> Any:
                        return Triple(from_ox(t.subject), from_ox(t.predicate), result_term(t.object))

                else:
                    parsed = ox.parse_query_results(resp, ox.QueryResultsFormat.JSON)
                    if isinstance(parsed, ox.QueryBoolean):
                        return bool(parsed)
                    variables = [v.value for v in parsed.variables]
                    items = parsed

                    def convert(sol: Any) -> Any:
                        return {v: result_term(sol[v]) for v in variables if sol[v] is not None}

                for item in items:
                    if too_late():
                        raise QueryTimeoutError(f"{what} at {self._query_url} ran past its timeout of {timeout:g} s")
                    if max_rows is not None and len(rows) >= max_rows:
                        rows.truncated = True
                        break
                    rows.append(convert(item))
            except (SyntaxError, ValueError) as e:
                raise StoreError(f"unreadable results from {self._query_url}: {e}") from None
            except OSError as e:
                raise self._lost(self._query_url, what, e, timeout) from None
        return rows

    def stats(self) -> StoreStats:
        names = self._resolve_graphs(None)
        per_graph = {g: n for g, n in sorted(self._graph_sizes().items()) if n}
        gvals = " ".join(f"<{graph_iri(g)}>" for g in names)
        ents = (
            f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ VALUES ?g {{ {gvals} }} "
            "GRAPH ?g { { ?e ?p ?o } UNION { ?s ?p ?e FILTER(!isLiteral(?e)) } } }"
        )
        rels = f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ VALUES ?g {{ {gvals} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        runs = f"SELECT (COUNT(DISTINCT ?run) AS ?n) WHERE {{ GRAPH {_PROV_G} {{ ?r {_NK_RUN} ?run }} }}"
        n = lambda q: int(next(self._select(q))["n"].value)  # noqa: E731
        return StoreStats(self.name, self.location, per_graph, n(ents), n(rels), n(runs))

    def clear(self) -> None:
        """Drop every nesykg graph (user graphs and provenance) at the endpoint."""
        if self._pending is not None:
            raise InputError("clear() cannot run inside a transaction block")
        graphs = set(self._graph_sizes()) | {PROVENANCE_GRAPH}
        ops = [f"DROP SILENT GRAPH <{graph_iri(g)}>" for g in sorted(graphs)]
        self._update(" ;\n".join(ops))
