"""The embedded default backend, on pyoxigraph (Oxigraph's RocksDB or in-memory store).

Layout in RDF:
    * each nesykg graph ``name`` is the named graph ``urn:nesykg:graph:name``;
    * provenance lives in the system graph ``urn:nesykg:graph:provenance`` as RDF 1.2
      reifiers (a triple term may only be an object in pyoxigraph 0.5)::

        <urn:nesykg:prov:KEY> rdf:reifies <<( s p o )>> ;
            nk:graph <urn:nesykg:graph:inferred> ; nk:run "run-…" ; nk:method "rule" ;
            nk:confidence 0.9 ; nk:evidence "…" ; nk:time "…"^^xsd:dateTime .

      so SPARQL reads it back with ``<< s p o >> nk:confidence ?c``.

Atomicity: additions go through ``Store.extend`` (one transaction); change sets with
removals go through one ``Store.update`` request (one transaction) whose data part is
written by pyoxigraph's own term serialiser, never from raw user text. Large imports into
an empty graph of an on-disk store take a journaled parallel bulk load instead, which is
all-or-nothing too (see `nesykg.kg.backends.oxigraph_bulk`).

Bounded reads: `sparql` with a timeout or memory budget runs the query in a worker that
is killed past its deadline (`nesykg.kg.bounded`): a forked child for the in-memory
store, a fresh interpreter opening the on-disk store read-only otherwise.

Size: about 560 lines, over the ~500 aimed at, because it is one backend (the project
keeps one backend per file); its bulk loader and term conversion already live apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from nesykg.errors import InputError, ParseError, StoreError, StoreLockedError
from nesykg.kg.formats import FORMATS
from nesykg.kg.backends.oxigraph_bulk import (
    BULK_MIN_QUADS,
    Piece,
    default_workers,
    parallel_bulk_load,
    pieces_for,
    recover_interrupted_loads,
    release_free_memory,
)
from nesykg.kg.oxterms import from_ox, result_term, to_ox
from nesykg.kg.provenance import Provenance, record_key
from nesykg.kg.store import (
    Capability,
    ChangeSet,
    GraphStore,
    NQuadsBlock,
    QueryRows,
    RdfFileBlock,
    StoreStats,
    WriteProgress,
)
from nesykg.kg.terms import (
    GRAPH_NS,
    INFERRED,
    NS,
    PROVENANCE_GRAPH,
    XSD,
    Pattern,
    Triple,
    graph_iri,
    graph_name,
)

__all__ = ["OxigraphStore"]

_RDF_REIFIES = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#reifies")
_NK_RUN = ox.NamedNode(NS + "run")
_NK_METHOD = ox.NamedNode(NS + "method")
_NK_CONF = ox.NamedNode(NS + "confidence")
_NK_EVIDENCE = ox.NamedNode(NS + "evidence")
_NK_TIME = ox.NamedNode(NS + "time")
_NK_GRAPH = ox.NamedNode(NS + "graph")
_XSD_STRING = XSD + "string"
_XSD_DOUBLE = ox.NamedNode(XSD + "double")
_XSD_DATETIME = ox.NamedNode(XSD + "dateTime")
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_PROV_G = ox.NamedNode(graph_iri(PROVENANCE_GRAPH))
_PROV_NS = "urn:nesykg:prov:"

_NamedNode = ox.NamedNode
_OxLiteral = ox.Literal


def query_results(result: Any, max_rows: int | None = None) -> Any:
    """pyoxigraph query results as plain values: `QueryRows` of ``{var: term}`` for
    SELECT, a bool for ASK, `QueryRows` of `Triple` for CONSTRUCT/DESCRIBE.

    Results are read lazily: with `max_rows`, at most one row more is computed (to tell
    whether the answer was cut), so a streaming query's memory is bounded by the cap.
    """
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]

        def convert(sol: Any) -> Any:
            return {v: result_term(sol[v]) for v in variables if sol[v] is not None}

    else:

        def convert(t: Any) -> Any:
            return Triple(from_ox(t.subject), from_ox(t.predicate), result_term(t.object))

    rows = QueryRows()
    for item in result:
        if max_rows is not None and len(rows) >= max_rows:
            rows.truncated = True
            break
        rows.append(convert(item))
    return rows


def sparql_syntax_reason(e: SyntaxError, limit: int = 160) -> str:
    """A SPARQL parser error as one line: ``at 1:17: expected one of "$", ... (truncated)``.

    Oxigraph lists every token it would accept, over several lines; the place and the
    first few are what a person (or a model) can act on.
    """
    msg = " ".join(str(getattr(e, "msg", e)).split())
    if msg.startswith("error "):
        msg = msg[len("error ") :]
    return msg if len(msg) <= limit else msg[:limit].rstrip() + " ..."


def _syntax_reason(e: SyntaxError) -> str:
    """The reason in a pyoxigraph parser error, without its "Parser error at …:" prefix."""
    msg = str(getattr(e, "msg", e))
    return msg.split(": ", 1)[1] if msg.startswith("Parser error") and ": " in msg else msg


def _run_query(store: Any, query: str, default_graph: list[Any], max_rows: int | None) -> Any:
    """A checked read query on a pyoxigraph store, results converted (`query_results`)."""
    try:
        result = store.query(query, default_graph=default_graph, prefixes={"nk": NS, "graph": GRAPH_NS})
        return query_results(result, max_rows)
    except SyntaxError as e:
        raise InputError(f"SPARQL syntax error {sparql_syntax_reason(e)}") from None
    except (ValueError, OSError) as e:
        raise InputError(f"SPARQL query failed: {e}") from None


def _read_only_query(path: str, query: str, graphs: list[str], max_rows: int | None) -> Any:
    """`_run_query` on the on-disk store at `path`, opened read-only (for `run_in_worker`)."""
    try:
        store = ox.Store.read_only(path)
    except OSError as e:
        raise StoreError(f"cannot read the store at {path}: {e}") from None
    return _run_query(store, query, [ox.NamedNode(g) for g in graphs], max_rows)


def _quad(t: Triple, g: Any) -> ox.Quad:
    return ox.Quad(_NamedNode(t[0]), _NamedNode(t[1]), to_ox(t[2]), g)


class OxigraphStore(GraphStore):
    """Embedded Oxigraph store: in memory (``path=None``) or on disk.

    Args:
        path: directory of the on-disk store (created if missing); ``None`` for memory.
        bulk_min: on disk, imports of at least this many quads into graphs that are
            still empty use the journaled parallel bulk loader (`oxigraph_bulk`).
        bulk_workers: threads for bulk loads (default: CPUs available, at most 4).
    """

    name = "oxigraph"
    native_bulk = True
    capabilities = frozenset(
        {
            Capability.SPARQL,
            Capability.NAMED_GRAPHS,
            Capability.ANNOTATIONS,
            Capability.TRANSACTIONS,
            Capability.PERSISTENCE,
            Capability.RDFLIB,
        }
    )

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        bulk_min: int = BULK_MIN_QUADS,
        bulk_workers: int | None = None,
        lock_wait: float = 0.0,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self._path = Path(path) if path is not None else None
        self._bulk_min = bulk_min
        self._bulk_workers = bulk_workers or default_workers()
        if self._path is None:
            self._store = ox.Store()
        else:
            self._store = self._open_on_disk(self._path, lock_wait, on_wait)
        self._graph_nodes: dict[str, ox.NamedNode] = {}
        # names of non-empty user graphs; valid until the next write (the store is
        # exclusively ours: an on-disk store is locked to this process)
        self._names_cache: list[str] | None = None
        if self._path is not None:
            recover_interrupted_loads(self._store, str(self._path))

    @staticmethod
    def _open_on_disk(path: Path, lock_wait: float, on_wait: Callable[[str], None] | None) -> Any:
        """Open (creating) the store folder. One process holds an on-disk store at a time
        (RocksDB's LOCK): another waits up to `lock_wait` seconds for it, polling, then
        fails with `StoreLockedError`; nothing is read or written before the lock is ours."""
        import time

        if path.exists() and not path.is_dir():
            raise StoreError(f"cannot open store at {path}: not a directory")
        deadline = time.monotonic() + max(0.0, lock_wait)
        delay = 0.05
        told = False
        while True:
            try:
                return ox.Store(str(path))
            except OSError as e:
                msg = str(e)
                if "lock" not in msg.lower():
                    raise StoreError(f"cannot open store at {path}: {msg}") from None
                if time.monotonic() >= deadline:
                    waited = f" after waiting {lock_wait:g} s" if lock_wait > 0 else ""
                    raise StoreLockedError(
                        f"the store at {path} is in use by another process{waited} (its LOCK is held);"
                        " wait for that process, or open another path"
                    ) from None
                if on_wait is not None and not told:
                    on_wait(f"the store at {path} is in use by another process; waiting up to {lock_wait:g} s")
                    told = True
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 0.5)

    @property
    def location(self) -> str:
        return str(self._path) if self._path is not None else "memory"

    @property
    def raw(self) -> ox.Store:
        """The underlying `pyoxigraph.Store` (reads only: writes bypass provenance)."""
        return self._store

    def _g(self, name: str) -> ox.NamedNode:
        node = self._graph_nodes.get(name)
        if node is None:
            node = self._graph_nodes[name] = _NamedNode(graph_iri(name))
        return node

    # ----------------------------------------------------------------- writes
    def _prov_quads(self, triple: Triple, prov: Provenance) -> list[ox.Quad]:
        r = _NamedNode(_PROV_NS + record_key(prov.run_id, triple))
        g = _PROV_G
        return [
            ox.Quad(r, _RDF_REIFIES, ox.Triple(*(to_ox(x) for x in triple)), g),
            ox.Quad(r, _NK_GRAPH, self._g(INFERRED), g),
            ox.Quad(r, _NK_RUN, _OxLiteral(prov.run_id), g),
            ox.Quad(r, _NK_METHOD, _OxLiteral(prov.method), g),
            ox.Quad(r, _NK_CONF, _OxLiteral(repr(float(prov.confidence)), datatype=_XSD_DOUBLE), g),
            ox.Quad(r, _NK_EVIDENCE, _OxLiteral(prov.evidence), g),
            ox.Quad(r, _NK_TIME, _OxLiteral(prov.time.isoformat(), datatype=_XSD_DATETIME), g),
        ]

    def _apply(self, changes: ChangeSet, progress: WriteProgress | None = None) -> None:
        self._names_cache = None
        if changes.bulk:
            files = [b for b in changes.bulk if isinstance(b, RdfFileBlock)]
            if len(changes.bulk) == 1 and files and not (changes.add or changes.remove or changes.undo_runs or changes.provenance):
                self._load_file(files[0], progress)
                return
            if files or changes.remove or changes.undo_runs or changes.provenance:
                # not produced by nesykg itself; keep atomicity by expanding the text
                expanded = [pair for block in changes.bulk for pair in block.quads()]
                changes = ChangeSet(expanded + changes.add, changes.remove, changes.provenance, changes.undo_runs)
            else:
                self._load_bulk(changes, progress)
                return
        adds = [_quad(t, self._g(g)) for t, g in changes.add]
        seen: set[str] = set()
        for triple, prov in changes.provenance:
            key = record_key(prov.run_id, triple)
            if key in seen or self._has_record(key):
                continue  # idempotent: the first record of a (run, triple) wins
            seen.add(key)
            adds.append(_quad(triple, self._g(INFERRED)))
            adds.extend(self._prov_quads(triple, prov))
        try:
            if not changes.remove and not changes.undo_runs:
                if adds:
                    self._store.extend(adds)
                return
            self._store.update(self._update_text(changes, adds))
        except OSError as e:
            raise self._write_failed(e) from None

    def _load_file(self, block: RdfFileBlock, progress: WriteProgress | None = None) -> None:
        """One RDF file without blank nodes: Oxigraph's parser, one transaction."""
        fmt = getattr(ox.RdfFormat, FORMATS[block.format][1])  # type: ignore[arg-type]
        base_iri = Path(block.source).resolve().as_uri()
        if block.format == "ntriples" and self._bulk_ok([block.graph], block.count or 0):
            pieces = pieces_for(Path(block.source).read_bytes(), block.source, self._bulk_workers)
            count = block.count or 0
            self._bulk(
                pieces, [block.graph], fmt, count, progress, to_graph=self._g(block.graph), base_iri=base_iri
            )
            return
        try:
            self._store.load(
                path=block.source, format=fmt, to_graph=self._g(block.graph), base_iri=base_iri,
            )
        except SyntaxError as e:
            raise ParseError(block.source, e.lineno, _syntax_reason(e), e.offset) from None
        except OSError as e:
            raise self._write_failed(e) from None

    def _load_bulk(self, changes: ChangeSet, progress: WriteProgress | None = None) -> None:
        """Additions only: one native N-Quads load, which is one transaction (or a
        journaled bulk load, on disk into empty graphs)."""
        blocks = list(changes.bulk)
        graphs = [b.graph for b in blocks if isinstance(b, NQuadsBlock)]
        total = sum(b.count for b in blocks)
        if not changes.add and None not in graphs and self._bulk_ok(graphs, total):  # type: ignore[arg-type]
            pieces = [p for b in blocks for p in pieces_for(b.text, b.source, self._bulk_workers)]  # type: ignore[union-attr]
            lenient = all(b.minted for b in blocks)
            self._bulk(
                pieces, sorted(set(graphs)), ox.RdfFormat.N_QUADS, total, progress, lenient=lenient  # type: ignore[arg-type]
            )
            return
        if changes.add:
            text = "".join(f"{_quad(t, self._g(g))} .\n" for t, g in changes.add)
            blocks.append(NQuadsBlock(text, len(changes.add), "<added triples>"))
        starts = []
        line = 1
        for b in blocks:
            starts.append(line)
            line += b.text.count("\n") + (0 if b.text.endswith("\n") else 1)
        try:
            text = blocks[0].text if len(blocks) == 1 else "\n".join(b.text.rstrip("\n") for b in blocks)
            self._store.load(text, format=ox.RdfFormat.N_QUADS, lenient=all(b.minted for b in blocks))
        except SyntaxError as e:
            i = max(j for j, s in enumerate(starts) if s <= (e.lineno or 1))
            raise ParseError(blocks[i].source, (e.lineno or 1) - starts[i] + 1, _syntax_reason(e)) from None
        except OSError as e:
            raise self._write_failed(e) from None

    def _write_failed(self, e: OSError) -> StoreError:
        return StoreError(f"write to {self.location} failed, nothing was written: {e}")

    def _bulk_ok(self, graphs: list[str], count: int) -> bool:
        """Whether a load of `count` quads into `graphs` takes the bulk path."""
        if self._path is None or count < self._bulk_min or not graphs:
            return False
        qfp = self._store.quads_for_pattern
        return all(next(iter(qfp(None, None, None, self._g(g))), None) is None for g in set(graphs))

    def _bulk(
        self,
        pieces: list[Piece],
        graphs: list[str],
        fmt: Any,
        count: int,
        progress: WriteProgress | None,
        **kwargs: Any,
    ) -> None:
        """`parallel_bulk_load` with nesykg's errors; the caller hands over `pieces`.
        `progress` hears each piece's share of the `count` quads once it is loaded."""
        size = sum(len(p.data) for p in pieces) or 1

        def on_piece(piece: Piece) -> None:
            if progress is not None:
                progress(round(count * len(piece.data) / size), count)

        def error(e: BaseException, piece: Piece) -> BaseException:
            if isinstance(e, SyntaxError):
                return ParseError(piece.source, piece.first_line + (e.lineno or 1) - 1, _syntax_reason(e), e.offset)
            return e

        try:
            parallel_bulk_load(
                self._store, pieces, graphs, fmt,
                workers=self._bulk_workers, on_error=error, on_piece=on_piece, **kwargs,
            )
        except OSError as e:
            raise self._write_failed(e) from None
        finally:
            pieces.clear()
            release_free_memory()  # the pieces' buffers, now that nothing holds them

    def _has_record(self, key: str) -> bool:
        r = _NamedNode(_PROV_NS + key)
        return next(iter(self._store.quads_for_pattern(r, _RDF_REIFIES, None, _PROV_G)), None) is not None

    @staticmethod
    def _term_text(term: Any) -> str:
        if type(term) is ox.Triple:
            return f"<<( {term.subject} {term.predicate} {term.object} )>>"
        return str(term)  # pyoxigraph's N-Triples serialisation, with escaping

    def _update_text(self, changes: ChangeSet, adds: list[ox.Quad]) -> str:
        """One SPARQL update (one transaction): deletions, then run undo, then inserts.

        Every term is serialised by pyoxigraph from a validated term object.
        """
        ops: list[str] = []

        def data_block(quads: list[ox.Quad]) -> str:
            body = " ".join(
                f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {self._term_text(q.object)} }}"
                for q in quads
            )
            return "{ " + body + " }"

        if changes.remove:
            ops.append("DELETE DATA " + data_block([_quad(t, self._g(g)) for t, g in changes.remove]))
        for run_id in changes.undo_runs:
            run = _OxLiteral(run_id)
            ops.append(
                f"DELETE {{ GRAPH {_PROV_G} {{ ?r ?p ?o }} }} "
                f"WHERE {{ GRAPH {_PROV_G} {{ ?r {_NK_RUN} {run} . ?r ?p ?o }} }}"
            )
        if adds:
            ops.append("INSERT DATA " + data_block(adds))
        return " ;\n".join(ops)

    # ------------------------------------------------------------------ reads
    def _match(self, pattern: Pattern, graphs: tuple[str, ...]) -> Iterator[Triple]:
        s, p, o = pattern
        try:
            s_ = None if s is None else _NamedNode(s)
            p_ = None if p is None else _NamedNode(p)
            o_ = None if o is None else to_ox(o)
        except (ValueError, TypeError) as e:
            raise InputError(f"invalid term in pattern {pattern!r}: {e}") from None
        qfp = self._store.quads_for_pattern
        for g in graphs:
            for q in qfp(s_, p_, o_, self._g(g)):
                yield Triple(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object))

    def _count(self, pattern: Pattern, graph: str) -> int:
        if pattern == (None, None, None):
            return self._graph_sizes().get(graph, 0)
        s, p, o = (None if t is None else to_ox(t) for t in pattern)
        return sum(1 for _ in self._store.quads_for_pattern(s, p, o, self._g(graph)))

    def _graph_sizes(self) -> dict[str, int]:
        res = self._store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        sizes = {}
        for row in res:
            name = graph_name(row["g"].value)
            if name is not None and name != PROVENANCE_GRAPH:
                sizes[name] = int(row["n"].value)
        return sizes

    def _graph_names(self) -> list[str]:
        if self._names_cache is None:
            self._names_cache = self._scan_graph_names()
        return list(self._names_cache)

    def _scan_graph_names(self) -> list[str]:
        names = []
        for node in self._store.named_graphs():
            name = graph_name(node.value) if isinstance(node, ox.NamedNode) else None
            if name is None or name == PROVENANCE_GRAPH:
                continue
            if next(iter(self._store.quads_for_pattern(None, None, None, node)), None) is not None:
                names.append(name)
        return names

    def _read_record(self, r: Any) -> tuple[Triple, Provenance]:
        props: dict[str, Any] = {}
        for q in self._store.quads_for_pattern(r, None, None, _PROV_G):
            props[q.predicate.value] = q.object
        tt = props[_RDF_REIFIES.value]
        triple = Triple(from_ox(tt.subject), from_ox(tt.predicate), from_ox(tt.object))
        prov = Provenance(
            confidence=float(props[_NK_CONF.value].value),
            method=props[_NK_METHOD.value].value,
            evidence=props[_NK_EVIDENCE.value].value,
            run_id=props[_NK_RUN.value].value,
            time=datetime.fromisoformat(props[_NK_TIME.value].value),
        )
        return triple, prov

    def _provenance_records(
        self, triple: Triple | None = None, run_id: str | None = None
    ) -> list[tuple[Triple, Provenance]]:
        if triple is not None:
            tt = ox.Triple(*(to_ox(x) for x in triple))
            reifiers = [q.subject for q in self._store.quads_for_pattern(None, _RDF_REIFIES, tt, _PROV_G)]
        elif run_id is not None:
            lit = _OxLiteral(run_id)
            reifiers = [q.subject for q in self._store.quads_for_pattern(None, _NK_RUN, lit, _PROV_G)]
        else:
            reifiers = [q.subject for q in self._store.quads_for_pattern(None, _RDF_REIFIES, None, _PROV_G)]
        records = [self._read_record(r) for r in reifiers]
        if run_id is not None:
            records = [(t, p) for t, p in records if p.run_id == run_id]
        return records

    # ------------------------------------------------------------------ query
    def _sparql(
        self,
        query: str,
        graphs: tuple[str, ...],
        timeout: float | None,
        max_rows: int | None,
        max_memory: int | None,
    ) -> Any:
        if timeout is None and max_memory is None:
            return _run_query(self._store, query, [self._g(g) for g in graphs], max_rows)
        from nesykg.kg.bounded import run_bounded, run_in_worker

        what = "the SPARQL query"
        if self._path is None:  # in memory: a forked child shares the data
            default_graph = [self._g(g) for g in graphs]
            return run_bounded(lambda: _run_query(self._store, query, default_graph, max_rows), timeout, max_memory, what)
        # on disk: a fresh worker opens the store read-only (it sees what was committed)
        args = (str(self._path), query, [graph_iri(g) for g in graphs], max_rows)
        return run_in_worker("nesykg.kg.backends.oxigraph:_read_only_query", args, timeout, max_memory, what)

    def stats(self) -> StoreStats:
        names = self._resolve_graphs(None)
        per_graph = {g: n for g, n in sorted(self._graph_sizes().items()) if n}
        dg = [self._g(g) for g in names]
        ents = self._store.query(
            "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { { ?e ?p ?o } UNION { ?s ?p ?e FILTER(!isLiteral(?e)) } }",
            default_graph=dg,
        )
        rels = self._store.query("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }", default_graph=dg)
        runs = self._store.query(
            "SELECT (COUNT(DISTINCT ?run) AS ?n) WHERE { GRAPH graph:provenance { ?r nk:run ?run } }",
            prefixes={"nk": NS, "graph": GRAPH_NS},
        )
        n = lambda res: int(next(iter(res))["n"].value)  # noqa: E731
        return StoreStats(self.name, self.location, per_graph, n(ents), n(rels), n(runs))

    # ----------------------------------------------------------------- rdflib
    def rdflib_graph(self, graph: str = "domain") -> Any:
        """An ``rdflib.Graph`` over one named graph of this store (through oxrdflib).

        Reads and rdflib's SPARQL see the same data; write through nesykg so that
        transactions and provenance hold.
        """
        import rdflib
        from oxrdflib import OxigraphStore as RdflibOxigraphStore

        return rdflib.Graph(store=RdflibOxigraphStore(store=self._store), identifier=rdflib.URIRef(graph_iri(graph)))

    def rdflib_dataset(self) -> Any:
        """An ``rdflib.Dataset`` over every graph of this store (through oxrdflib)."""
        import rdflib
        from oxrdflib import OxigraphStore as RdflibOxigraphStore

        return rdflib.Dataset(store=RdflibOxigraphStore(store=self._store))

    def _close(self) -> None:
        try:
            if self._path is not None:
                self._store.flush()
        finally:
            del self._store
