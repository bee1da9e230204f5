"""The `GraphStore` protocol: a small core, declared capabilities, atomic change sets.

Every backend implements a handful of ``_``-prefixed hooks; the public methods here
validate input, route writes through atomic `ChangeSet`s and give the optional
features (provenance, undo, statistics) defaults built on the core. A backend that
lacks a feature raises `UnsupportedCapabilityError` naming itself and the feature.

Write semantics:
    * every write is a `ChangeSet` applied atomically by the backend: all of it or
      none of it;
    * ``with store.transaction():`` groups writes into one change set, applied when the
      block exits normally and discarded when it raises; reads inside the block see
      the state before it;
    * the ``inferred`` graph only takes triples with `Provenance` (`add_inferred`), so
      that every inferred triple can be explained and undone by run id.

Size: a little over 500 lines, because it is the one protocol every backend implements
(hooks, and the defaults built on them, belong together); the write blocks live in
`nesykg.kg.blocks`, bounded reads in `nesykg.kg.bounded`, query checks in
`nesykg.kg.sparql_guard`.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from nesykg.errors import InputError, UnknownNameError, UnsupportedCapabilityError
from nesykg.kg.blocks import NQuadsBlock, RdfFileBlock
from nesykg.kg.provenance import Provenance, RunInfo
from nesykg.kg.terms import (
    DEFAULT_GRAPHS,
    DOMAIN,
    INFERRED,
    Literal,
    Pattern,
    Triple,
    check_graph_name,
    check_iri,
)

__all__ = [
    "Capability",
    "ChangeSet",
    "GraphStore",
    "GraphSelection",
    "NQuadsBlock",
    "QueryRows",
    "RdfFileBlock",
    "StoreStats",
    "WriteProgress",
]

GraphSelection = str | Sequence[str] | None
"""Graphs to read: one name, several (their union), or ``None`` for every user graph."""


class QueryRows(list):  # type: ignore[type-arg]
    """Rows of a SPARQL result; `truncated` is true when `max_rows` cut some off."""

    truncated: bool = False

    def __init__(self, rows: Iterable[Any] = (), truncated: bool = False):
        super().__init__(rows)
        self.truncated = truncated


class Capability(str, Enum):
    """Optional features a backend may declare."""

    SPARQL = "SPARQL queries"
    CYPHER = "Cypher queries"
    NAMED_GRAPHS = "named graphs"
    ANNOTATIONS = "triple annotations (provenance)"
    PERSISTENCE = "persistence"
    TRANSACTIONS = "transactions"
    RDFLIB = "the rdflib API"


@dataclass
class ChangeSet:
    """One atomic batch of writes.

    Attributes:
        add: ``(triple, graph)`` pairs to add.
        remove: ``(triple, graph)`` pairs to remove.
        provenance: ``(triple, provenance)`` records to add; their triples are added to
            the ``inferred`` graph too.
        undo_runs: runs whose provenance records are all removed.
        bulk: validated additions as text; backends without ``native_bulk`` get them
            expanded into `add` before `GraphStore._apply`.
    """

    add: list[tuple[Triple, str]] = field(default_factory=list)
    remove: list[tuple[Triple, str]] = field(default_factory=list)
    provenance: list[tuple[Triple, Provenance]] = field(default_factory=list)
    undo_runs: list[str] = field(default_factory=list)
    bulk: list[NQuadsBlock | RdfFileBlock] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove or self.provenance or self.undo_runs or self.bulk)

    def extend(self, other: ChangeSet) -> None:
        self.bulk.extend(other.bulk)
        self.add.extend(other.add)
        self.remove.extend(other.remove)
        self.provenance.extend(other.provenance)
        self.undo_runs.extend(other.undo_runs)


@dataclass(frozen=True)
class StoreStats:
    """Sizes of a store, per graph."""

    backend: str
    location: str
    triples: dict[str, int]
    entities: int
    relations: int
    runs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "location": self.location,
            "triples": dict(self.triples),
            "total": sum(self.triples.values()),
            "entities": self.entities,
            "relations": self.relations,
            "runs": self.runs,
        }


WriteProgress = Callable[[int, int], None]
"""Progress of a write, called as ``(triples written since the last call, triples in all)``."""


def _check_term(term: object, position: str, allow_literal: bool, valid: set[str] | None = None) -> None:
    if isinstance(term, str):
        if valid is not None and term in valid:
            return
        reason = check_iri(term)
        if reason:
            raise InputError(f"{position}: {reason}")
        if valid is not None:
            valid.add(term)
    elif isinstance(term, Literal):
        if not allow_literal:
            raise InputError(f"{position}: a literal is only allowed as object, got {term!r}")
    else:
        raise InputError(f"{position}: expected an IRI string or Literal, got {type(term).__name__}")


def check_triple(triple: Sequence[object], valid: set[str] | None = None) -> Triple:
    """Validate `triple` and return it as a `Triple`; raises `InputError`.

    `valid`: IRIs already found valid, skipped and extended (a batch repeats its
    entities and relations many times; each is checked once).
    """
    if len(triple) != 3:
        raise InputError(f"a triple has 3 terms, got {len(triple)}: {triple!r}")
    s, p, o = triple
    _check_term(s, "subject", False, valid)
    _check_term(p, "predicate", False, valid)
    _check_term(o, "object", True, valid)
    return triple if isinstance(triple, Triple) else Triple(s, p, o)  # type: ignore[arg-type]


class GraphStore(ABC):
    """A triple store with named graphs, atomic writes and provenance.

    Subclasses set `name` and `capabilities` and implement the ``_`` hooks.
    """

    name: ClassVar[str] = "abstract"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    native_bulk: ClassVar[bool] = False
    """Whether `_apply` loads `ChangeSet.bulk` text itself (it then also takes a
    ``progress`` keyword: see `apply_changes`)."""

    def __init__(self) -> None:
        self._pending: ChangeSet | None = None
        self._closed = False

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _apply(self, changes: ChangeSet) -> None:
        """Apply `changes` atomically (all or nothing)."""

    @abstractmethod
    def _match(self, pattern: Pattern, graphs: tuple[str, ...]) -> Iterator[Triple]:
        """Triples of the union of `graphs` matching `pattern` (duplicates allowed)."""

    @abstractmethod
    def _graph_names(self) -> list[str]:
        """Names of the non-empty user graphs."""

    @abstractmethod
    def _provenance_records(
        self, triple: Triple | None = None, run_id: str | None = None
    ) -> list[tuple[Triple, Provenance]]:
        """Provenance records, filtered by triple and/or run."""

    def _count(self, pattern: Pattern, graph: str) -> int:
        return sum(1 for _ in self._match(pattern, (graph,)))

    def _count_union(self, pattern: Pattern, graphs: tuple[str, ...]) -> int:
        """Distinct triples matching `pattern` in the union of several graphs."""
        return sum(1 for _ in self.triples(pattern, graphs))

    def _count_all(self, pattern: Pattern) -> int:
        """Distinct triples matching `pattern` in the union of every user graph."""
        return self._count_union(pattern, self._resolve_graphs(None))

    def _close(self) -> None:
        return None

    @property
    def location(self) -> str:
        """Where the data lives (path, URL or ``"memory"``)."""
        return "memory"

    # ------------------------------------------------------------- capability
    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def require(self, capability: Capability) -> None:
        """Raise `UnsupportedCapabilityError` unless this backend has `capability`."""
        if capability not in self.capabilities:
            raise UnsupportedCapabilityError(self.name, capability.value)

    # ----------------------------------------------------------------- writes
    def apply_changes(
        self, changes: ChangeSet, *, validate: bool = True, progress: WriteProgress | None = None
    ) -> None:
        """Apply a whole `ChangeSet` atomically (or add it to the open transaction).

        Args:
            changes: the batch.
            validate: check every term first; pass ``False`` only for batches whose
                terms a parser already validated (`nesykg.kg.io` does).
            progress: a `WriteProgress`, called as a long write goes on where the backend
                can tell (the on-disk embedded store's parallel bulk load); the calls need
                not add up to the exact count.
        """
        if validate:
            valid: set[str] = set()
            for t, g in (*changes.add, *changes.remove):
                check_triple(t, valid)
                self._writable_graph(g)
            for t, p in changes.provenance:
                check_triple(t, valid)
                if not isinstance(p, Provenance):
                    raise InputError(f"expected Provenance for {t!r}, got {type(p).__name__}")
        if changes.provenance or changes.undo_runs:
            self.require(Capability.ANNOTATIONS)
        self._submit(changes, progress)

    def _submit(self, changes: ChangeSet, progress: WriteProgress | None = None) -> None:
        if self._closed:
            raise InputError(f"the {self.name!r} store is closed")
        if self._pending is not None:
            self._pending.extend(changes)
        elif changes:
            self._commit(changes, progress)

    def _commit(self, changes: ChangeSet, progress: WriteProgress | None = None) -> None:
        if changes.bulk and not self.native_bulk:
            expanded = [pair for block in changes.bulk for pair in block.quads()]
            changes = ChangeSet(expanded + changes.add, changes.remove, changes.provenance, changes.undo_runs)
        if progress is not None and self.native_bulk:
            self._apply(changes, progress=progress)  # type: ignore[call-arg]
        else:
            self._apply(changes)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[GraphStore]:
        """Group writes into one atomic change set.

        Nested blocks join the outermost one. Reads inside see the state before it.
        """
        if self._pending is not None:
            yield self
            return
        self._pending = ChangeSet()
        try:
            yield self
            changes = self._pending
        finally:
            self._pending = None
        if changes:
            self._commit(changes)

    @staticmethod
    def _writable_graph(graph: str) -> str:
        check_graph_name(graph)
        if graph == INFERRED:
            raise InputError(
                "the 'inferred' graph only takes triples with provenance: use add_inferred()"
            )
        return graph

    def add(self, triple: Sequence[object], graph: str = DOMAIN) -> None:
        """Add one triple to `graph`."""
        self.add_many([triple], graph)

    def add_many(self, triples: Iterable[Sequence[object]], graph: str = DOMAIN) -> int:
        """Add triples to `graph` atomically; returns how many were given."""
        graph = self._writable_graph(graph)
        valid: set[str] = set()
        batch = [(check_triple(t, valid), graph) for t in triples]
        self._submit(ChangeSet(add=batch))
        return len(batch)

    def remove(self, triple: Sequence[object], graph: str = DOMAIN) -> None:
        """Remove one triple from `graph` (no error if absent)."""
        self.remove_many([triple], graph)

    def remove_many(self, triples: Iterable[Sequence[object]], graph: str = DOMAIN) -> int:
        graph = self._writable_graph(graph)
        valid: set[str] = set()
        batch = [(check_triple(t, valid), graph) for t in triples]
        self._submit(ChangeSet(remove=batch))
        return len(batch)

    def add_inferred(
        self, records: Iterable[tuple[Sequence[object], Provenance]]
    ) -> int:
        """Write inferred triples, each with its `Provenance`, atomically.

        Writing the same triple again in the same run is a no-op; another run's record
        for an existing triple is kept beside the first.
        """
        self.require(Capability.ANNOTATIONS)
        batch = []
        valid: set[str] = set()
        for triple, prov in records:
            if not isinstance(prov, Provenance):
                raise InputError(f"expected Provenance for {triple!r}, got {type(prov).__name__}")
            batch.append((check_triple(triple, valid), prov))
        self._submit(ChangeSet(provenance=batch))
        return len(batch)

    def undo(self, run_id: str) -> int:
        """Remove exactly what run `run_id` wrote; returns the number of triples removed.

        A triple that another run also wrote stays, with that run's provenance.
        """
        self.require(Capability.ANNOTATIONS)
        records = self._provenance_records(run_id=run_id)
        if not records:
            raise UnknownNameError("run", run_id, [r.run_id for r in self.runs()])
        gone = []
        for triple, _ in records:
            others = [p for _, p in self._provenance_records(triple=triple) if p.run_id != run_id]
            if not others:
                gone.append((triple, INFERRED))
        self._submit(ChangeSet(remove=gone, undo_runs=[run_id]))
        return len(gone)

    # ------------------------------------------------------------------ reads
    def _resolve_graphs(self, graphs: GraphSelection) -> tuple[str, ...]:
        if graphs is None:
            names = set(self._graph_names()) | set(DEFAULT_GRAPHS)
            return tuple(sorted(names))
        if isinstance(graphs, str):
            return (check_graph_name(graphs),)
        return tuple(check_graph_name(g) for g in graphs)

    def triples(
        self, pattern: Pattern = (None, None, None), graphs: GraphSelection = None
    ) -> Iterator[Triple]:
        """Triples matching `pattern` in the union of `graphs` (each triple once)."""
        if len(pattern) != 3:
            raise InputError(f"a triple pattern has 3 positions, got {pattern!r}")
        if graphs is None:
            yield from self._match_all(pattern)
        else:
            yield from self._union(pattern, self._resolve_graphs(graphs))

    def _union(self, pattern: Pattern, names: tuple[str, ...]) -> Iterator[Triple]:
        it = self._match(pattern, names)
        if len(names) == 1:
            yield from it
            return
        seen: set[Triple] = set()
        for t in it:
            if t not in seen:
                seen.add(t)
                yield t

    def _match_all(self, pattern: Pattern) -> Iterator[Triple]:
        """Triples matching `pattern` in the union of every user graph, each once (what
        reads naming no graph ask). Server backends override it with one query, so that
        such a read does not first ask the server for its graph list."""
        return self._union(pattern, self._resolve_graphs(None))

    def __contains__(self, triple: object) -> bool:
        return any(True for _ in self.triples(tuple(triple)))  # type: ignore[arg-type]

    def count(self, pattern: Pattern = (None, None, None), graphs: GraphSelection = None) -> int:
        """Number of distinct triples matching `pattern` in the union of `graphs`."""
        if graphs is None:
            return self._count_all(pattern)
        names = self._resolve_graphs(graphs)
        if len(names) == 1:
            return self._count(pattern, names[0])
        return self._count_union(pattern, names)

    def __len__(self) -> int:
        return self.count()

    def graphs(self) -> list[str]:
        """Names of the non-empty user graphs (system graphs excluded)."""
        return sorted(self._graph_names())

    def provenance(self, triple: Sequence[object]) -> list[Provenance]:
        """Provenance records of an inferred triple, oldest first ([] if none)."""
        self.require(Capability.ANNOTATIONS)
        records = self._provenance_records(triple=check_triple(triple))
        return sorted((p for _, p in records), key=lambda p: (p.time, p.run_id))

    def runs(self) -> list[RunInfo]:
        """The runs that wrote to the ``inferred`` graph, oldest first."""
        self.require(Capability.ANNOTATIONS)
        acc: dict[str, RunInfo] = {}
        for _, p in self._provenance_records():
            info = acc.get(p.run_id)
            if info is None:
                acc[p.run_id] = RunInfo(p.run_id, p.method, 1, p.time)
            else:
                acc[p.run_id] = RunInfo(
                    p.run_id, info.method, info.triples + 1, min(info.started, p.time)
                )
        return sorted(acc.values(), key=lambda r: (r.started, r.run_id))

    def stats(self) -> StoreStats:
        """Triples per graph, distinct entities and relations over all user graphs."""
        per_graph = {g: self.count(graphs=g) for g in self.graphs()}
        entities: set[object] = set()
        relations: set[str] = set()
        for s, p, o in self.triples():
            entities.add(s)
            relations.add(p)
            if isinstance(o, str):
                entities.add(o)
        runs = len(self.runs()) if self.supports(Capability.ANNOTATIONS) else 0
        return StoreStats(self.name, self.location, per_graph, len(entities), len(relations), runs)

    def sparql(
        self,
        query: str,
        graphs: GraphSelection = None,
        *,
        timeout: float | None = None,
        max_rows: int | None = None,
        max_memory: int | None = None,
        allow_from: bool = False,
    ) -> Any:
        """Run a read-only SPARQL query; the default graph is the union of `graphs`.

        Args:
            query: SPARQL 1.1 SELECT, ASK, CONSTRUCT or DESCRIBE. Updates, ``LOAD``,
                ``SERVICE`` and ``FROM`` of anything but the store's own graphs are
                refused before the query runs (`nesykg.kg.sparql_guard`).
            graphs: the graphs whose union is the default graph.
            timeout: seconds; past it the query is cancelled (`QueryTimeoutError`).
            max_rows: keep at most this many rows; the result's ``truncated`` says
                whether more were cut.
            max_memory: bytes the query may use (embedded stores run a bounded query in
                a forked worker with this address-space budget; a server enforces its
                own). ``timeout`` alone implies `nesykg.kg.bounded.DEFAULT_MAX_MEMORY`.
            allow_from: let ``FROM`` / ``FROM NAMED`` name the store's own graphs.

        Returns:
            `QueryRows` of ``{variable: term}`` for SELECT, a bool for ASK and `QueryRows`
            of `Triple` for CONSTRUCT/DESCRIBE.
        """
        from nesykg.kg.sparql_guard import check_read_query

        self.require(Capability.SPARQL)
        if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 0):
            raise InputError(f"max_rows must be a non-negative integer, got {max_rows!r}")
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
        allowed: tuple[str, ...] = ()
        if allow_from:
            from nesykg.kg.terms import PROVENANCE_GRAPH, graph_iri

            allowed = tuple(graph_iri(g) for g in (*self._resolve_graphs(None), PROVENANCE_GRAPH))
        check_read_query(query, allow_graphs=allowed, what="SPARQL read query")
        if timeout is not None and max_memory is None:
            from nesykg.kg.bounded import DEFAULT_MAX_MEMORY

            max_memory = DEFAULT_MAX_MEMORY
        return self._sparql(query, self._resolve_graphs(graphs), timeout, max_rows, max_memory)

    def _sparql(
        self,
        query: str,
        graphs: tuple[str, ...],
        timeout: float | None,
        max_rows: int | None,
        max_memory: int | None,
    ) -> Any:
        """Backend hook of `sparql`, called with a checked read query."""
        raise UnsupportedCapabilityError(self.name, Capability.SPARQL.value)

    # -------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Release the store (flushes and unlocks on-disk stores). Idempotent."""
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"
