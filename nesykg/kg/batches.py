"""Writes too large for one transaction: in batches of change sets, and store copies.

A server bounds a transaction's memory (Neo4j: ``dbms.memory.transaction.total.max``;
with a 768 MB heap 200k-300k triples). Loads and copies larger than that are written
as several change sets of at most ``batch`` triples. Each one is all or nothing; the
whole write is not, but it is idempotent (set semantics, provenance records keyed by run
and triple), so running it again after a failure completes it without duplicates. If a
batch fails after others committed, `PartialWriteError` says how many triples were
written and how to finish or undo; if the first fails, nothing was written and the
original error is raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from nesykg.errors import InputError, PartialWriteError
from nesykg.kg.provenance import Provenance
from nesykg.progress import Progress, write_reporter
from nesykg.kg.store import Capability, ChangeSet, GraphStore, WriteProgress
from nesykg.kg.terms import INFERRED, Triple

__all__ = ["chunked", "write_batches", "copy_store"]

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items (the last may be shorter)."""
    if size < 1:
        raise InputError(f"a batch holds at least 1 triple, got {size}")
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def write_batches(
    store: GraphStore,
    batches: Iterable[ChangeSet],
    total: int,
    what: str,
    finish: str,
    on_write: WriteProgress | None = None,
    validate: bool = True,
) -> int:
    """Apply `batches` one transaction each; returns the triples written.

    Args:
        total: triples in all batches (for progress and the error message).
        what: the write, for messages (``"loading data.tsv into 'domain'"``).
        finish: what the user can do after a partial failure.
        on_write: called with each batch's size and `total` once it has committed.
    """
    written = 0
    for changes in batches:
        size = len(changes.add) + len(changes.provenance)
        try:
            store.apply_changes(changes, validate=validate)
        except Exception as e:
            if not written:
                raise  # nothing was written: the store is as it was
            raise PartialWriteError(
                f"{what} stopped after {written:,} of {total:,} triples were written (each batch is all or"
                f" nothing; the failed one and those after it were not written): {e}. {finish}",
                written,
                total,
            ) from e
        written += size
        if on_write is not None:
            on_write(size, total)
    return written


def copy_store(
    src: GraphStore,
    dst: GraphStore,
    graphs: Sequence[str] | None = None,
    batch: int | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Copy user graphs, with the provenance of ``inferred``, from `src` to `dst`.

    Returns the triples written per graph (``inferred``: provenance records). With
    `batch` None the copy is one change set (all or nothing); else change sets of at
    most `batch` triples (see the module docstring), reported to `progress` as stage
    ``"copying"`` after each committed batch. Triples already in `dst` stay.
    """
    names = list(graphs) if graphs else src.graphs()
    annotated = src.supports(Capability.ANNOTATIONS)
    if batch is None:
        counts: dict[str, int] = {}
        with dst.transaction():
            for g in names:
                if g == INFERRED:
                    if annotated:
                        counts[g] = dst.add_inferred(src._provenance_records())
                else:
                    counts[g] = dst.add_many(src.triples(graphs=g), graph=g)
        return counts

    counts = {g: 0 for g in names if g != INFERRED or annotated}
    records: list[tuple[Triple, Provenance]] = src._provenance_records() if INFERRED in counts else []
    total = len(records) + sum(src.count(graphs=g) for g in counts if g != INFERRED)

    def changes() -> Iterator[ChangeSet]:
        for g in counts:
            if g == INFERRED:
                for chunk in chunked(records, batch):
                    counts[g] += len(chunk)
                    yield ChangeSet(provenance=list(chunk))
            else:
                for chunk in chunked(src.triples(graphs=g), batch):
                    counts[g] += len(chunk)
                    yield ChangeSet(add=[(t, g) for t in chunk])

    write_batches(
        dst,
        changes(),
        total,
        f"copying from {src.location} to {dst.location}",
        "Run the same copy again to complete it; what is there already is not written twice.",
        write_reporter(progress, "copying"),
    )
    return counts


