"""``nesykg kg``: load, inspect, query, export and undo."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from nesykg.cli.common import (
    DEFAULT_STORE,
    JsonOpt,
    StoreOpt,
    console,
    open_cli_store,
    print_json,
    print_warning,
)

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Work with a graph store: load files, show statistics, run SPARQL, export, undo runs.\n\n"
    "Graphs: 'domain' (observed facts), 'expert' (curated knowledge), 'inferred' (written by "
    "reasoners and agents, with provenance).",
    no_args_is_help=True,
)

BatchOpt = Annotated[
    Optional[int],
    typer.Option(
        "--batch",
        min=1,
        help="Write in transactions of this many triples, not one (for a server whose transaction"
        " memory cannot hold the whole write). Each is all or nothing; rerun to complete a failed write.",
    ),
]
GraphsOpt = Annotated[
    Optional[list[str]],
    typer.Option("--graph", "-g", help="Graph(s) to read; repeat for a union. Default: every user graph."),
]


def _fmt_term(term: object) -> str:
    from nesykg.kg.terms import Literal, local_name

    if isinstance(term, Literal):
        return repr(term.value) + (f"@{term.language}" if term.language else "")
    if isinstance(term, tuple):
        return "<< " + " ".join(_fmt_term(x) for x in term) + " >>"
    return local_name(str(term))


@app.command("load")
def load_cmd(
    files: Annotated[list[Path], typer.Argument(help="RDF (ttl, nt, nq, trig, rdf, jsonld) or TSV/CSV triple files.")],
    graph: Annotated[str, typer.Option("--graph", "-g", help="Target graph: domain, expert, inferred or a name.")] = "domain",
    store: StoreOpt = DEFAULT_STORE,
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="Force a format instead of guessing by extension.")] = None,
    namespace: Annotated[
        Optional[str], typer.Option(help="Dataset name for TSV/CSV local names (default: the folder or file name).")
    ] = None,
    batch: BatchOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Load files into a graph, all or nothing.

    A malformed line in any file aborts the whole load with file, line and reason; the
    store is left as it was. Loading into 'inferred' records a run you can undo.

    A server holds a transaction in its memory: for loads larger than it allows (Neo4j
    says so), add --batch N to write transactions of N triples after the files are
    parsed. Each is all or nothing; if one fails, running the same load again
    completes it without duplicates.

    Example: nesykg kg load umls/train.tsv --graph domain --store kg.db

    Example: nesykg kg load wikidata5m.tsv --store neo4j://localhost:7687 --batch 100000
    """
    from nesykg.kg.io import import_files
    from nesykg.kg.terms import dataset_namespace

    from nesykg.cli.progress import stage_progress

    ns = dataset_namespace(namespace) if namespace else None
    with contextlib.ExitStack() as stack:
        st = stack.enter_context(open_cli_store(store, create=True))
        bar = stack.enter_context(stage_progress())  # "reading" (bytes), then "writing" (triples)
        result = import_files(st, files, graph, format=format, namespace=ns, progress=bar, batch=batch)
        size = st.count(graphs=graph)
    info = {"files": list(result.files), "graph": graph, "triples_read": result.triples, "graph_size": size,
            "run_id": result.run_id, "store": store}
    if json_out:
        print_json(info)
    else:
        msg = f"loaded {result.triples} triples from {len(files)} file(s) into '{graph}' ({size} in the graph now)"
        if result.run_id:
            msg += f"; run {result.run_id} (undo: nesykg kg undo {result.run_id})"
        console().print(msg)


@app.command("stats")
def stats_cmd(store: StoreOpt = DEFAULT_STORE, json_out: JsonOpt = False) -> None:
    """Triples per graph, entities, relations and runs."""
    with open_cli_store(store) as st:
        stats = st.stats().as_dict()
    if json_out:
        print_json(stats)
        return
    from rich.table import Table

    table = Table(title=f"{stats['backend']} store at {stats['location']}")
    table.add_column("graph")
    table.add_column("triples", justify="right")
    for g, n in stats["triples"].items():
        table.add_row(g, f"{n:,}")
    table.add_row("[bold]total", f"[bold]{stats['total']:,}")
    console().print(table)
    console().print(f"entities: {stats['entities']:,}   relations: {stats['relations']:,}   runs: {stats['runs']}")


@app.command("sparql")
def sparql_cmd(
    query: Annotated[str, typer.Argument(help="A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE); '-' reads stdin.")],
    store: StoreOpt = DEFAULT_STORE,
    graph: GraphsOpt = None,
    timeout: Annotated[float, typer.Option(help="Cancel the query after this many seconds.")] = 60.0,
    max_rows: Annotated[int, typer.Option(help="Keep at most this many rows (a notice says when more were cut).")] = 10_000,
    max_memory: Annotated[
        int, typer.Option(help="Memory the query may use on the embedded store, MiB (a server enforces its own).")
    ] = 2048,
    allow_from: Annotated[
        bool, typer.Option("--allow-from", help="Let FROM / FROM NAMED name the store's own graphs.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run a read-only SPARQL query; the default graph is the union of the chosen graphs.

    Prefixes 'nk:' (provenance vocabulary) and 'graph:' (graph IRIs) are predefined.
    Updates, LOAD, SERVICE and FROM of anything outside the store are refused before the
    query runs. The query is cancelled after --timeout seconds and keeps --max-rows rows.
    Provenance: GRAPH graph:provenance { << ?s ?p ?o >> nk:confidence ?c }

    Example: nesykg kg sparql "SELECT ?x WHERE { ?x ?r ?y } LIMIT 5"
    """
    if query == "-":
        query = sys.stdin.read()
    with open_cli_store(store) as st:
        result = st.sparql(
            query,
            graphs=graph,
            timeout=timeout,
            max_rows=max_rows,
            max_memory=max_memory << 20,
            allow_from=allow_from,
        )
    truncated = bool(getattr(result, "truncated", False))
    if truncated:
        print_warning(f"result truncated at --max-rows {max_rows}; more rows match")
    if json_out:
        if isinstance(result, list):
            result = [
                {k: _json_term(v) for k, v in row.items()} if isinstance(row, dict) else [_json_term(x) for x in row]
                for row in result
            ]
        print_json(result)
        return
    if isinstance(result, bool):
        console().print("yes" if result else "no")
        return
    from rich.table import Table

    table = Table()
    if result and isinstance(result[0], dict):
        cols = sorted({k for row in result for k in row})
        for c in cols:
            table.add_column(c)
        for row in result:
            table.add_row(*(_fmt_term(row[c]) if c in row else "" for c in cols))
    else:
        for c in ("subject", "predicate", "object"):
            table.add_column(c)
        for t in result:
            table.add_row(*(_fmt_term(x) for x in t))
    console().print(table)
    console().print(f"{len(result)} result(s)" + (f" (truncated at --max-rows {max_rows})" if truncated else ""))


def _json_term(term: object) -> object:
    from nesykg.kg.terms import Literal

    if isinstance(term, Literal):
        d = {"value": term.value}
        if term.datatype:
            d["datatype"] = term.datatype
        if term.language:
            d["language"] = term.language
        return d
    if isinstance(term, tuple):
        return [_json_term(x) for x in term]
    return term


@app.command("export")
def export_cmd(
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output file (default: stdout).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="turtle, ntriples, nquads, trig, rdfxml, jsonld, tsv, csv.")] = "turtle",
    store: StoreOpt = DEFAULT_STORE,
    graph: GraphsOpt = None,
) -> None:
    """Export graphs. TSV/CSV write back the local names files were loaded with."""
    from nesykg.kg.io import export

    with open_cli_store(store) as st:
        if out is None:
            n = export(st, sys.stdout.buffer, format, graph)
            sys.stdout.flush()
        else:
            n = export(st, out, format, graph)
    typer.echo(f"exported {n} triples" + (f" to {out}" if out else ""), err=True)


@app.command("runs")
def runs_cmd(store: StoreOpt = DEFAULT_STORE, json_out: JsonOpt = False) -> None:
    """List the runs that wrote to the 'inferred' graph."""
    with open_cli_store(store) as st:
        runs = st.runs()
    rows = [{"run_id": r.run_id, "method": r.method, "triples": r.triples, "started": r.started.isoformat()} for r in runs]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="runs")
    for c in ("run_id", "method", "triples", "started"):
        table.add_column(c)
    for r in rows:
        table.add_row(*(str(r[c]) for c in ("run_id", "method", "triples", "started")))
    console().print(table)


@app.command("undo")
def undo_cmd(
    run_id: Annotated[str, typer.Argument(help="The run to undo (see: nesykg kg runs).")],
    store: StoreOpt = DEFAULT_STORE,
    json_out: JsonOpt = False,
) -> None:
    """Remove exactly what one run wrote to 'inferred', with its provenance.

    A triple another run also wrote stays, with that run's provenance.
    """
    with open_cli_store(store) as st:
        removed = st.undo(run_id)
    if json_out:
        print_json({"run_id": run_id, "removed": removed})
    else:
        console().print(f"undid run {run_id}: removed {removed} triple(s)")


# ------------------------------------------------------------ copy and cypher (issue 3)
@app.command("copy")
def copy_cmd(
    src: Annotated[str, typer.Argument(help="Source store: a folder, neo4j://HOST:PORT, bolt://..., or http(s):// SPARQL query URL.")],
    dst: Annotated[str, typer.Argument(help="Destination store (a folder is created if missing).")],
    graph: GraphsOpt = None,
    batch: BatchOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy graphs with their provenance from one store to another, all or nothing.

    Every user graph by default; 'inferred' is copied with its provenance records, so
    runs can still be listed and undone in the destination. Triples already in the
    destination stay (set semantics, no duplicates). With --batch N the copy is written
    in transactions of N triples (for destinations whose transaction memory cannot hold
    it all); if one fails, running the same copy again completes it.

    Example: nesykg kg copy .nesykg/store neo4j://localhost:7687 --batch 100000
    """
    import time

    from nesykg.cli.progress import stage_progress
    from nesykg.kg.batches import copy_store

    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        s = stack.enter_context(open_cli_store(src))
        d = stack.enter_context(open_cli_store(dst, create=True))
        bar = stack.enter_context(stage_progress())
        counts = copy_store(s, d, list(graph) if graph else None, batch=batch, progress=bar)
        location = d.location
    info = {"source": src, "destination": location, "graphs": counts, "total": sum(counts.values()),
            "seconds": round(time.perf_counter() - t0, 3)}
    if json_out:
        print_json(info)
    else:
        parts = ", ".join(f"{g}: {n:,}" for g, n in counts.items()) or "nothing to copy"
        console().print(f"copied {info['total']:,} triples ({parts}) from {src} to {location} in {info['seconds']:.1f} s")


def _parse_param(text: str) -> tuple[str, object]:
    import json

    from nesykg.errors import InputError

    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise InputError(f"--param takes NAME=VALUE (VALUE as JSON, else a string), got {text!r}")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


@app.command("cypher")
def cypher_cmd(
    query: Annotated[str, typer.Argument(help="A read-only Cypher query; '-' reads stdin.")],
    store: StoreOpt = DEFAULT_STORE,
    param: Annotated[
        Optional[list[str]], typer.Option("--param", "-p", help="Query parameter NAME=VALUE (JSON or string); repeatable.")
    ] = None,
    limit: Annotated[int, typer.Option("--max-rows", "--limit", help="Most rows returned.")] = 100,
    timeout: Annotated[float, typer.Option(help="Server-side timeout, seconds; the query is cancelled after it.")] = 30.0,
    json_out: JsonOpt = False,
) -> None:
    """Run a read-only Cypher query on a Neo4j store.

    Writes, schema and admin commands and LOAD CSV are refused before anything runs
    (EXPLAIN check), and the query runs in a read-only transaction with a timeout.

    Example: nesykg kg cypher "MATCH (s:Resource)-[r:REL]->(o) RETURN s.iri, r.predicate LIMIT 5" --store neo4j://localhost:7687
    """
    from nesykg.kg.backends.neo4j.cypher import run_readonly_cypher

    if query == "-":
        query = sys.stdin.read()
    params = dict(_parse_param(p) for p in param or [])
    with open_cli_store(store) as st:
        result = run_readonly_cypher(st, query, params, limit=limit, timeout_s=timeout)
    if json_out:
        print_json(result.as_dict())
        return
    import json

    from rich.table import Table

    table = Table()
    for c in result.columns:
        table.add_column(c)
    for row in result.rows:
        table.add_row(*(v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False) for v in (row.get(c) for c in result.columns)))
    console().print(table)
    console().print(f"{len(result.rows)} row(s)" + (f" (truncated at --max-rows {limit})" if result.truncated else ""))
