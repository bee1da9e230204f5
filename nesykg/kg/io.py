"""Import and export: RDF formats (through Oxigraph's parsers) and TSV/CSV triples.

Imports are validated completely before anything is written, then applied as one
atomic change set: a malformed line anywhere aborts the whole import with a
`ParseError` naming file, line and reason, and the store is left as it was.

TSV/CSV files hold ``head<TAB>relation<TAB>tail`` (CSV: three comma-separated
columns). A field in angle brackets (``<http://...>``) is taken as a full IRI; any
other field is a local name minted into the dataset's namespace
(`nesykg.kg.terms.dataset_namespace`), and exported back to the same name. Blank
lines and lines starting with ``#`` are skipped.

RDF formats: Turtle, N-Triples, N-Quads, TriG, N3, RDF/XML, JSON-LD. Every triple of
the file, whatever graph it is in, goes into the chosen graph; blank nodes are
skolemised into fresh IRIs under ``urn:nesykg:genid:``.

Fast paths, same results: plain ASCII TSV becomes N-Quads text by whole-text string
operations, and an N-Triples or Turtle file that cannot hold blank nodes is handed to the
backend's own parser (`GraphStore.native_bulk`); both are one atomic write.

Memory bound: an import holds its files until the atomic write: as text on the fast paths
(about 120 bytes a triple), else as Python objects (about 0.5 KB a triple).

A load larger than a server's transaction memory can be written in batches
(``import_files(..., batch=N)``, ``nesykg kg load --batch N``): parsed and validated first,
then written in transactions of N triples each (`nesykg.kg.batches`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from nesykg.errors import InputError
from nesykg.progress import Progress, Stages, write_reporter
from nesykg.kg.delimited import decode_utf8, parse_delimited, tsv_block_lines, tsv_text_fast
from nesykg.kg.batches import chunked, write_batches
from nesykg.kg.formats import FORMATS, ProgressFn, detect_format, read_bytes
from nesykg.kg.provenance import Provenance, new_run_id
from nesykg.kg.blocks import rdf_file_block
from nesykg.kg.rdf_files import parse_rdf
from nesykg.kg.store import ChangeSet, GraphSelection, GraphStore, NQuadsBlock, WriteProgress
from nesykg.kg.terms import (
    INFERRED,
    Literal,
    Triple,
    check_graph_name,
    dataset_namespace,
    graph_iri,
    local_name,
)

__all__ = [
    "FORMATS",
    "ImportResult",
    "detect_format",
    "read_triples",
    "read_block",
    "parse_rdf",
    "rdf_file_block",
    "import_files",
    "import_file",
    "export",
]

_SPLIT_STEMS = {"train", "valid", "dev", "test", "triples", "data", "kb"}

@dataclass(frozen=True)
class ImportResult:
    """What one import wrote."""

    files: tuple[str, ...]
    graph: str
    triples: int
    run_id: str | None = None
    """Set when the import went to the ``inferred`` graph (undo it with this id)."""


def default_namespace(path: str | Path) -> str:
    """Dataset namespace for a delimited file: named after its folder for split files
    (``umls/train.tsv`` -> ``umls``), else after the file (``family.tsv`` -> ``family``)."""
    p = Path(path)
    stem = p.stem.lower()
    name = p.resolve().parent.name if stem in _SPLIT_STEMS else p.stem
    return dataset_namespace(name)


def read_triples(
    path: str | Path,
    format: str | None = None,
    namespace: str | None = None,
    progress: ProgressFn | None = None,
) -> list[Triple]:
    """Parse and validate a whole file; raises `ParseError`/`InputError` on bad input."""
    p = Path(path)
    fmt = detect_format(p, format)
    data = read_bytes(p)
    if FORMATS[fmt][1] is None:
        ns = namespace or default_namespace(p)
        triples = [t for _, t in parse_delimited(p, data, ns, "\t" if fmt == "tsv" else ",", progress)]
    else:
        triples = parse_rdf(p, data, fmt, progress)
    if not triples:
        raise InputError(f"{p}: the file holds no triples")
    return triples


def read_block(
    path: str | Path,
    graph: str,
    format: str | None = None,
    namespace: str | None = None,
    progress: ProgressFn | None = None,
) -> NQuadsBlock:
    """Parse and validate a TSV/CSV file into an `NQuadsBlock` for `graph`.

    The bulk path: no Python object per triple, one dictionary look-up per field; line
    ``i`` of the block is line ``i`` of the file. Lines the fast loop does not take
    (comments, odd spacing, errors) go through the validating parser, so messages are
    the same as `read_triples`.
    """
    p = Path(path)
    fmt = detect_format(p, format)
    if FORMATS[fmt][1] is not None:
        raise InputError(f"{p}: bulk blocks are built from TSV/CSV, not {fmt}")
    data = read_bytes(p)
    ns = namespace or default_namespace(p)
    tail = f"<{graph_iri(check_graph_name(graph))}> ."
    if fmt == "csv":
        lines: list[str] = []
        for lineno, (h, r, t) in parse_delimited(p, data, ns, ",", progress):
            lines.extend([""] * (lineno - 1 - len(lines)))
            lines.append(f"<{h}> <{r}> <{t}> {tail}")
        count = sum(1 for ln in lines if ln)
    else:
        fast = tsv_text_fast(decode_utf8(p, data, ns), ns, tail)
        if fast is not None:
            if progress is not None:
                progress(len(data))
            return NQuadsBlock(fast[0], fast[1], str(p), minted=True, graph=graph)
        lines, count = tsv_block_lines(p, data, ns, tail, progress)
    if not count:
        raise InputError(f"{p}: the file holds no triples")
    return NQuadsBlock("\n".join(lines) + "\n", count, str(p), graph=graph)


def import_files(
    store: GraphStore,
    paths: Sequence[str | Path],
    graph: str = "domain",
    format: str | None = None,
    namespace: str | None = None,
    progress: Progress | None = None,
    confidence: float = 1.0,
    batch: int | None = None,
) -> ImportResult:
    """Import files into `graph` all-or-nothing: nothing is written if any file fails.

    With `batch`, a store without its own bulk loader (Neo4j, SPARQL endpoints) is
    written in transactions of at most `batch` triples instead of one, for loads larger
    than the server's transaction memory; every file is still parsed and validated
    before anything is written (see `nesykg.kg.batches`). The embedded store's bulk
    load has no such limit and stays one all-or-nothing write.

    Args:
        store: target store.
        paths: files to read.
        graph: target graph; ``inferred`` records an ``import`` provenance per triple
            under a new run id so the import can be undone.
        format: force a format instead of guessing from each extension.
        namespace: namespace IRI for local names in TSV/CSV (default: per file's dataset).
        progress: the progress protocol (`nesykg.progress`): stage ``"reading"`` in bytes
            of all files, then ``"writing"`` in triples where the store can tell (per
            committed batch, or per loaded piece of a bulk load).
        confidence: confidence recorded for imports into ``inferred``.
        batch: triples per transaction (see above); None: one transaction.
    """
    check_graph_name(graph)
    if not paths:
        raise InputError("no files to import")
    on_write = write_reporter(progress, "writing")
    reading = None
    if progress is not None:
        sizes = [Path(p).stat().st_size if Path(p).is_file() else 0 for p in paths]
        reading = Stages(progress, "reading", sum(sizes)).advance
    return _import(store, paths, graph, format, namespace, reading, confidence, batch, on_write)


def _import(
    store: GraphStore,
    paths: Sequence[str | Path],
    graph: str,
    format: str | None,
    namespace: str | None,
    progress: ProgressFn | None,
    confidence: float,
    batch: int | None,
    on_write: WriteProgress | None,
) -> ImportResult:
    run_id = None
    if graph != INFERRED and all(FORMATS[detect_format(p, format)][1] is None for p in paths):
        blocks = [read_block(p, graph, format, namespace, progress) for p in paths]
        count = sum(b.count for b in blocks)
        if batch is None or store.native_bulk:
            store.apply_changes(ChangeSet(bulk=blocks), validate=False, progress=on_write)
        else:
            pairs = (pair for b in blocks for pair in b.quads())
            parts = (ChangeSet(add=chunk) for chunk in chunked(pairs, batch))
            write_batches(store, parts, count, _what(paths, graph), _AGAIN, on_write, validate=False)
        return ImportResult(tuple(str(p) for p in paths), graph, count, None)
    if graph != INFERRED and len(paths) == 1 and store.native_bulk:
        block = rdf_file_block(paths[0], graph, format)
        if block is not None:
            before = store.count(graphs=graph) if block.count is None else 0
            if progress:
                progress(Path(paths[0]).stat().st_size)
            store.apply_changes(ChangeSet(bulk=[block]), validate=False, progress=on_write)
            count = block.count if block.count is not None else store.count(graphs=graph) - before
            return ImportResult((str(paths[0]),), graph, count, None)
    parsed = [(Path(p), read_triples(p, format, namespace, progress)) for p in paths]
    total = sum(len(ts) for _, ts in parsed)
    if graph == INFERRED:
        run_id = new_run_id("import")
        changes = ChangeSet(
            provenance=[
                (t, Provenance(confidence, "import", f"imported from {p.name}", run_id))
                for p, ts in parsed
                for t in ts
            ]
        )
    else:
        changes = ChangeSet(add=[(t, graph) for _, ts in parsed for t in ts])
    if batch is None:
        store.apply_changes(changes, validate=False)
    else:
        if run_id is not None:
            parts = (ChangeSet(provenance=chunk) for chunk in chunked(changes.provenance, batch))
            finish = (
                f"What was written belongs to run {run_id}: undo it (nesykg kg undo {run_id}) and load again."
            )
        else:
            parts = (ChangeSet(add=chunk) for chunk in chunked(changes.add, batch))
            finish = _AGAIN
        write_batches(store, parts, total, _what(paths, graph), finish, on_write, validate=False)
    return ImportResult(tuple(str(p) for p, _ in parsed), graph, total, run_id)


_AGAIN = "Run the same load again to complete it; triples already loaded are not written twice."


def _what(paths: Sequence[str | Path], graph: str) -> str:
    names = ", ".join(Path(p).name for p in paths[:3])
    if len(paths) > 3:
        names += f" and {len(paths) - 3} more"
    return f"loading {names} into '{graph}'"


def import_file(store: GraphStore, path: str | Path, graph: str = "domain", **kwargs: Any) -> ImportResult:
    """Import one file; see `import_files`."""
    return import_files(store, [path], graph, **kwargs)


def _tsv_field(term: str | Literal) -> str:
    if isinstance(term, Literal):
        import pyoxigraph as ox

        from nesykg.kg.oxterms import to_ox

        return str(to_ox(term)) if isinstance(to_ox(term), ox.Literal) else term.value
    name = local_name(term)
    if name is not term and name and not any(c in name for c in "\t\n<>"):
        return name
    return f"<{term}>"


def export(
    store: GraphStore,
    out: str | Path | IO[bytes],
    format: str = "turtle",
    graphs: GraphSelection = None,
) -> int:
    """Write the union of `graphs` to `out`; returns the number of triples written.

    Dataset formats (N-Quads, TriG) keep each triple in its graph; TSV/CSV write local
    names for minted IRIs (the names they were imported from) and ``<IRI>`` otherwise.
    """
    fmt = detect_format(str(out), format)
    names = store._resolve_graphs(graphs)
    close = False
    if isinstance(out, (str, Path)):
        stream: IO[bytes] = open(out, "wb")  # noqa: SIM115
        close = True
    else:
        stream = out
    try:
        spec = FORMATS[fmt][1]
        if spec is None:
            text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
            writer = csv.writer(text, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n",
                                quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL,
                                escapechar="\\" if fmt == "tsv" else None)
            n = 0
            for t in sorted(store.triples(graphs=names), key=repr):
                writer.writerow([_tsv_field(x) for x in t])
                n += 1
            text.flush()
            text.detach()
            return n
        import pyoxigraph as ox

        from nesykg.kg.oxterms import to_ox
        from nesykg.kg.terms import graph_iri

        rdf_format = getattr(ox.RdfFormat, spec)
        if rdf_format.supports_datasets:
            items: list[Any] = [
                ox.Quad(ox.NamedNode(s), ox.NamedNode(p), to_ox(o), ox.NamedNode(graph_iri(g)))
                for g in names
                for s, p, o in store.triples(graphs=g)
            ]
        else:
            items = [ox.Triple(ox.NamedNode(s), ox.NamedNode(p), to_ox(o)) for s, p, o in store.triples(graphs=names)]
        ox.serialize(items, stream, format=rdf_format)
        return len(items)
    finally:
        if close:
            stream.close()
