"""The named query structures: BetaE's 14 types and FIT's 10 new ones, as formula templates.

One table, `STRUCTURES`, maps each name to a template in the text syntax. Templates use
placeholder anchors ``s1, s2, ...`` (constants) and placeholder relations ``r1, r2, ...``,
the free variable ``?y`` and existential variables ``x1, x2``. Placeholders are numbered in
the order in which BetaE's nested tuples list them (depth first), so that
``instantiate("pi", anchors, relations)`` and BetaE's ``(e, (r, r)), (e, (r,))`` agree.

BetaE (Ren & Leskovec 2020): ``1p 2p 3p 2i 3i pi ip 2in 3in inp pin pni 2u up``. Unions are in
DNF. BetaE's ``pni`` negates a whole two-hop path, ``r3(s2, y) & !(exists x . r1(s1, x) &
r2(x, y))``, which is what its published answers hold; it needs a `NotExists` block.

FIT (Yin, Wang & Song, ICLR 2024, the "real EFO-1" set): ``pni_fit 2il 3il 2m 2nm 3mp 3pm im 3c
3cm``. ``pni_fit`` is FIT's existential reading of pni, ``exists x . r1(s1, x) & !r2(x, y) &
r3(s2, y)``; ``2il``/``3il`` add an unanchored existential leaf; ``m`` types hold a multi-edge;
``3c``/``3cm`` are cyclic.

`match_structure` recognises a formula as an instance of a template, up to renaming of
variables and reordering of literals and conjunctions, and returns the anchors and
relations in placeholder order (``instantiate`` inverted), for per-type tables and for
writing BetaE files.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from nesykg.errors import InputError, UnknownNameError
from nesykg.reasoners.logic.formula import Atom, Conjunction, Const, Formula, Literal, NotExists, Term, Var

__all__ = [
    "ALL_STRUCTURES",
    "BETAE_STRUCTURES",
    "FIT_STRUCTURES",
    "STRUCTURES",
    "Structure",
    "StructureMatch",
    "get_structure",
    "instantiate",
    "match_structure",
    "structure_of",
    "template",
]


@dataclass(frozen=True)
class Structure:
    """A named query structure.

    Attributes:
        name: ``"2in"``, ``"3c"``, ...
        text: the template in the text syntax (placeholders ``s1..``, ``r1..``).
        family: ``"betae"`` or ``"fit"``.
        num_anchors: how many ``s`` placeholders.
        num_relations: how many ``r`` placeholders.
        description: one line.
    """

    name: str
    text: str
    family: str
    num_anchors: int
    num_relations: int
    description: str

    @property
    def template(self) -> Formula:
        return template(self.name)

    @property
    def cyclic(self) -> bool:
        """Whether the query graph of some conjunction (variables as nodes) has a cycle."""
        return _has_cycle(self.template)

    @property
    def has_negation(self) -> bool:
        return self.template.has_negation


def _s(name: str, text: str, family: str, na: int, nr: int, desc: str) -> tuple[str, Structure]:
    return name, Structure(name, text, family, na, nr, desc)


_TABLE = dict(
    [
        # ------------------------------------------------------------------ BetaE
        _s("1p", "?y : r1(s1, ?y)", "betae", 1, 1, "one projection"),
        _s("2p", "?y : exists x1 . r1(s1, x1) & r2(x1, ?y)", "betae", 1, 2, "two-hop path"),
        _s(
            "3p", "?y : exists x1, x2 . r1(s1, x1) & r2(x1, x2) & r3(x2, ?y)", "betae", 1, 3, "three-hop path"
        ),
        _s("2i", "?y : r1(s1, ?y) & r2(s2, ?y)", "betae", 2, 2, "intersection of two projections"),
        _s("3i", "?y : r1(s1, ?y) & r2(s2, ?y) & r3(s3, ?y)", "betae", 3, 3, "intersection of three"),
        _s(
            "pi",
            "?y : exists x1 . r1(s1, x1) & r2(x1, ?y) & r3(s2, ?y)",
            "betae",
            2,
            3,
            "path, then intersection",
        ),
        _s(
            "ip",
            "?y : exists x1 . r1(s1, x1) & r2(s2, x1) & r3(x1, ?y)",
            "betae",
            2,
            3,
            "intersection, then path",
        ),
        _s("2in", "?y : r1(s1, ?y) & !r2(s2, ?y)", "betae", 2, 2, "2i with the second branch negated"),
        _s("3in", "?y : r1(s1, ?y) & r2(s2, ?y) & !r3(s3, ?y)", "betae", 3, 3, "3i with the third negated"),
        _s("inp", "?y : exists x1 . r1(s1, x1) & !r2(s2, x1) & r3(x1, ?y)", "betae", 2, 3, "2in, then path"),
        _s(
            "pin",
            "?y : exists x1 . r1(s1, x1) & r2(x1, ?y) & !r3(s2, ?y)",
            "betae",
            2,
            3,
            "pi, branch negated",
        ),
        _s(
            "pni",
            "?y : !(exists x1 . r1(s1, x1) & r2(x1, ?y)) & r3(s2, ?y)",
            "betae",
            2,
            3,
            "pi with the path negated (BetaE's reading: no x at all)",
        ),
        _s("2u", "?y : (r1(s1, ?y)) | (r2(s2, ?y))", "betae", 2, 2, "union of two projections (DNF)"),
        _s(
            "up",
            "?y : exists x1 . (r1(s1, x1) & r3(x1, ?y)) | (r2(s2, x1) & r3(x1, ?y))",
            "betae",
            2,
            3,
            "union, then path (DNF)",
        ),
        # ------------------------------------------------------------------ FIT
        _s(
            "pni_fit",
            "?y : exists x1 . r1(s1, x1) & !r2(x1, ?y) & r3(s2, ?y)",
            "fit",
            2,
            3,
            "FIT's existential pni: the last edge of the path negated",
        ),
        _s("2il", "?y : exists x1 . r1(s1, ?y) & r2(x1, ?y)", "fit", 1, 2, "2i with an unanchored leaf"),
        _s(
            "3il",
            "?y : exists x1 . r1(s1, ?y) & r2(s2, ?y) & r3(x1, ?y)",
            "fit",
            2,
            3,
            "3i, one leaf unanchored",
        ),
        _s(
            "2m", "?y : exists x1 . r1(s1, x1) & r2(x1, ?y) & r3(x1, ?y)", "fit", 1, 3, "2p with a multi-edge"
        ),
        _s(
            "2nm",
            "?y : exists x1 . r1(s1, x1) & r2(x1, ?y) & !r3(x1, ?y)",
            "fit",
            1,
            3,
            "2m with one of the two edges negated",
        ),
        _s(
            "3mp",
            "?y : exists x1, x2 . r1(s1, x1) & r2(x1, x2) & r3(x2, ?y) & r4(x1, x2)",
            "fit",
            1,
            4,
            "3p with a multi-edge in the middle",
        ),
        _s(
            "3pm",
            "?y : exists x1, x2 . r1(s1, x1) & r2(x1, x2) & r3(x2, ?y) & r4(x2, ?y)",
            "fit",
            1,
            4,
            "3p with a multi-edge at the end",
        ),
        _s(
            "im",
            "?y : exists x1 . r1(s1, x1) & r2(s2, x1) & r3(x1, ?y) & r4(x1, ?y)",
            "fit",
            2,
            4,
            "ip with a multi-edge at the end",
        ),
        _s(
            "3c",
            "?y : exists x1, x2 . r1(s1, x1) & r2(x1, ?y) & r3(s2, x2) & r4(x2, ?y) & r5(x1, x2)",
            "fit",
            2,
            5,
            "a cycle through y and two existential variables",
        ),
        _s(
            "3cm",
            "?y : exists x1, x2 . r1(s1, x1) & r2(x1, ?y) & r3(s2, x2) & r4(x2, ?y) & r5(x1, x2)"
            " & r6(x1, ?y)",
            "fit",
            2,
            6,
            "3c with a multi-edge",
        ),
    ]
)

STRUCTURES: Mapping[str, Structure] = MappingProxyType(_TABLE)
"""Every named structure, BetaE's first, in the order the papers list them."""
BETAE_STRUCTURES: tuple[str, ...] = tuple(n for n, s in _TABLE.items() if s.family == "betae")
FIT_STRUCTURES: tuple[str, ...] = tuple(n for n, s in _TABLE.items() if s.family == "fit")
ALL_STRUCTURES: tuple[str, ...] = tuple(_TABLE)


def get_structure(name: str) -> Structure:
    """The `Structure` called `name`; `UnknownNameError` (with the closest names) otherwise."""
    try:
        return _TABLE[name]
    except (KeyError, TypeError):
        raise UnknownNameError("query structure", str(name), _TABLE) from None


@functools.cache
def template(name: str) -> Formula:
    """The template formula of structure `name` (placeholders ``s1..``, ``r1..``)."""
    from nesykg.reasoners.logic.syntax import parse_formula

    return parse_formula(get_structure(name).text)


# ------------------------------------------------------------------ substitution
def _map_formula(
    f: Formula, const: Mapping[str, str], rel: Mapping[str, str], flip: frozenset[str]
) -> Formula:
    def term(t: Term) -> Term:
        return Const(const[t.name]) if isinstance(t, Const) else t

    def atom(a: Atom) -> Atom:
        s, o = term(a.subject), term(a.object)
        if a.relation in flip:
            s, o = o, s
        return Atom(rel[a.relation], s, o, a.negated)

    def lit(x: Literal) -> Literal:
        if isinstance(x, Atom):
            return atom(x)
        return NotExists(x.variables, tuple(atom(a) for a in x.atoms))

    return Formula(
        f.free, f.exists, tuple(Conjunction(tuple(lit(x) for x in c.literals)) for c in f.disjuncts)
    )


def instantiate(
    name: str,
    anchors: Sequence[str],
    relations: Sequence[str],
    inverse: Sequence[bool] | None = None,
) -> Formula:
    """Ground structure `name` with entity names for ``s1..`` and relation names for ``r1..``.

    Args:
        name: a structure name (see `STRUCTURES`).
        anchors: one entity name per anchor placeholder, in order.
        relations: one relation name per relation placeholder, in order.
        inverse: per relation, whether it is used backwards: placeholder ``r(a, b)`` becomes
            ``rel(b, a)`` (for reciprocal relations such as BetaE's ``-r``).
    """
    st = get_structure(name)
    anchors, relations = list(anchors), list(relations)
    if len(anchors) != st.num_anchors or len(relations) != st.num_relations:
        raise InputError(
            f"structure {name} takes {st.num_anchors} anchors and {st.num_relations} relations, "
            f"got {len(anchors)} and {len(relations)}"
        )
    if inverse is not None and len(inverse) != len(relations):
        raise InputError(f"structure {name}: {len(relations)} relations but {len(inverse)} inverse flags")
    const = {f"s{i}": a for i, a in enumerate(anchors, 1)}
    rel = {f"r{j}": r for j, r in enumerate(relations, 1)}
    flip = frozenset(f"r{j}" for j, inv in enumerate(inverse or (), 1) if inv)
    return _map_formula(template(name), const, rel, flip)


# ------------------------------------------------------------------ recognition
@dataclass(frozen=True)
class StructureMatch:
    """A formula recognised as an instance of a named structure.

    ``instantiate(name, anchors, relations, inverse)`` gives back the formula up to the
    order of literals and conjunctions and the names of variables.
    """

    name: str
    anchors: tuple[str, ...]
    relations: tuple[str, ...]
    inverse: tuple[bool, ...]


class _State:
    __slots__ = ("const", "rel", "rvar", "var")

    def __init__(self) -> None:
        self.var: dict[str, str] = {}
        self.rvar: dict[str, str] = {}
        self.const: dict[str, str] = {}
        self.rel: dict[str, tuple[str, bool]] = {}

    def copy(self) -> _State:
        s = _State()
        s.var, s.rvar, s.const, s.rel = dict(self.var), dict(self.rvar), dict(self.const), dict(self.rel)
        return s


def _bind_term(st: _State, t: Term, u: Term) -> bool:
    if isinstance(t, Const):
        if not isinstance(u, Const):
            return False
        got = st.const.setdefault(t.name, u.name)
        return got == u.name
    if not isinstance(u, Var):
        return False
    a, b = st.var.get(t.name), st.rvar.get(u.name)
    if a is None and b is None:
        st.var[t.name], st.rvar[u.name] = u.name, t.name
        return True
    return a == u.name and b == t.name


def _bind_atom(st: _State, t: Atom, u: Atom, allow_inverse: bool) -> Iterator[_State]:
    """Every way of binding template atom `t` to atom `u` on top of `st`."""
    if t.negated != u.negated:
        return
    for inv in (False, True) if allow_inverse else (False,):
        s = st.copy()
        us, uo = (u.object, u.subject) if inv else (u.subject, u.object)
        got = s.rel.setdefault(t.relation, (u.relation, inv))
        if got == (u.relation, inv) and _bind_term(s, t.subject, us) and _bind_term(s, t.object, uo):
            yield s


def _match_atoms(st: _State, ts: Sequence[Atom], us: list[Atom], allow_inverse: bool) -> _State | None:
    if not ts:
        return st
    for k, u in enumerate(us):
        for s in _bind_atom(st, ts[0], u, allow_inverse):
            done = _match_atoms(s, ts[1:], us[:k] + us[k + 1 :], allow_inverse)
            if done is not None:
                return done
    return None


def _match_literals(
    st: _State, ts: Sequence[Literal], us: list[Literal], allow_inverse: bool
) -> _State | None:
    if not ts:
        return st
    t = ts[0]
    for k, u in enumerate(us):
        rest = us[:k] + us[k + 1 :]
        states: Iterable[_State]
        if isinstance(t, Atom) and isinstance(u, Atom):
            states = _bind_atom(st, t, u, allow_inverse)
        elif (
            isinstance(t, NotExists)
            and isinstance(u, NotExists)
            and (len(t.atoms), len(t.variables)) == (len(u.atoms), len(u.variables))
        ):
            # a block's atoms are matched as a whole (first binding); blocks are tiny
            s0 = _match_atoms(st, t.atoms, list(u.atoms), allow_inverse)
            states = () if s0 is None else (s0,)
        else:
            continue
        for s in states:
            done = _match_literals(s, ts[1:], rest, allow_inverse)
            if done is not None:
                return done
    return None


def _match_disjuncts(
    st: _State, ts: Sequence[Conjunction], us: list[Conjunction], allow_inverse: bool
) -> _State | None:
    if not ts:
        return st
    for k, u in enumerate(us):
        if len(u.literals) != len(ts[0].literals):
            continue
        s = _match_literals(st, ts[0].literals, list(u.literals), allow_inverse)
        if s is not None:
            done = _match_disjuncts(s, ts[1:], us[:k] + us[k + 1 :], allow_inverse)
            if done is not None:
                return done
    return None


def _shape(f: Formula) -> tuple[object, ...]:
    per = sorted(
        (
            sum(1 for x in c.literals if isinstance(x, Atom) and not x.negated),
            sum(1 for x in c.literals if isinstance(x, Atom) and x.negated),
            tuple(sorted((len(x.variables), len(x.atoms)) for x in c.literals if isinstance(x, NotExists))),
        )
        for c in f.disjuncts
    )
    return (len(f.exists), tuple(per))


@functools.cache
def _template_shapes() -> dict[tuple[object, ...], tuple[str, ...]]:
    out: dict[tuple[object, ...], list[str]] = {}
    for name in _TABLE:
        out.setdefault(_shape(template(name)), []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def _match_one(name: str, f: Formula, allow_inverse: bool) -> StructureMatch | None:
    t = template(name)
    st0 = _State()
    st0.var[t.free], st0.rvar[f.free] = f.free, t.free
    st = _match_disjuncts(st0, t.disjuncts, list(f.disjuncts), allow_inverse)
    if st is None:
        return None
    info = _TABLE[name]
    anchors = tuple(st.const[f"s{i}"] for i in range(1, info.num_anchors + 1))
    rels = [st.rel[f"r{j}"] for j in range(1, info.num_relations + 1)]
    return StructureMatch(name, anchors, tuple(r for r, _ in rels), tuple(inv for _, inv in rels))


def match_structure(
    formula: Formula, names: Iterable[str] | None = None, allow_inverse: bool = False
) -> StructureMatch | None:
    """Recognise `formula` as an instance of a named structure, or ``None``.

    Anchors and relations need not be distinct (``r1(a, ?y) & r2(a, ?y)`` is a 2i). The first
    match in table order wins.

    Args:
        formula: any formula.
        names: the structures to try (default: all, in table order).
        allow_inverse: also match an atom written backwards, ``rel(b, a)`` for a placeholder
            ``r(a, b)`` (the match then reports ``inverse=True`` for that relation).
    """
    candidates = _template_shapes().get(_shape(formula), ())
    wanted = None if names is None else [get_structure(n).name for n in names]
    for name in candidates if wanted is None else [n for n in wanted if n in candidates]:
        m = _match_one(name, formula, allow_inverse)
        if m is not None:
            return m
    return None


def structure_of(formula: Formula) -> str | None:
    """The name of the structure `formula` instantiates, or ``None`` for an ad-hoc shape."""
    m = match_structure(formula)
    return m.name if m else None


def _find(parent: dict[str, str], v: str) -> str:
    while parent.setdefault(v, v) != v:
        v = parent[v]
    return v


def _has_cycle(f: Formula) -> bool:
    for c in f.disjuncts:
        # union-find over variables; an edge between two already-connected variables closes a cycle
        parent: dict[str, str] = {}
        pairs = {frozenset(a.variables) for a in c.atoms() if len(set(a.variables)) == 2}
        for pair in pairs:  # parallel edges (multi-edges) are one edge here
            va, vb = sorted(pair)
            ra, rb = _find(parent, va), _find(parent, vb)
            if ra == rb:
                return True
            parent[ra] = rb
    return False
