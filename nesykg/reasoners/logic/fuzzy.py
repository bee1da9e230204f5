"""The fuzzy elimination engine shared by FIT and CQD-beam: formulas with ids, solved on truth rows.

A conjunction is solved on one fuzzy set per variable, ``C[v]: FloatTensor[N]`` (all ones at
first), combined with a t-norm ``T`` (product by default):

1. an atom with a constant multiplies a truth row into its variable: ``r(c, x)`` the row
   ``T(c, r, .)``, ``r(x, c)`` the row of the reciprocal ``T(c, r + R, .)``; a negated atom
   ``1 - row``; a ground atom multiplies a scalar; a `NotExists` block over ``v`` multiplies
   ``1 - F`` into ``C[v]``, ``F`` being the block's own fuzzy answer set over ``v``;
2. a *leaf* (a variable other than the target whose atoms all lead to one neighbour ``p``) is
   eliminated: ``C[p] <- T(C[p], m)`` with
   ``m(t) = max_u T(C[u](u), prod_e T_e(u, t))`` over every atom ``e`` between them (a
   multi-edge is a product; a negated atom ``1 - T_e``). The max runs over the ``k`` members
   of ``C[u]`` with the largest truth (exact when ``C[u]`` has at most ``k`` non-zeros), or,
   when ``C[u]`` is wide and ``C[p]`` narrow (an unanchored leaf such as in ``2il``), from
   ``p``'s side over the ``k`` best members of ``C[p]`` with reciprocal rows;
3. when no leaf is left the query has a cycle: one variable ``x`` (fewest neighbours, then
   fewest candidates, as FIT does) is enumerated over its ``cycle_k`` best candidates plus
   every candidate of truth 1, each case solved as in 1-2 with ``x`` a constant, and the
   answers combined as ``max_a T(C[x](a), answer_a)``.

A disjunction is the maximum of its conjunctions' answers. `explain` re-runs the solve with
back-pointers (which member won each max, which candidate won each enumeration) and follows
them from one answer, as Viterbi decoding does: the grounding it returns is the one the score
came from, and each literal's truth is read from the row the solve read, so their t-norm is
the answer's truth (up to the unanchored-leaf case, where rows of the other side were read).

Memory per query: ``(V + 2) x N`` floats for the fuzzy sets, plus ``max_floats`` while a
projection or rows are computed, plus the `TruthCache`'s bound. No ``N x N`` matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import torch
from torch import Tensor

from nesykg.errors import InputError
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.logic.formula import Atom, Const, Formula, NotExists, Term
from nesykg.reasoners.logic.tnorms import PRODUCT, TNorm
from nesykg.reasoners.logic.truth import TruthCache

__all__ = ["Edge", "Block", "Conj", "Query", "FuzzyEngine", "Grounding", "resolve"]

Node: TypeAlias = "int | str"  # an entity id (a constant) or a variable name
ProjectFn: TypeAlias = Callable[[Tensor, int], Tensor]  # (weights[N], relation) -> image[N]


@dataclass(frozen=True, slots=True)
class Edge:
    """An atom with ids: relation in ``[0, R)``, subject and object (entity id or variable)."""

    rel: int
    s: Node
    o: Node
    neg: bool = False

    def sub(self, var: str, value: int) -> Edge:
        return Edge(self.rel, value if self.s == var else self.s, value if self.o == var else self.o, self.neg)


@dataclass(frozen=True, slots=True)
class Block:
    """``!(exists variables . atoms)`` sharing `outer` (a variable, or a constant once substituted)."""

    variables: tuple[str, ...]
    atoms: tuple[Edge, ...]
    outer: Node

    def sub(self, var: str, value: int) -> Block:
        return Block(self.variables, tuple(a.sub(var, value) for a in self.atoms), value if self.outer == var else self.outer)


@dataclass(frozen=True, slots=True)
class Conj:
    atoms: tuple[Edge, ...]
    blocks: tuple[Block, ...]
    literals: tuple[Atom | NotExists, ...]  # the named literals, in the same order (atoms, then blocks)


@dataclass(frozen=True, slots=True)
class Query:
    """A formula resolved against a vocabulary."""

    formula: Formula
    free: str
    disjuncts: tuple[Conj, ...]


@dataclass(frozen=True)
class Grounding:
    """The best grounding of one conjunction for one answer.

    Attributes:
        disjunct: index of the conjunction (0 for a conjunctive formula).
        assignment: every variable (the free one included) -> entity id.
        literal_truths: truth of each literal of the conjunction under the assignment.
        truth: their t-norm, the answer's truth through this grounding.
    """

    disjunct: int
    assignment: dict[str, int]
    literal_truths: tuple[tuple[Atom | NotExists, float], ...]
    truth: float


def resolve(formula: Formula, vocab: Vocabulary) -> Query:
    """`formula` with entity and relation names mapped to ids through `vocab`.

    Raises:
        UnknownNameError: a constant or relation not in `vocab` (with the closest names).
    """

    def term(t: Term) -> Node:
        return vocab.entity_id(t.name) if isinstance(t, Const) else t.name

    def edge(a: Atom) -> Edge:
        return Edge(vocab.relation_id(a.relation), term(a.subject), term(a.object), a.negated)

    out = []
    for c in formula.disjuncts:
        atoms = [lit for lit in c.literals if isinstance(lit, Atom)]
        blocks = [lit for lit in c.literals if isinstance(lit, NotExists)]
        rb = tuple(Block(b.variables, tuple(edge(a) for a in b.atoms), b.outer_variables()[0]) for b in blocks)
        out.append(Conj(tuple(edge(a) for a in atoms), rb, (*atoms, *blocks)))
    return Query(formula, formula.free, tuple(out))


def _vars(atoms: Sequence[Edge]) -> list[str]:
    seen: dict[str, None] = {}
    for a in atoms:
        for t in (a.s, a.o):
            if isinstance(t, str):
                seen.setdefault(t)
    return list(seen)


def _neighbours(binary: Sequence[Edge]) -> dict[str, set[str]]:
    nb: dict[str, set[str]] = {}
    for a in binary:
        nb.setdefault(a.s, set()).add(a.o)  # type: ignore[arg-type]
        nb.setdefault(a.o, set()).add(a.s)  # type: ignore[arg-type]
    return nb


Trace: TypeAlias = list  # entries recorded by a traced solve, decoded by `FuzzyEngine._decode`


class FuzzyEngine:
    """Solves resolved queries on truth rows (see the module doc).

    Args:
        cache: where truth rows come from.
        num_relations: ``R``; ``r + R`` is the reciprocal of ``r``.
        tnorm: the conjunction.
        k: members of a fuzzy set a projection runs over.
        cycle_k: candidates enumerated on a cycle, besides those of truth 1.
        max_enumeration: at most this many candidates on a cycle.
        beam_only: always project from the leaf's top-``k`` members (CQD-beam's beam).
        project: a set projection ``(weights[N], relation) -> [N]`` for single positive edges
            (a predictor's own `project`, e.g. a GNN's), used instead of the rows.
        max_floats: floats held by one projection step.
    """

    def __init__(
        self,
        cache: TruthCache,
        num_relations: int,
        tnorm: TNorm = PRODUCT,
        *,
        k: int = 128,
        cycle_k: int = 10,
        max_enumeration: int = 256,
        beam_only: bool = False,
        project: ProjectFn | None = None,
        max_floats: int = 1 << 22,
    ):
        if k < 1 or cycle_k < 0 or max_enumeration < 1:
            raise InputError(f"need k >= 1, cycle_k >= 0, max_enumeration >= 1; got {k}, {cycle_k}, {max_enumeration}")
        self.cache = cache
        self.n = cache.num_entities
        self.R = num_relations
        self.tn = tnorm
        self.k, self.cycle_k, self.max_enumeration = k, cycle_k, max_enumeration
        self.beam_only = beam_only
        self.project_fn = project
        self.max_floats = max_floats

    # ------------------------------------------------------------------ public
    def answer(self, q: Query) -> Tensor:
        """Truth of every entity as the answer: ``FloatTensor[N]`` (max over the disjuncts)."""
        out: Tensor | None = None
        for c in q.disjuncts:
            v = self.conjunction(c.atoms, c.blocks, q.free)
            out = v if out is None else torch.maximum(out, v)
        assert out is not None
        return out

    def conjunction(self, atoms: Sequence[Edge], blocks: Sequence[Block], target: str) -> Tensor:
        """Fuzzy answer set of `target` in one conjunction (blocks applied first)."""
        C: dict[str, Tensor] = {v: torch.ones(self.n) for v in _vars(atoms)}
        scalar = torch.tensor(1.0)
        for b in blocks:
            if isinstance(b.outer, str):
                f = self._solve(list(b.atoms), b.outer, {v: torch.ones(self.n) for v in (*b.variables, b.outer)})
                C[b.outer] = self.tn.conj(C.get(b.outer, torch.ones(self.n)), 1.0 - f)
            else:
                scalar = self.tn.conj(scalar, torch.tensor(1.0 - self.closed(b)))
        return self.tn.conj(scalar, self._solve(list(atoms), target, C))

    def closed(self, b: Block) -> float:
        """Truth of ``exists variables . atoms`` for a block whose outer term is a constant."""
        v = b.variables[0]
        return float(self._solve(list(b.atoms), v, {x: torch.ones(self.n) for x in b.variables}).max())

    def explain(self, q: Query, answer: int) -> Grounding:
        """The best grounding for `answer` over all disjuncts."""
        best: Grounding | None = None
        for i, c in enumerate(q.disjuncts):
            g = self._explain_conj(i, c, q.free, answer)
            if best is None or g.truth > best.truth:
                best = g
        assert best is not None
        return best

    # ------------------------------------------------------------------ rows
    def inverse(self, rel: int) -> int:
        return rel + self.R if rel < self.R else rel - self.R

    def _row(self, head: int, rel: int) -> Tensor:
        return self.cache.dense([head], [rel])[0]

    def _ground_truth(self, a: Edge) -> float:
        t = self.cache.value(a.s, a.rel, a.o)  # type: ignore[arg-type]
        return 1.0 - t if a.neg else t

    # ------------------------------------------------------------------ solving
    def _solve(self, atoms: list[Edge], target: str, C: dict[str, Tensor], trace: Trace | None = None) -> Tensor:
        C = dict(C)
        C.setdefault(target, torch.ones(self.n))
        scalar = torch.tensor(1.0)
        binary: list[Edge] = []
        anchored = [  # the rows of the atoms with one constant, computed in one batch
            (a.s, a.rel) if isinstance(a.o, str) else (a.o, self.inverse(a.rel))
            for a in atoms
            if isinstance(a.s, str) != isinstance(a.o, str)
        ]
        if len(anchored) > 1:
            self.cache.prefetch([h for h, _ in anchored], [r for _, r in anchored])  # type: ignore[misc]
        for a in atoms:
            s_var, o_var = isinstance(a.s, str), isinstance(a.o, str)
            if not s_var and not o_var:
                scalar = self.tn.conj(scalar, torch.tensor(self._ground_truth(a)))
            elif s_var and o_var:
                if a.s == a.o:
                    C[a.s] = self.tn.conj(C[a.s], self._diagonal(C[a.s], a.rel, a.neg))  # type: ignore[index]
                else:
                    binary.append(a)
            else:
                v, row = (a.s, self._row(a.o, self.inverse(a.rel))) if s_var else (a.o, self._row(a.s, a.rel))  # type: ignore[arg-type]
                C[v] = self.tn.conj(C.get(v, torch.ones(self.n)), 1.0 - row if a.neg else row)  # type: ignore[index]
        return self.tn.conj(scalar, self._eliminate(binary, target, C, trace))

    def _eliminate(self, binary: list[Edge], target: str, C: dict[str, Tensor], trace: Trace | None) -> Tensor:
        scalar = torch.tensor(1.0)
        while True:
            nb = _neighbours(binary)
            for v in [v for v in C if v != target and v not in nb]:
                vec = C.pop(v)
                scalar = self.tn.conj(scalar, vec.max())
                if trace is not None:
                    trace.append(("iso", v, int(torch.argmax(vec))))
            if target not in nb:
                return self.tn.conj(scalar, C[target])
            leaves = [v for v, ns in nb.items() if v != target and len(ns) == 1]
            if not leaves:
                break
            leaf = min(leaves, key=lambda v: int(torch.count_nonzero(C[v])))
            (p,) = nb[leaf]
            between = [a for a in binary if leaf in (a.s, a.o)]
            edges = [(a.rel if a.s == leaf else self.inverse(a.rel), a.neg) for a in between]
            msg, arg, side = self._project(C[leaf], C[p], edges)
            if trace is not None:
                trace.append(("proj", leaf, p, arg, side))
            C[p] = self.tn.conj(C[p], msg)
            binary = [a for a in binary if leaf not in (a.s, a.o)]
            del C[leaf]
        # a cycle: enumerate the best candidates of one variable
        cut = min(
            (v for v in nb if v != target), key=lambda v: (len(nb[v]), int(torch.count_nonzero(C[v])))
        )
        vals = C[cut]
        nonzero = int(torch.count_nonzero(vals))
        ones = int((vals >= 1.0).sum())
        m = min(self.cycle_k + ones, nonzero, self.max_enumeration)
        best = torch.zeros(self.n)
        if m == 0:
            return best
        w, cands = torch.topk(vals, m)
        rest = {v: c for v, c in C.items() if v != cut}
        # every candidate anchors the atoms at the cut: their rows in one batch
        at_cut = [(e.rel if e.s == cut else self.inverse(e.rel)) for e in binary if cut in (e.s, e.o) and e.s != e.o]
        self.cache.prefetch([a for a in cands.tolist() for _ in at_cut], [r for _ in range(m) for r in at_cut])
        cases = []
        for wa, a in zip(w.tolist(), cands.tolist()):
            sub = [e.sub(cut, a) for e in binary]
            sub_trace: Trace | None = [] if trace is not None else None
            ans = self.tn.conj(torch.tensor(wa), self._solve(sub, target, rest, sub_trace))
            best = torch.maximum(best, ans)
            cases.append((a, ans, sub_trace))
        if trace is not None:
            trace.append(("cut", cut, target, cases, tuple(nb[cut])))
        return self.tn.conj(scalar, best)

    def _project(self, wu: Tensor, wp: Tensor, edges: list[tuple[int, bool]]) -> tuple[Tensor, Tensor, str]:
        """``m(t) = max_u T(wu[u], prod_e T_e(u, t))`` for edges given as (relation from u, negated).

        Returns ``(m, argmax_u, side)``: the message, the best ``u`` of each ``t``, and whose rows
        were read (``"u"``: the leaf's, ``"p"``: the neighbour's through reciprocals).
        """
        su, sp = int(torch.count_nonzero(wu)), int(torch.count_nonzero(wp))
        if su == 0 or sp == 0:
            return torch.zeros(self.n), torch.zeros(self.n, dtype=torch.long), "u"
        if self.project_fn is not None and len(edges) == 1 and not edges[0][1]:
            msg = self.project_fn(wu, edges[0][0]).float().cpu()
            return msg, torch.full((self.n,), int(torch.argmax(wu))), "u"
        from_u = self.beam_only or su <= self.k or (sp > self.k and self._mass(wu, su) >= self._mass(wp, sp))
        if from_u:
            return (*self._project_from(wu, su, edges), "u")
        return (*self._project_to(wu, wp, sp, edges), "p")

    def _mass(self, w: Tensor, support: int) -> float:
        """Share of the fuzzy mass of `w` its top-k members hold."""
        total = float(w.sum())
        return float(torch.topk(w, min(self.k, support)).values.sum()) / total if total > 0 else 0.0

    def _project_from(self, wu: Tensor, su: int, edges: list[tuple[int, bool]]) -> tuple[Tensor, Tensor]:
        w, members = torch.topk(wu, min(self.k, su))
        out = torch.zeros(self.n)
        arg = torch.full((self.n,), int(members[0]))
        ids = members.tolist()
        step = max(1, self.max_floats // self.n)
        for i in range(0, len(ids), step):
            part = ids[i : i + step]
            m = w[i : i + step].unsqueeze(1).expand(len(part), self.n)
            for rel, neg in edges:
                rows = self.cache.dense(part, [rel] * len(part))
                m = self.tn.conj(m, 1.0 - rows if neg else rows)
            vals, idx = m.max(0)
            better = vals > out
            out = torch.where(better, vals, out)
            arg = torch.where(better, members[i : i + step][idx], arg)
        return out, arg

    def _project_to(self, wu: Tensor, wp: Tensor, sp: int, edges: list[tuple[int, bool]]) -> tuple[Tensor, Tensor]:
        _, targets = torch.topk(wp, min(self.k, sp))
        out = torch.zeros(self.n)
        arg = torch.zeros(self.n, dtype=torch.long)
        ids = targets.tolist()
        step = max(1, self.max_floats // self.n)
        for i in range(0, len(ids), step):
            part = ids[i : i + step]
            m = wu.unsqueeze(0).expand(len(part), self.n)
            for rel, neg in edges:
                rows = self.cache.dense(part, [self.inverse(rel)] * len(part))
                m = self.tn.conj(m, 1.0 - rows if neg else rows)
            vals, idx = m.max(1)
            out[torch.tensor(part)] = vals
            arg[torch.tensor(part)] = idx
        return out, arg

    def _diagonal(self, wv: Tensor, rel: int, neg: bool) -> Tensor:
        """``T(x, rel, x)`` for the top-k members of `wv` (others 0, or 1 when negated)."""
        support = int(torch.count_nonzero(wv))
        out = torch.ones(self.n) if neg else torch.zeros(self.n)
        if support == 0:
            return out
        _, members = torch.topk(wv, min(self.k, support))
        ids = members.tolist()
        rows = self.cache.dense(ids, [rel] * len(ids))
        diag = rows[torch.arange(len(ids)), members]
        out[members] = 1.0 - diag if neg else diag
        return out

    # ------------------------------------------------------------------ explanations
    def _decode(self, trace: Trace, assignment: dict[str, int], reader: dict[frozenset[str], str]) -> None:
        """Follow a traced solve's back-pointers (latest first), filling `assignment` and, for each
        pair of variables, whose rows the solve read (`reader`)."""
        for entry in reversed(trace):
            if entry[0] == "iso":
                assignment[entry[1]] = entry[2]
            elif entry[0] == "proj":
                _, leaf, p, arg, side = entry
                assignment[leaf] = int(arg[assignment[p]])
                reader.setdefault(frozenset((leaf, p)), leaf if side == "u" else p)
            else:
                _, cut, target, cases, neighbours = entry
                a = assignment[target]
                value, _, sub = max(cases, key=lambda c: float(c[1][a]))
                assignment[cut] = value
                for v in neighbours:  # its atoms became anchored on the enumerated value
                    reader.setdefault(frozenset((cut, v)), cut)
                self._decode(sub, assignment, reader)

    def _atom_truth(self, a: Edge, assignment: dict[str, int], reader: dict[frozenset[str], str]) -> float:
        """Truth of an atom under `assignment`, read from the row the solve read it from."""
        s = assignment[a.s] if isinstance(a.s, str) else a.s
        o = assignment[a.o] if isinstance(a.o, str) else a.o
        if isinstance(a.s, str) and isinstance(a.o, str):
            from_subject = a.s == a.o or reader.get(frozenset((a.s, a.o)), a.s) == a.s
        else:
            from_subject = not isinstance(a.s, str)  # the constant's row
        t = self.cache.value(s, a.rel, o) if from_subject else self.cache.value(o, self.inverse(a.rel), s)
        return 1.0 - t if a.neg else t

    def _explain_conj(self, index: int, c: Conj, free: str, answer: int) -> Grounding:
        C: dict[str, Tensor] = {v: torch.ones(self.n) for v in _vars(c.atoms)}
        for b in c.blocks:
            f = self._solve(list(b.atoms), b.outer, {v: torch.ones(self.n) for v in (*b.variables, b.outer)})  # type: ignore[arg-type]
            C[b.outer] = self.tn.conj(C[b.outer], 1.0 - f)  # type: ignore[index]
        trace: Trace = []
        self._solve(list(c.atoms), free, C, trace)
        assignment = {free: answer}
        reader: dict[frozenset[str], str] = {}
        self._decode(trace, assignment, reader)
        truths = [self._atom_truth(a, assignment, reader) for a in c.atoms]
        for b in c.blocks:
            f = self._solve(list(b.atoms), b.outer, {v: torch.ones(self.n) for v in (*b.variables, b.outer)})  # type: ignore[arg-type]
            truths.append(1.0 - float(f[assignment[b.outer]]))  # type: ignore[index]
        total = torch.tensor(1.0)
        for t in truths:
            total = self.tn.conj(total, torch.tensor(t))
        return Grounding(index, assignment, tuple(zip(c.literals, truths)), float(total))

