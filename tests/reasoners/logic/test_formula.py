"""Formula values: validation of the AST built directly (not through the parser)."""

from __future__ import annotations

import re

import pytest

from nesykg.errors import InputError
from nesykg.reasoners.logic import Atom, Conjunction, Const, Formula, NotExists, Var

Y, X, Z = Var("y"), Var("x"), Var("z")
A, B = Const("a"), Const("b")


def conj(*lits):
    return Conjunction(tuple(lits))


def formula(free, exists, *conjs):
    return Formula(free, tuple(exists), tuple(conjs))


def test_valid_formula_exposes_its_parts():
    f = Formula("y", ("x",), (conj(Atom("r", A, X), Atom("s", X, Y), Atom("t", Y, B, negated=True)),))
    assert f.is_conjunctive and f.has_negation
    assert f.constants() == ("a", "b") and f.relations() == ("r", "s", "t")
    assert f.disjuncts[0].positive == (Atom("r", A, X), Atom("s", X, Y))
    assert str(f) == "?y : exists x . r(a, x) & s(x, ?y) & !t(?y, b)"


def test_cycles_and_multi_edges_are_allowed():
    f = Formula("y", ("x", "z"), (conj(Atom("r", X, Z), Atom("s", Z, Y), Atom("t", Y, X), Atom("u", Y, X)),))
    assert len(list(f.atoms())) == 4


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Formula("y", (), (conj(Atom("r", A, Z)),)), "unbound variable z"),
        (lambda: Formula("y", ("x",), (conj(Atom("r", A, X)),)), "free variable ?y does not occur"),
        (lambda: Formula("y", (), (conj(Atom("r", A, Y, negated=True)),)), "only negated literals"),
        (
            lambda: Formula("y", ("x",), (conj(Atom("r", A, Y), Atom("s", X, Y, negated=True)),)),
            "variable x occurs only in negated literals",
        ),
        (lambda: Formula("y", ("x",), (conj(Atom("r", A, Y)),)), "existential variable x does not occur"),
        (lambda: Formula("y", ("y",), (conj(Atom("r", A, Y)),)), "both the free variable and an existential"),
        (lambda: Formula("y", (), ()), "at least one conjunction"),
        (
            lambda: Formula("y", (), (conj(Atom("r", A, Y)), conj(Atom("r", A, B)))),
            "free variable ?y does not occur in conjunction 2",
        ),
        (
            lambda: formula(
                "y", ["x"], conj(Atom("r", A, Y), NotExists(("z",), (Atom("s", X, Z), Atom("t", Z, Y))))
            ),
            "share exactly one variable",
        ),
        (
            lambda: formula(
                "y", ["x"], conj(Atom("r", A, Y), Atom("r", A, X), NotExists(("x",), (Atom("s", X, Y),)))
            ),
            "shadows",
        ),
        (lambda: NotExists((), (Atom("s", A, Y),)), "needs an 'exists' variable"),
        (lambda: NotExists(("z",), (Atom("s", A, Z, negated=True),)), "positive atoms only"),
        (lambda: Atom("", A, Y), "non-empty relation"),
        (lambda: Const(""), "non-empty name"),
    ],
)
def test_invalid_formulas_are_refused_with_a_reason(build, message):
    with pytest.raises(InputError, match=re.escape(message)):
        build()


def test_negated_block_shares_one_variable():
    block = NotExists(("x",), (Atom("r", A, X), Atom("s", X, Y)))
    f = Formula("y", (), (conj(block, Atom("t", B, Y)),))
    assert block.outer_variables() == ("y",)
    assert f.has_negation and not f.exists


def test_negate_flips_the_flag():
    a = Atom("r", A, Y)
    assert a.negate().negated and a.negate().negate() == a
