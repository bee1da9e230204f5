"""Exact answers of an EFO-1 formula on an observed graph (no predictor): easy answers, tests, oracles.

`exact_answers(formula, graph)` returns the ids of the entities ``a`` for which the formula
holds with ``?free = a`` on the graph, closed world: a missing edge is false, and negation
is the complement against the entity universe ``0..N-1``. A disjunction is the union of its
conjunctions' answers.

One conjunction is solved on candidate sets, one per variable:

1. atoms with a constant restrict their variable (``r(c, x)``: ``x`` in the successors of
   ``c``; ``!r(c, x)``: not in them); a `NotExists` block is solved as a sub-query whose
   answers are removed from its variable's set;
2. positive atoms between variables prune both sets (arc consistency, a few passes);
3. a leaf variable (all its atoms lead to one neighbour ``p``) is eliminated: ``p`` keeps
   the values that some value of the leaf supports under all atoms between them, positive
   and negated (multi-edges included); when only the free variable is left, its set is the
   answer; when the free variable itself is the only leaf, the rest is solved for its
   neighbour and the answer extended over the atoms between them;
4. a cycle (no leaf left) is cut by enumerating the values of one variable, the one with
   the most neighbours, and solving each case as a tree.

Complexity: a tree-shaped conjunction costs O(sum over atoms of |candidates| x degree) set
operations, i.e. near-linear in the edges its candidates touch; a cyclic one multiplies that
by the candidate count of each enumerated variable (one for FIT's 3c/3cm). Memory is that of
the candidate sets, O(N) per variable. `brute_force_answers` enumerates every assignment,
O(N^(variables) x literals): a reference for tests on tiny graphs only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from nesykg.reasoners.logic.formula import Atom, Conjunction, Const, Formula, NotExists, Term
from nesykg.reasoners.logic.graph_index import GraphIndex

__all__ = ["brute_force_answers", "exact_answer_names", "exact_answers"]

_Node: TypeAlias = int | str  # an entity id (a constant) or a variable name
_Dom: TypeAlias = set[int] | None  # candidate ids; None is the whole universe


@dataclass(frozen=True, slots=True)
class _A:
    """An atom with ids: relation id, subject and object (entity id or variable name)."""

    rel: int
    s: _Node
    o: _Node
    neg: bool


def _resolve_term(t: Term, graph: GraphIndex) -> _Node:
    return graph.entity_id(t.name) if isinstance(t, Const) else t.name


def _resolve(a: Atom, graph: GraphIndex) -> _A:
    return _A(
        graph.relation_id(a.relation),
        _resolve_term(a.subject, graph),
        _resolve_term(a.object, graph),
        a.negated,
    )


def exact_answers(formula: Formula, graph: GraphIndex) -> frozenset[int]:
    """Entity ids that answer `formula` on `graph` (names resolved through ``graph.vocab``).

    Raises:
        UnknownNameError: a constant or relation is not in the graph's vocabulary.
    """
    out: set[int] = set()
    for conj in formula.disjuncts:
        out |= _answer_conjunction(conj, formula.free, graph)
    return frozenset(out)


def exact_answer_names(formula: Formula, graph: GraphIndex) -> frozenset[str]:
    """Like `exact_answers`, as entity names."""
    names = graph.require_vocab().entities
    return frozenset(names[i] for i in exact_answers(formula, graph))


def _answer_conjunction(conj: Conjunction, free: str, graph: GraphIndex) -> set[int]:
    atoms: list[_A] = []
    domains: dict[str, _Dom] = {v: None for v in conj.variables()}
    for lit in conj.literals:
        if isinstance(lit, Atom):
            atoms.append(_resolve(lit, graph))
    for lit in conj.literals:
        if isinstance(lit, NotExists):
            (outer,) = lit.outer_variables()
            inner_atoms = [_resolve(a, graph) for a in lit.atoms]
            inner_domains: dict[str, _Dom] = {v: None for v in (*lit.variables, outer)}
            excluded = _solve(inner_atoms, outer, inner_domains, graph)
            domains[outer] = _universe(domains[outer], graph) - excluded
    return _solve(atoms, free, domains, graph)


def _universe(d: _Dom, graph: GraphIndex) -> set[int]:
    return set(range(graph.num_entities)) if d is None else d


def _restrict(domains: dict[str, _Dom], v: str, values: Iterable[int] | np.ndarray) -> set[int]:
    vals = set(values.tolist()) if isinstance(values, np.ndarray) else set(values)
    d = domains[v]
    new = vals if d is None else d & vals
    domains[v] = new
    return new


def _side(graph: GraphIndex, a: _A, value: int, value_is_subject: bool) -> np.ndarray:
    """Neighbours of `value` across atom `a` (tails if `value` is its subject, heads otherwise)."""
    return graph.successors(value, a.rel) if value_is_subject else graph.predecessors(value, a.rel)


def _solve(atoms: list[_A], target: str, domains: dict[str, _Dom], graph: GraphIndex) -> set[int]:
    """Values of `target` for which some assignment of the other variables satisfies `atoms`."""
    domains = dict(domains)
    binary: list[_A] = []
    # 1. ground atoms and atoms with one variable (positive first, so sets are finite for negation)
    for a in sorted(atoms, key=lambda a: a.neg):
        s_var, o_var = isinstance(a.s, str), isinstance(a.o, str)
        if not s_var and not o_var:
            if graph.has_edge(a.s, a.rel, a.o) == a.neg:  # type: ignore[arg-type]
                return set()
            continue
        if s_var and o_var:
            if a.s == a.o:
                v = a.s
                d = _universe(domains[v], graph)  # type: ignore[index]
                loops = {x for x in d if graph.has_edge(x, a.rel, x)}
                domains[v] = d - loops if a.neg else loops  # type: ignore[index]
            else:
                binary.append(a)
            continue
        v, c = (a.s, a.o) if s_var else (a.o, a.s)
        nb = _side(graph, a, c, value_is_subject=not s_var)  # type: ignore[arg-type]
        if a.neg:
            domains[v] = _universe(domains[v], graph) - set(nb.tolist())  # type: ignore[index]
        else:
            _restrict(domains, v, nb)  # type: ignore[arg-type]
        if not domains[v]:  # type: ignore[index]
            return set()
    # 2. arc consistency on positive binary atoms
    if not _prune(binary, domains, graph):
        return set()
    return _eliminate(binary, target, domains, graph)


def _prune(binary: list[_A], domains: dict[str, _Dom], graph: GraphIndex, passes: int = 4) -> bool:
    """Shrink candidate sets along positive atoms; False when one becomes empty."""
    positive = [a for a in binary if not a.neg]
    for _ in range(passes):
        changed = False
        for a in positive:
            s, o = a.s, a.o
            ds, do = domains[s], domains[o]  # type: ignore[index]
            image = (
                graph.tails(a.rel) if ds is None else graph.successors_of(np.fromiter(ds, np.int64), a.rel)
            )
            before = None if do is None else len(do)
            if len(_restrict(domains, o, image)) != before:  # type: ignore[arg-type]
                changed = True
            do = domains[o]  # type: ignore[index]
            pre = graph.predecessors_of(np.fromiter(do, np.int64), a.rel)  # type: ignore[arg-type]
            before = None if ds is None else len(ds)
            if len(_restrict(domains, s, pre)) != before:  # type: ignore[arg-type]
                changed = True
            if not domains[s] or not domains[o]:  # type: ignore[index]
                return False
        if not changed:
            break
    return True


def _neighbours(binary: list[_A]) -> dict[str, set[str]]:
    nb: dict[str, set[str]] = {}
    for a in binary:
        nb.setdefault(a.s, set()).add(a.o)  # type: ignore[arg-type]
        nb.setdefault(a.o, set()).add(a.s)  # type: ignore[arg-type]
    return nb


def _supported(between: list[_A], leaf: str, p: str, domains: dict[str, _Dom], graph: GraphIndex) -> set[int]:
    """Values of `p` for which some value of `leaf` satisfies every atom in `between`."""
    dl, dp = _universe(domains[leaf], graph), _universe(domains[p], graph)
    pos = [a for a in between if not a.neg]
    neg = [a for a in between if a.neg]
    if pos and len(dl) < len(dp):
        # from the leaf's side: the p-values each leaf value reaches
        out: set[int] = set()
        for x in dl:
            cand: set[int] | None = None
            for a in pos:
                nb = set(_side(graph, a, x, value_is_subject=(a.s == leaf)).tolist())
                cand = nb if cand is None else cand & nb
                if not cand:
                    break
            if cand:
                for a in neg:
                    cand -= set(_side(graph, a, x, value_is_subject=(a.s == leaf)).tolist())
                out |= cand
        return out & dp
    keep: set[int] = set()
    for v in dp:
        cand2: set[int] | None = None
        for a in pos:
            nb = set(_side(graph, a, v, value_is_subject=(a.s == p)).tolist())
            cand2 = nb & dl if cand2 is None else cand2 & nb
            if not cand2:
                break
        if pos and not cand2:
            continue
        banned: set[int] = set()
        for a in neg:
            banned |= set(_side(graph, a, v, value_is_subject=(a.s == p)).tolist())
        if cand2 is None:  # only negated atoms: is there a leaf value outside the banned ones?
            if len(dl) > len(banned) or dl - banned:
                keep.add(v)
        elif cand2 - banned:
            keep.add(v)
    return keep


def _substitute(a: _A, var: str, value: int) -> _A:
    return _A(a.rel, value if a.s == var else a.s, value if a.o == var else a.o, a.neg)


def _eliminate(binary: list[_A], target: str, domains: dict[str, _Dom], graph: GraphIndex) -> set[int]:
    binary = list(binary)
    while True:
        nb = _neighbours(binary)
        # variables without binary atoms: the target's set is the answer, others only need a value
        for v in list(domains):
            if v != target and v not in nb:
                if domains[v] is not None and not domains[v]:
                    return set()
                del domains[v]
        if target not in nb:
            return set(_universe(domains[target], graph))
        leaf = next((v for v, ns in nb.items() if v != target and len(ns) == 1), None)
        if leaf is None:
            break
        (p,) = nb[leaf]
        between = [a for a in binary if leaf in (a.s, a.o)]
        domains[p] = _supported(between, leaf, p, domains, graph)
        if not domains[p]:
            return set()
        binary = [a for a in binary if leaf not in (a.s, a.o)]
        del domains[leaf]
    nb = _neighbours(binary)
    if len(nb[target]) == 1:
        # the free variable hangs off one neighbour: solve the rest for it, then extend
        (p,) = nb[target]
        rest = [a for a in binary if target not in (a.s, a.o)]
        between = [a for a in binary if target in (a.s, a.o)]
        rest_domains = {v: d for v, d in domains.items() if v != target}
        domains[p] = _eliminate(rest, p, rest_domains, graph)
        if not domains[p]:
            return set()
        return _supported(between, p, target, domains, graph)
    # a cycle through the target: enumerate the variable with the most neighbours
    cut = max((v for v in nb if v != target), key=lambda v: (len(nb[v]), -len(_universe(domains[v], graph))))
    answers: set[int] = set()
    full = _universe(domains[target], graph)
    for value in sorted(_universe(domains[cut], graph)):
        sub = [_substitute(a, cut, value) for a in binary]
        sub_domains = {v: d for v, d in domains.items() if v != cut}
        answers |= _solve(sub, target, sub_domains, graph)
        if len(answers) == len(full):
            break
    return answers


# ------------------------------------------------------------------ brute force (tests only)
def brute_force_answers(formula: Formula, graph: GraphIndex) -> frozenset[int]:
    """Answers by trying every assignment of every variable: O(N^variables); tiny graphs only."""
    edges = {tuple(t) for t in graph.triples.tolist()}
    n = graph.num_entities

    def value(t: Term, env: dict[str, int]) -> int:
        return graph.entity_id(t.name) if isinstance(t, Const) else env[t.name]

    def holds(a: Atom, env: dict[str, int]) -> bool:
        present = (value(a.subject, env), graph.relation_id(a.relation), value(a.object, env)) in edges
        return present != a.negated

    def block_holds(b: NotExists, env: dict[str, int]) -> bool:
        for vals in itertools.product(range(n), repeat=len(b.variables)):
            inner = {**env, **dict(zip(b.variables, vals))}
            if all(holds(a, inner) for a in b.atoms):
                return False
        return True

    out: set[int] = set()
    for conj in formula.disjuncts:
        others = [v for v in conj.variables() if v != formula.free]
        for y in range(n):
            if y in out:
                continue
            for vals in itertools.product(range(n), repeat=len(others)):
                env = {formula.free: y, **dict(zip(others, vals))}
                if all(holds(x, env) if isinstance(x, Atom) else block_holds(x, env) for x in conj.literals):
                    out.add(y)
                    break
    return frozenset(out)
