"""`KGView`: the edges of a workspace by entity and relation names, for the agent's tools.

Names are local names when every edge lies in one dataset namespace (``urn:nesykg:ds:NAME:``,
as `TensorKG.from_store` strips it), full IRIs otherwise. A step along a relation may go
backwards: ``inv:REL`` is the inverse of ``REL`` (the convention of the rule predictor's
explanations).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

__all__ = ["KGView", "INVERSE_PREFIX", "split_step", "inverse_step"]

INVERSE_PREFIX = "inv:"


def split_step(step: str) -> tuple[str, bool]:
    """``"inv:r"`` -> ``("r", True)``; ``"r"`` -> ``("r", False)``."""
    if step.startswith(INVERSE_PREFIX):
        return step[len(INVERSE_PREFIX):], True
    return step, False


def inverse_step(step: str) -> str:
    """The step that walks `step` backwards."""
    rel, inv = split_step(step)
    return rel if inv else INVERSE_PREFIX + rel


class KGView:
    """Adjacency of a set of ``(head, relation, tail)`` name triples, both directions.

    Args:
        triples: the edges (names).
    """

    def __init__(self, triples: Iterable[tuple[str, str, str]]):
        self._out: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._in: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._rels_out: dict[str, set[str]] = defaultdict(set)
        self._rels_in: dict[str, set[str]] = defaultdict(set)
        self._edges: set[tuple[str, str, str]] = set()
        self._loops: set[str] = set()  # relations with an edge from an entity to itself
        self._ranges: dict[str, frozenset[str]] = {}  # step -> its observed range (cleared by add)
        self._compat: dict[tuple[str, str], bool] = {}  # step pair -> whether their ranges meet
        for h, r, t in triples:
            self.add((h, r, t))
        self._freeze()

    def add(self, triple: tuple[str, str, str]) -> bool:
        """Add one edge; returns whether it was new."""
        if triple in self._edges:
            return False
        h, r, t = triple
        self._edges.add(triple)
        if h == t:
            self._loops.add(r)
        self._ranges.clear()
        self._compat.clear()
        self._out[(h, r)].append(t)
        self._in[(t, r)].append(h)
        self._rels_out[h].add(r)
        self._rels_in[t].add(r)
        return True

    def _freeze(self) -> None:
        for lst in (*self._out.values(), *self._in.values()):
            lst.sort()
        self.entities: list[str] = sorted({x for h, _, t in self._edges for x in (h, t)})
        self.relations: list[str] = sorted({r for _, r, _ in self._edges})
        self._entity_set = set(self.entities)
        self._relation_set = set(self.relations)

    def __len__(self) -> int:
        return len(self._edges)

    def __contains__(self, triple: object) -> bool:
        return triple in self._edges

    def triples(self) -> list[tuple[str, str, str]]:
        """Every edge, sorted."""
        return sorted(self._edges)

    def has_entity(self, name: str) -> bool:
        return name in self._entity_set

    def has_relation(self, name: str) -> bool:
        return name in self._relation_set

    def step(self, entity: str, step: str) -> list[str]:
        """Entities one `step` (``r`` or ``inv:r``) away from `entity`, sorted."""
        rel, inv = split_step(step)
        return list((self._in if inv else self._out).get((entity, rel), ()))

    def steps_from(self, entity: str) -> list[str]:
        """Every step that leaves `entity` (``r`` for out-edges, ``inv:r`` for in-edges)."""
        out = sorted(self._rels_out.get(entity, ()))
        back = sorted(INVERSE_PREFIX + r for r in self._rels_in.get(entity, ()))
        return out + back

    def follow(self, starts: Sequence[str], steps: Sequence[str]) -> list[str]:
        """Entities reached from `starts` along `steps` (a set, sorted)."""
        frontier = set(starts)
        for s in steps:
            frontier = {y for x in frontier for y in self.step(x, s)}
            if not frontier:
                break
        return sorted(frontier)

    def paths(self, start: str, targets: set[str], max_length: int = 2, max_branch: int = 200) -> set[tuple[str, ...]]:
        """Relation paths (steps) of at most `max_length` from `start` to any of `targets`,
        without revisiting an entity; `max_branch` bounds the neighbours followed per entity."""
        found: set[tuple[str, ...]] = set()

        def walk(node: str, path: tuple[str, ...], seen: frozenset[str]) -> None:
            if len(path) == max_length:
                return
            for s in self.steps_from(node):
                for nb in self.step(node, s)[:max_branch]:
                    if nb in seen:
                        continue
                    p = path + (s,)
                    if nb in targets:
                        found.add(p)
                    walk(nb, p, seen | {nb})

        walk(start, (), frozenset([start]))
        return found

    def reflexive(self, step: str) -> bool:
        """Whether the graph links some entity to itself by `step`'s relation: where it never does
        (``parents``), a self-loop is not a fact to propose (the observed-graph counterpart of
        ``owl:IrreflexiveProperty``)."""
        return split_step(step)[0] in self._loops

    def fits_range(self, entity: str, step: str) -> bool:
        """Whether `entity` can be at the far end of `step`, as far as the graph shows types.

        An entity's observed classes are the far ends it has been seen at (the range of each
        relation it is a tail of, the domain of each it is a head of). It fits `step` when it
        is in the step's observed range, when it has no class at all, or when one of its
        classes shares a member with that range: a person fits ``children`` even where no
        ``children`` edge reaches it (persons are heads of ``gender``, like the range's
        members), ``male`` does not (the range of ``gender`` shares nobody with it), nor does
        a person fit ``cause_of_death``. True for a step never observed."""
        members = self.step_range(step)
        if not members or entity in members:
            return True
        classes = self._classes(entity)
        return not classes or any(self._compatible(k, step) for k in classes)

    def _classes(self, entity: str) -> list[str]:
        """The steps whose far end `entity` has been seen at."""
        return [*(f"inv:{r}" for r in self._rels_out.get(entity, ())), *self._rels_in.get(entity, ())]

    def _compatible(self, a: str, b: str) -> bool:
        key = (a, b) if a <= b else (b, a)
        if key not in self._compat:
            self._compat[key] = not self.step_range(a).isdisjoint(self.step_range(b))
        return self._compat[key]

    def step_range(self, step: str) -> frozenset[str]:
        """Every entity seen at the far end of `step`: the observed range of a relation, the
        observed domain of an inverse step (``inv:r``); empty for an unknown relation.
        Remembered per step until the next `add`."""
        if step not in self._ranges:
            rel, inv = split_step(step)
            side = self._in if inv else self._out
            self._ranges[step] = frozenset(x for (_, r), xs in side.items() if r == rel for x in xs)
        return self._ranges[step]
