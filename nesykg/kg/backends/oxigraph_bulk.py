"""Journaled parallel bulk loads into an empty graph of an on-disk Oxigraph store.

Oxigraph's transactional load keeps every write of a load in RocksDB memtables: on disk
it runs at about 35k quads/s and leaves the process holding about a kilobyte per quad.
``Store.bulk_load`` writes sorted files straight into the database instead (several
times faster, and the data then lives on disk, not in the process), but it is not one
transaction: an error or a crash halfway leaves part of the data behind.

This module makes it all-or-nothing for the case that matters most, loading a graph
that is still empty (a dataset into a new store):

1. a *journal* record naming the target graphs is committed first, in the system graph
   (``<urn:nesykg:load:ID> nk:loading <graph>``);
2. the N-Triples/N-Quads text is cut at line boundaries into pieces of at most
   `PIECE_BYTES`, which worker threads bulk-load in parallel (pyoxigraph releases the
   GIL); the loader's working memory is bounded by piece size times workers, not by
   the size of the load;
3. the journal record is removed.

On a parse or write error the target graphs are cleared and the record removed, in one
update. If the process dies in step 2, the record survives, and the next `open` of the
store clears those graphs (they were empty before the load) and warns: so the load is
either complete or absent, as a transaction would be. Readers in the same process may
see a partly loaded graph while step 2 runs.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyoxigraph as ox

from nesykg.kg.terms import NS, PROVENANCE_GRAPH, graph_iri, graph_name

__all__ = [
    "BULK_MIN_QUADS",
    "PIECE_BYTES",
    "Piece",
    "parallel_bulk_load",
    "pieces_for",
    "recover_interrupted_loads",
    "split_lines",
]

BULK_MIN_QUADS = 50_000
"""Loads of fewer quads stay one ordinary transaction (fast enough, and simpler)."""

PIECE_BYTES = 4 * 2**20
"""Most text one ``bulk_load`` call takes (about 30k quads). Each loader thread's peak
allocation grows with its piece, and glibc keeps a thread's peak resident after the
load (the top of a thread arena is not trimmed); 4 MiB pieces keep that to a few MB,
at no cost in speed (measured on 300k quads: 2 pieces left 80 MB resident, 8 left 10)."""

_LOAD_NS = "urn:nesykg:load:"
_NK_LOADING = ox.NamedNode(NS + "loading")
_NK_SOURCE = ox.NamedNode(NS + "source")
_NK_STARTED = ox.NamedNode(NS + "started")
_XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
_SYSTEM_G = ox.NamedNode(graph_iri(PROVENANCE_GRAPH))


@dataclass(frozen=True)
class Piece:
    """A line-aligned piece of N-Triples/N-Quads text to load.

    Attributes:
        data: the text (``str`` or UTF-8 ``bytes``).
        first_line: line number, in `source`, of the piece's first line.
        source: where the lines came from, for error messages.
    """

    data: str | bytes
    first_line: int
    source: str


def split_lines(data: str | bytes, parts: int, source: str, first_line: int = 1, encode: bool = False) -> list[Piece]:
    """Cut `data` at line boundaries into at most `parts` pieces of similar size
    (as UTF-8 ``bytes`` with `encode`: pyoxigraph reads bytes faster than ``str``)."""
    nl: Any = "\n" if isinstance(data, str) else b"\n"
    pieces: list[Piece] = []
    start, line, n = 0, first_line, len(data)
    for i in range(1, parts + 1):
        if start >= n:
            break
        if i == parts:
            cut = n
        else:
            j = data.find(nl, max(start, n * i // parts))
            cut = n if j < 0 else j + 1
        chunk = data[start:cut]
        pieces.append(Piece(chunk.encode() if encode and isinstance(chunk, str) else chunk, line, source))
        line += data.count(nl, start, cut)
        start = cut
    return pieces


def pieces_for(data: str | bytes, source: str, workers: int) -> list[Piece]:
    """`split_lines` into enough pieces for `workers` threads, none over `PIECE_BYTES`."""
    size = len(data)
    return split_lines(data, max(workers, -(-size // PIECE_BYTES)), source, encode=True)


def default_workers() -> int:
    """Bulk-load threads: the CPUs this process may use, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def _journal_quads(load_id: str, graphs: Sequence[str], sources: Sequence[str]) -> list[ox.Quad]:
    m = ox.NamedNode(_LOAD_NS + load_id)
    quads = [ox.Quad(m, _NK_LOADING, ox.NamedNode(graph_iri(g)), _SYSTEM_G) for g in graphs]
    quads += [ox.Quad(m, _NK_SOURCE, ox.Literal(s), _SYSTEM_G) for s in sources]
    now = datetime.now(timezone.utc).isoformat()
    quads.append(ox.Quad(m, _NK_STARTED, ox.Literal(now, datatype=_XSD_DATETIME), _SYSTEM_G))
    return quads


def _rollback(store: ox.Store, graph_nodes: Sequence[ox.NamedNode], markers: Sequence[ox.NamedNode]) -> None:
    """One update: clear the graphs, drop the journal records."""
    ops = [f"CLEAR SILENT GRAPH {g}" for g in graph_nodes]
    ops += [f"DELETE WHERE {{ GRAPH {_SYSTEM_G} {{ {m} ?p ?o }} }}" for m in markers]
    store.update(" ;\n".join(ops))


def parallel_bulk_load(
    store: ox.Store,
    pieces: Sequence[Piece],
    graphs: Sequence[str],
    format: ox.RdfFormat,
    *,
    to_graph: ox.NamedNode | None = None,
    lenient: bool = False,
    base_iri: str | None = None,
    workers: int | None = None,
    on_error: Callable[[BaseException, Piece], BaseException] | None = None,
    on_piece: Callable[[Piece], None] | None = None,
) -> None:
    """Bulk-load `pieces` (all into `graphs`, which must be empty) all-or-nothing.

    Args:
        store: an on-disk pyoxigraph store.
        pieces: line-aligned text (see `split_lines`), loaded in parallel.
        graphs: nesykg names of every graph the pieces write to; the journal names them.
        format: ``RdfFormat.N_TRIPLES`` (with `to_graph`) or ``N_QUADS``.
        lenient: skip IRI validation (for text whose IRIs nesykg minted).
        workers: threads (default `default_workers`).
        on_error: maps a load error and its piece to the exception to raise (after the
            rollback); the error of the earliest failing piece is the one reported.
        on_piece: called in this thread with each piece once it is loaded (progress).
    """
    load_id = secrets.token_hex(8)
    marker = ox.NamedNode(_LOAD_NS + load_id)
    graph_nodes = [ox.NamedNode(graph_iri(g)) for g in graphs]
    sources = sorted({p.source for p in pieces})
    store.extend(_journal_quads(load_id, graphs, sources))
    errors: list[tuple[int, BaseException, Piece]] = []

    def load(piece: Piece) -> None:
        store.bulk_load(piece.data, format=format, to_graph=to_graph, lenient=lenient, base_iri=base_iri)

    try:
        workers = min(workers or default_workers(), len(pieces))
        if workers <= 1:  # in this thread: no extra malloc arena to hold freed memory
            for i, p in enumerate(pieces):
                try:
                    load(p)
                except Exception as e:  # noqa: BLE001
                    errors.append((i, e, p))
                    break
                if on_piece is not None:
                    on_piece(p)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [(i, p, pool.submit(load, p)) for i, p in enumerate(pieces)]
                for i, p, f in futures:
                    e = f.exception()
                    if e is not None:
                        errors.append((i, e, p))
                    elif on_piece is not None and not errors:
                        on_piece(p)
    except BaseException:
        _rollback(store, graph_nodes, [marker])
        raise
    if errors:
        _rollback(store, graph_nodes, [marker])
        _, e, p = min(errors, key=lambda x: x[0])
        raise (on_error(e, p) if on_error is not None else e) from None
    store.update(f"DELETE WHERE {{ GRAPH {_SYSTEM_G} {{ {marker} ?p ?o }} }}")


def recover_interrupted_loads(store: ox.Store, location: str) -> list[str]:
    """Roll back bulk loads a dead process left half done; returns the graphs cleared."""
    records = list(store.quads_for_pattern(None, _NK_LOADING, None, _SYSTEM_G))
    if not records:
        return []
    markers = list({q.subject for q in records})
    graph_nodes = list({q.object for q in records})
    sources = sorted(
        q.object.value for m in markers for q in store.quads_for_pattern(m, _NK_SOURCE, None, _SYSTEM_G)
    )
    _rollback(store, graph_nodes, markers)
    names = sorted(graph_name(g.value) or g.value for g in graph_nodes)
    warnings.warn(
        f"{location}: a bulk import into graph(s) {', '.join(names)} from {', '.join(sources) or '?'} "
        "was interrupted; it has been rolled back (those graphs are empty again): import again",
        RuntimeWarning,
        stacklevel=3,
    )
    return names


def release_free_memory() -> None:
    """Give freed memory back to the system (glibc only); call it once the pieces of a
    load are dropped, or their buffers stay counted in the process's resident memory."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
