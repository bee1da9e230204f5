"""`Schema`: the expert graph's RDF schema, as the write-back's validator reads it.

Read from the store (names as the workspace's `KGView` uses them):

* ``rdfs:domain`` / ``rdfs:range``: the class a relation's subject / object must have;
* ``rdf:type``: classes of entities (from the ``domain`` and ``expert`` graphs);
* ``rdfs:subClassOf``: a typed entity also has every superclass;
* ``owl:FunctionalProperty``: a subject has at most one object under the relation;
* ``owl:disjointWith``: no entity may have both classes.

Open world: an untyped entity satisfies any domain or range; a typed one must have the
class (or a subclass of it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.kgview import KGView
    from nesykg.kg.store import GraphStore

__all__ = ["Schema", "RDF_TYPE", "RDFS", "OWL", "SCHEMA_PREDICATES"]

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DOMAIN, RANGE, SUBCLASS = RDFS + "domain", RDFS + "range", RDFS + "subClassOf"
FUNCTIONAL, DISJOINT = OWL + "FunctionalProperty", OWL + "disjointWith"
LABELS = (RDFS + "label", SKOS + "prefLabel", SKOS + "altLabel", "http://schema.org/name")
DESCRIPTIONS = (RDFS + "comment", "http://schema.org/description", SKOS + "definition")
SCHEMA_PREDICATES = frozenset({RDF_TYPE, DOMAIN, RANGE, SUBCLASS, DISJOINT, *LABELS, *DESCRIPTIONS})
"""Predicates that describe rather than relate: left out of the agent's edges."""


@dataclass
class Schema:
    """Domain, range, functional and disjointness axioms plus entity classes, by names."""

    domain: dict[str, set[str]] = field(default_factory=dict)
    range: dict[str, set[str]] = field(default_factory=dict)
    functional: set[str] = field(default_factory=set)
    disjoint: dict[str, set[str]] = field(default_factory=dict)
    superclasses: dict[str, set[str]] = field(default_factory=dict)
    types: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store: GraphStore, name: Callable[[str], str]) -> Schema:
        """Read the axioms from the ``expert`` graph and ``rdf:type`` from ``domain`` and
        ``expert``; `name` maps an IRI to the workspace's name of it."""
        s = cls()
        dom: dict[str, set[str]] = defaultdict(set)
        rng: dict[str, set[str]] = defaultdict(set)
        dis: dict[str, set[str]] = defaultdict(set)
        sup: dict[str, set[str]] = defaultdict(set)
        types: dict[str, set[str]] = defaultdict(set)
        for p, table in ((DOMAIN, dom), (RANGE, rng), (SUBCLASS, sup)):
            for a, _, b in store.triples((None, p, None), graphs="expert"):
                if isinstance(b, str):
                    table[name(a)].add(name(b))
        for a, _, b in store.triples((None, DISJOINT, None), graphs="expert"):
            if isinstance(b, str):
                dis[name(a)].add(name(b))
                dis[name(b)].add(name(a))
        for a, _, b in store.triples((None, RDF_TYPE, None), graphs=["domain", "expert"]):
            if not isinstance(b, str):
                continue
            if b == FUNCTIONAL:
                s.functional.add(name(a))
            elif not b.startswith((OWL, RDFS)):
                types[name(a)].add(name(b))
        s.domain, s.range, s.disjoint = dict(dom), dict(rng), dict(dis)
        s.superclasses = {c: _closure(c, sup) for c in sup}
        s.types = dict(types)
        return s

    def __bool__(self) -> bool:
        return bool(self.domain or self.range or self.functional or self.disjoint)

    def classes_of(self, entity: str) -> set[str]:
        """The entity's classes with every superclass."""
        out: set[str] = set()
        for c in self.types.get(entity, ()):
            out.add(c)
            out |= self.superclasses.get(c, set())
        return out

    def violations(self, triple: tuple[str, str, str], graph: KGView) -> list[str]:
        """Why `triple` contradicts the schema (empty when it agrees), given the edges in `graph`."""
        h, r, t = triple
        reasons = []
        for who, entity, needed in (("subject", h, self.domain.get(r)), ("object", t, self.range.get(r))):
            have = self.classes_of(entity)
            for c in sorted(needed or ()):
                if have and c not in have:
                    reasons.append(
                        f"{who} {entity!r} is a {', '.join(sorted(self.types.get(entity, ())))}, not a {c!r}"
                        f" ({'domain' if who == 'subject' else 'range'} of {r!r})"
                    )
                clash = sorted(have & self.disjoint.get(c, set()))
                if clash:
                    reasons.append(f"{who} {entity!r} is a {clash[0]!r}, disjoint with {c!r} required by {r!r}")
        if r in self.functional:
            others = [o for o in graph.step(h, r) if o != t]
            if others:
                reasons.append(f"{r!r} is functional and {h!r} already has {others[0]!r}")
        return reasons


def _closure(c: str, sup: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(sup.get(c, ()))
    while todo:
        x = todo.pop()
        if x not in seen:
            seen.add(x)
            todo.extend(sup.get(x, ()))
    return seen
