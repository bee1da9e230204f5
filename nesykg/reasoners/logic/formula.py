"""EFO-1 formulas as typed, immutable values.

An EFO-1 query has one free variable (the answer), existentially quantified variables,
constants (anchor entities), binary atoms ``relation(subject, object)``, negation and
disjunction. nesykg keeps it in disjunctive normal form::

    ?y : exists x . (r1(a, x) & r3(x, ?y)) | (r2(b, x) & r3(x, ?y))

* `Formula`: the free variable, the existential variables and a tuple of `Conjunction`s
  (the disjuncts).
* `Conjunction`: a tuple of literals; a literal is an `Atom` (``negated=True`` for a
  negated atom: negation is a flag, not a wrapper) or a `NotExists` block.
* `NotExists`: ``!(exists z . a1 & a2)``, the negation of an existentially quantified
  conjunction of positive atoms that shares exactly one variable with its conjunction.
  Plain EFO-1 negates atoms only; this block exists for BetaE's ``pni`` structure, whose
  published answers negate a whole two-hop path (FIT's existential reading of ``pni`` is
  a negated atom, see `nesykg.reasoners.logic.structures`).
* Terms: `Const` (an entity name or IRI) and `Var` (a variable name, free or existential).

Cycles (``r1(x, y) & r2(y, z) & r3(z, x)``) and multi-edges (two atoms over the same pair of
terms) are allowed. Construction validates the formula and raises `InputError` with a
one-line reason: an unbound variable, a free variable that does not occur in a positive
atom of every conjunction, a variable that occurs only under negation (safe negation needs
a positive atom on each of its variables), an existential variable that is never used.

This module imports no heavy library.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from nesykg.errors import InputError

__all__ = ["Atom", "Conjunction", "Const", "Formula", "Literal", "NotExists", "Term", "Var"]


@dataclass(frozen=True, slots=True)
class Const:
    """A constant: an entity's local name or IRI."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"a constant needs a non-empty name, got {self.name!r}")


@dataclass(frozen=True, slots=True)
class Var:
    """A variable, free or existential (which one is decided by the enclosing `Formula`)."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"a variable needs a non-empty name, got {self.name!r}")


Term: TypeAlias = "Const | Var"


@dataclass(frozen=True, slots=True)
class Atom:
    """``relation(subject, object)``, or its negation when `negated` is true."""

    relation: str
    subject: Term
    object: Term
    negated: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.relation, str) or not self.relation:
            raise InputError(f"an atom needs a non-empty relation name, got {self.relation!r}")
        for t in (self.subject, self.object):
            if not isinstance(t, (Const, Var)):
                raise InputError(f"atom {self.relation}: a term must be a Const or a Var, got {t!r}")

    @property
    def terms(self) -> tuple[Term, Term]:
        return (self.subject, self.object)

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the variables among subject and object (in that order, may repeat)."""
        return tuple(t.name for t in self.terms if isinstance(t, Var))

    def negate(self) -> Atom:
        """The same atom with the negation flag flipped."""
        return Atom(self.relation, self.subject, self.object, not self.negated)


@dataclass(frozen=True, slots=True)
class NotExists:
    """``!(exists z1, z2 . a1 & ... & an)``: no grounding of the local variables satisfies the atoms.

    Attributes:
        variables: the block's own existential variables (at least one).
        atoms: positive atoms over the local variables, constants and exactly one variable of
            the enclosing conjunction.
    """

    variables: tuple[str, ...]
    atoms: tuple[Atom, ...]

    def __post_init__(self) -> None:
        if not self.variables:
            raise InputError("a negated block needs an 'exists' variable; write !r(s, o) to negate one atom")
        if len(set(self.variables)) != len(self.variables):
            raise InputError(f"a negated block declares a variable twice: {', '.join(self.variables)}")
        if not self.atoms:
            raise InputError("a negated block needs at least one atom")
        for a in self.atoms:
            if not isinstance(a, Atom) or a.negated:
                raise InputError(f"a negated block holds positive atoms only, got {a!r}")
        used = {v for a in self.atoms for v in a.variables}
        for v in self.variables:
            if v not in used:
                raise InputError(f"variable {v} of a negated block does not occur in its atoms")

    def outer_variables(self) -> tuple[str, ...]:
        """Variables of the block that are not its own, in order of first occurrence."""
        own = set(self.variables)
        seen: dict[str, None] = {}
        for a in self.atoms:
            for v in a.variables:
                if v not in own:
                    seen.setdefault(v)
        return tuple(seen)


Literal: TypeAlias = "Atom | NotExists"


@dataclass(frozen=True, slots=True)
class Conjunction:
    """A conjunction of literals (atoms, negated atoms, negated blocks)."""

    literals: tuple[Literal, ...]

    def __post_init__(self) -> None:
        if not self.literals:
            raise InputError("a conjunction needs at least one literal")
        for lit in self.literals:
            if not isinstance(lit, (Atom, NotExists)):
                raise InputError(f"a literal must be an Atom or a NotExists block, got {lit!r}")

    @property
    def positive(self) -> tuple[Atom, ...]:
        return tuple(lit for lit in self.literals if isinstance(lit, Atom) and not lit.negated)

    @property
    def negative(self) -> tuple[Literal, ...]:
        """Negated atoms and negated blocks."""
        return tuple(lit for lit in self.literals if not (isinstance(lit, Atom) and not lit.negated))

    def variables(self) -> tuple[str, ...]:
        """Variables of this conjunction (not the blocks' own), in order of first occurrence."""
        seen: dict[str, None] = {}
        for lit in self.literals:
            names = lit.variables if isinstance(lit, Atom) else lit.outer_variables()
            for v in names:
                seen.setdefault(v)
        return tuple(seen)

    def atoms(self) -> Iterator[Atom]:
        """Every atom, those inside negated blocks included."""
        for lit in self.literals:
            if isinstance(lit, Atom):
                yield lit
            else:
                yield from lit.atoms


@dataclass(frozen=True, slots=True)
class Formula:
    """An EFO-1 query in disjunctive normal form.

    Attributes:
        free: name of the free (answer) variable, written ``?free`` in the text syntax.
        exists: names of the existentially quantified variables (each used somewhere).
        disjuncts: the conjunctions; an answer satisfies at least one of them.
    """

    free: str
    exists: tuple[str, ...]
    disjuncts: tuple[Conjunction, ...]

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def conjunctive(cls, free: str, exists: tuple[str, ...], literals: tuple[Literal, ...]) -> Formula:
        """A formula with a single conjunction."""
        return cls(free, tuple(exists), (Conjunction(tuple(literals)),))

    @property
    def is_conjunctive(self) -> bool:
        return len(self.disjuncts) == 1

    @property
    def has_negation(self) -> bool:
        return any(c.negative for c in self.disjuncts)

    def atoms(self) -> Iterator[Atom]:
        """Every atom of every conjunction (negated blocks' atoms included)."""
        for c in self.disjuncts:
            yield from c.atoms()

    def constants(self) -> tuple[str, ...]:
        """Constant names in order of first occurrence."""
        seen: dict[str, None] = {}
        for a in self.atoms():
            for t in a.terms:
                if isinstance(t, Const):
                    seen.setdefault(t.name)
        return tuple(seen)

    def relations(self) -> tuple[str, ...]:
        """Relation names in order of first occurrence."""
        seen: dict[str, None] = {}
        for a in self.atoms():
            seen.setdefault(a.relation)
        return tuple(seen)

    def __str__(self) -> str:
        from nesykg.reasoners.logic.syntax import format_formula

        return format_formula(self)


def _validate(f: Formula) -> None:
    if not isinstance(f.free, str) or not f.free:
        raise InputError(f"the free variable needs a non-empty name, got {f.free!r}")
    if not isinstance(f.exists, tuple) or not isinstance(f.disjuncts, tuple):
        raise InputError("Formula.exists and Formula.disjuncts must be tuples")
    if len(set(f.exists)) != len(f.exists):
        raise InputError(f"an existential variable is declared twice: {', '.join(f.exists)}")
    if f.free in f.exists:
        raise InputError(f"{f.free} is both the free variable and an existential one")
    if not f.disjuncts:
        raise InputError("a formula needs at least one conjunction")
    declared = set(f.exists) | {f.free}
    used: set[str] = set()
    many = len(f.disjuncts) > 1
    for k, conj in enumerate(f.disjuncts, 1):
        where = f" in conjunction {k}" if many else ""
        if not isinstance(conj, Conjunction):
            raise InputError(f"a disjunct must be a Conjunction, got {conj!r}")
        positive_vars = {v for a in conj.positive for v in a.variables}
        for lit in conj.literals:
            if isinstance(lit, Atom):
                for v in lit.variables:
                    if v not in declared:
                        raise InputError(f"unbound variable {v} in atom {lit.relation}{where}")
                continue
            for v in lit.variables:
                if v in declared:
                    raise InputError(
                        f"variable {v} of a negated block shadows a variable of the formula{where}"
                    )
            outer = lit.outer_variables()
            for v in outer:
                if v not in declared:
                    raise InputError(f"unbound variable {v} in a negated block{where}")
            if len(outer) != 1:
                raise InputError(
                    f"a negated block must share exactly one variable with its conjunction{where}, "
                    f"it shares {len(outer)}"
                )
        if not conj.positive:
            raise InputError(f"conjunction {k} has only negated literals: negation needs a positive atom")
        if f.free not in positive_vars:
            if f.free not in conj.variables():
                raise InputError(f"the free variable ?{f.free} does not occur{where}")
            raise InputError(f"the free variable ?{f.free} occurs only under negation{where}")
        for v in conj.variables():
            if v not in positive_vars:
                raise InputError(
                    f"variable {v} occurs only in negated literals{where}: "
                    "negation needs a positive atom on it"
                )
        used.update(conj.variables())
    for v in f.exists:
        if v not in used:
            raise InputError(f"existential variable {v} does not occur in any atom")
