"""CLUTRR kinship graphs: the CSV loader and a seeded generator of CLUTRR-like chains.

CLUTRR (Sinha et al., EMNLP 2019, https://arxiv.org/abs/1908.06177) asks for the family
relation between the two ends of a story. As a graph (the columns this loader reads):

* ``story_edges``: a Python list of ``(i, j)`` node pairs;
* ``edge_types``: one relation per edge, ``j`` is the ``type`` of ``i`` (``(0, 1)``
  ``grandson``: node 1 is node 0's grandson);
* ``query_edge``: ``(source, target)``; ``target``: the answer relation.

A split folder (e.g. ``data_089907f8``) holds ``1.2,1.3_train.csv`` and ``1.k_test.csv``
files; `load_clutrr` reads them all, each as `RelationQuery` items with ``k`` set (the
number of story edges). `generate_family_chains` builds the same kind of data from random
family trees, for tests and systematic-generalisation runs that need no download.
"""

from __future__ import annotations

import ast
import csv
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nesykg.errors import InputError, ParseError
from nesykg.reasoners.gnn.epignn import RelationQuery

__all__ = ["ClutrrSplit", "read_clutrr_csv", "load_clutrr", "generate_family_chains", "FAMILY_RELATIONS"]

#: CLUTRR's 18 answer relations (and the edge types the generator emits)
FAMILY_RELATIONS = (
    "aunt", "brother", "daughter", "daughter-in-law", "father", "father-in-law", "granddaughter", "grandfather",
    "grandmother", "grandson", "husband", "mother", "mother-in-law", "nephew", "niece", "sister", "son",
    "son-in-law", "uncle", "wife",
)


@dataclass(frozen=True)
class ClutrrSplit:
    """A CLUTRR folder: training graphs and test graphs per file name (``1.4_test.csv`` ...)."""

    path: Path
    train: tuple[RelationQuery, ...]
    tests: dict[str, tuple[RelationQuery, ...]]

    @property
    def relations(self) -> tuple[str, ...]:
        """Every edge type and target of every file, sorted."""
        names: set[str] = set()
        for qs in (self.train, *self.tests.values()):
            for q in qs:
                names.update(q.edge_types)
                if q.target is not None:
                    names.add(q.target)
        return tuple(sorted(names))

    def test_by_k(self) -> dict[int, tuple[RelationQuery, ...]]:
        """Test graphs grouped by chain length ``k``."""
        out: dict[int, list[RelationQuery]] = {}
        for qs in self.tests.values():
            for q in qs:
                out.setdefault(q.k or len(q.edges), []).append(q)
        return {k: tuple(v) for k, v in sorted(out.items())}


def _literal(text: str, path: Path, line: int, column: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ParseError(path, line, f"column {column!r} is not a Python literal: {text[:60]!r}") from None


def read_clutrr_csv(path: str | Path) -> list[RelationQuery]:
    """The graphs of one CLUTRR CSV file (columns ``story_edges``, ``edge_types``,
    ``query_edge``, ``target``), in file order.

    Raises:
        InputError: the file is missing or lacks a column.
        ParseError: a cell is malformed (naming file and line).
    """
    p = Path(path)
    try:
        f = p.open(encoding="utf-8", newline="")
    except OSError as e:
        raise InputError(f"{p}: cannot read the file: {e.strerror or e}") from None
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    out = []
    with f:
        reader = csv.DictReader(f)
        need = ("story_edges", "edge_types", "query_edge", "target")
        missing = [c for c in need if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{p}: not a CLUTRR file (no column {', '.join(missing)})")
        for row in reader:
            line = reader.line_num
            edges = _literal(row["story_edges"], p, line, "story_edges")
            types = _literal(row["edge_types"], p, line, "edge_types")
            query = _literal(row["query_edge"], p, line, "query_edge")
            ok = isinstance(edges, list) and isinstance(types, list) and len(edges) == len(types)
            ok = ok and all(isinstance(e, tuple) and len(e) == 2 and all(isinstance(x, int) and x >= 0 for x in e) for e in edges)
            ok = ok and isinstance(query, tuple) and len(query) == 2 and all(isinstance(x, int) and x >= 0 for x in query)
            ok = ok and all(isinstance(t, str) and t for t in types) and bool(row["target"])
            if not ok:
                raise ParseError(p, line, "story_edges, edge_types and query_edge do not form a graph")
            e2 = tuple((int(a), int(b)) for a, b in edges)  # type: ignore[union-attr]
            out.append(RelationQuery(e2, tuple(types), (int(query[0]), int(query[1])), row["target"], len(e2)))  # type: ignore[index]
    return out


def load_clutrr(folder: str | Path) -> ClutrrSplit:
    """A CLUTRR split folder: ``*_train.csv`` (all of them) and every ``*_test.csv``.

    Raises:
        InputError: no such folder, or no training file in it.
    """
    p = Path(folder)
    if not p.is_dir():
        raise InputError(f"{p}: no such CLUTRR folder")
    train_files = sorted(p.glob("*_train.csv"))
    if not train_files:
        raise InputError(f"{p}: no *_train.csv file (not a CLUTRR split folder)")
    train = tuple(q for f in train_files for q in read_clutrr_csv(f))
    tests = {f.name: tuple(read_clutrr_csv(f)) for f in sorted(p.glob("*_test.csv"))}
    return ClutrrSplit(p, train, tests)


# ---------------------------------------------------------------- generator
class _Family:
    """A random family tree: couples, their children, spouses married in from outside."""

    def __init__(self, rng: random.Random, generations: int, children: tuple[int, int]):
        self.male: list[bool] = []
        self.parents: list[tuple[int, ...]] = []
        self.spouse: dict[int, int] = {}
        couple = [self._person(rng, True, ()), self._person(rng, False, ())]
        self._marry(*couple)
        level = [tuple(couple)]
        for g in range(generations - 1):
            nxt = []
            for a, b in level:
                for _ in range(rng.randint(*children)):
                    c = self._person(rng, rng.random() < 0.5, (a, b))
                    if g < generations - 2 or rng.random() < 0.5:
                        s = self._person(rng, not self.male[c], ())
                        self._marry(c, s)
                        nxt.append((c, s))
            level = nxt

    def _person(self, rng: random.Random, male: bool, parents: tuple[int, ...]) -> int:
        self.male.append(male)
        self.parents.append(parents)
        return len(self.male) - 1

    def _marry(self, a: int, b: int) -> None:
        self.spouse[a], self.spouse[b] = b, a

    def children(self, a: int) -> list[int]:
        return [c for c, ps in enumerate(self.parents) if a in ps]

    def relation(self, a: int, b: int) -> str | None:
        """What ``b`` is of ``a`` (CLUTRR's reading of an edge ``(a, b)``), if nameable."""
        if a == b:
            return None
        m = self.male[b]
        pa, pb = self.parents[a], self.parents[b]
        if b in pa:
            return "father" if m else "mother"
        if a in pb:
            return "son" if m else "daughter"
        if pa and set(pa) & set(pb):
            return "brother" if m else "sister"
        if self.spouse.get(a) == b:
            return "husband" if m else "wife"
        if any(b in self.parents[p] for p in pa):
            return "grandfather" if m else "grandmother"
        if any(a in self.parents[p] for p in pb):
            return "grandson" if m else "granddaughter"
        if any(self.parents[p] and set(self.parents[p]) & set(pb) and p != b for p in pa):
            return "uncle" if m else "aunt"
        if any(self.parents[a] and set(self.parents[a]) & set(self.parents[p]) and p != a for p in pb):
            return "nephew" if m else "niece"
        sa = self.spouse.get(a)
        if sa is not None and b in self.parents[sa]:
            return "father-in-law" if m else "mother-in-law"
        sb = self.spouse.get(b)
        if sb is not None and a in self.parents[sb]:
            return "son-in-law" if m else "daughter-in-law"
        return None


def generate_family_chains(
    n: int, k: int | Sequence[int], seed: int = 0, generations: int = 4, children: tuple[int, int] = (2, 3),
    max_tries: int = 200,
) -> list[RelationQuery]:
    """`n` CLUTRR-like graphs: chains ``0 -> 1 -> ... -> k`` of named family relations over
    random family trees, each with the nameable relation of its two ends as target.

    A chain visits distinct people; each edge is the relation of consecutive people (``j``
    is the ``type`` of ``i``). Chains whose ends have no name in `FAMILY_RELATIONS` are
    redrawn (up to `max_tries` per graph; then the family is redrawn).

    Args:
        n: how many graphs.
        k: the chain length, or lengths to cycle through.
        seed: seeds everything (the same seed gives the same graphs).
        generations: depth of each family tree (chains of length ``k`` need room: 4
            generations suit ``k <= 10``).
        children: range of children per couple.
    """
    ks = [k] if isinstance(k, int) else list(k)
    if not ks or min(ks) < 1:
        raise InputError(f"chain lengths must be >= 1, got {k!r}")
    rng = random.Random(seed)
    out: list[RelationQuery] = []
    fam = _Family(rng, generations, children)
    people = len(fam.male)
    nbrs = [[b for b in range(people) if fam.relation(a, b)] for a in range(people)]
    while len(out) < n:
        if out and len(out) % 50 == 0:  # a fresh family now and then: more variety
            fam = _Family(rng, generations, children)
            people = len(fam.male)
            nbrs = [[b for b in range(people) if fam.relation(a, b)] for a in range(people)]
        length = ks[len(out) % len(ks)]
        for _ in range(max_tries):
            path = [rng.randrange(people)]
            while len(path) <= length:
                options = [b for b in nbrs[path[-1]] if b not in path]
                if not options:
                    break
                path.append(rng.choice(options))
            if len(path) != length + 1:
                continue
            target = fam.relation(path[0], path[-1])
            if target is None:
                continue
            types = tuple(fam.relation(a, b) or "" for a, b in zip(path, path[1:]))
            edges = tuple((i, i + 1) for i in range(length))
            out.append(RelationQuery(edges, types, (0, length), target, length))
            break
        else:
            fam = _Family(rng, generations, children)
            people = len(fam.male)
            nbrs = [[b for b in range(people) if fam.relation(a, b)] for a in range(people)]
    return out
