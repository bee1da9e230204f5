"""The tiny in-memory reference backend: sets of triples per graph.

It defines the expected behaviour in the contract tests and serves as a test double
that needs no Oxigraph. Pattern matching is a linear scan: not for large graphs.
"""

from __future__ import annotations

from collections.abc import Iterator

from nesykg.kg.provenance import Provenance
from nesykg.kg.store import Capability, ChangeSet, GraphStore
from nesykg.kg.terms import INFERRED, Pattern, Triple

__all__ = ["MemoryStore"]


def _matches(t: Triple, pattern: Pattern) -> bool:
    return all(q is None or q == v for q, v in zip(pattern, t))


class MemoryStore(GraphStore):
    """Reference `GraphStore` held in Python sets (no persistence, no SPARQL)."""

    name = "memory"
    capabilities = frozenset(
        {Capability.NAMED_GRAPHS, Capability.TRANSACTIONS, Capability.ANNOTATIONS}
    )

    def __init__(self) -> None:
        super().__init__()
        self._data: dict[str, set[Triple]] = {}
        self._prov: dict[Triple, dict[str, Provenance]] = {}

    def _apply(self, changes: ChangeSet) -> None:
        # Nothing below can fail half-way: the base class validated every term.
        for triple, graph in changes.remove:
            self._data.get(graph, set()).discard(triple)
        for run_id in changes.undo_runs:
            for triple in list(self._prov):
                self._prov[triple].pop(run_id, None)
                if not self._prov[triple]:
                    del self._prov[triple]
        for triple, graph in changes.add:
            self._data.setdefault(graph, set()).add(triple)
        for triple, prov in changes.provenance:
            self._data.setdefault(INFERRED, set()).add(triple)
            self._prov.setdefault(triple, {}).setdefault(prov.run_id, prov)

    def _match(self, pattern: Pattern, graphs: tuple[str, ...]) -> Iterator[Triple]:
        for g in graphs:
            for t in list(self._data.get(g, ())):
                if _matches(t, pattern):
                    yield t

    def _graph_names(self) -> list[str]:
        return [g for g, ts in self._data.items() if ts]

    def _provenance_records(
        self, triple: Triple | None = None, run_id: str | None = None
    ) -> list[tuple[Triple, Provenance]]:
        items = [(triple, self._prov.get(triple, {}))] if triple is not None else self._prov.items()
        return [
            (t, p)
            for t, by_run in items
            for r, p in by_run.items()
            if run_id is None or r == run_id
        ]
