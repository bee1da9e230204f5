"""The text syntax: parse/print round trip (property-based), examples, errors with columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nesykg.datasets import load_dataset
from nesykg.errors import ParseError
from nesykg.reasoners.logic import (
    Atom,
    Conjunction,
    Const,
    Formula,
    NotExists,
    Var,
    format_formula,
    format_name,
    parse_formula,
)

# ------------------------------------------------------------------ generated formulas
VAR_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,3}", fullmatch=True)
# any text at all: local names, IRIs, white space, quotes, backslashes, brackets, other scripts
NAMES = st.one_of(
    st.text(min_size=1, max_size=8),
    st.from_regex(r"[a-z][a-z0-9_.:-]{0,6}[a-z0-9]", fullmatch=True),
    st.builds(lambda s: f"http://ex.org/{s}", st.from_regex(r"[a-z0-9/#]{1,6}", fullmatch=True)),
    st.sampled_from(["exists", "x", "y", "europe", "saint_barthélemy", "person100", "a.b", "urn:x:y", "-r"]),
)


@st.composite
def formulas(draw) -> Formula:
    free = draw(VAR_NAMES)
    exists = draw(st.lists(VAR_NAMES.filter(lambda v: v != free), unique=True, max_size=3))
    used: set[str] = set()
    conjunctions = []
    for _ in range(draw(st.integers(1, 3))):
        here = [free, *draw(st.lists(st.sampled_from(exists), unique=True))] if exists else [free]
        terms = st.one_of(st.sampled_from([Var(v) for v in here]), NAMES.map(Const))
        lits: list = []
        for v in here:  # every variable gets a positive atom (safe negation)
            other = draw(terms)
            pair = (Var(v), other) if draw(st.booleans()) else (other, Var(v))
            lits.append(Atom(draw(NAMES), *pair))
        for _ in range(draw(st.integers(0, 3))):
            lits.append(Atom(draw(NAMES), draw(terms), draw(terms), draw(st.booleans())))
        if draw(st.booleans()):
            local = draw(VAR_NAMES.filter(lambda v: v != free and v not in exists))
            z, outer = Var(local), Var(draw(st.sampled_from(here)))
            atoms = [Atom(draw(NAMES), outer, z)]
            if draw(st.booleans()):
                atoms.append(Atom(draw(NAMES), z, Const(draw(NAMES))))
            lits.append(NotExists((local,), tuple(atoms)))
        lits = draw(st.permutations(lits))
        conjunctions.append(Conjunction(tuple(lits)))
        used.update(here)
    return Formula(free, tuple(v for v in exists if v in used), tuple(conjunctions))


@settings(max_examples=150, deadline=None)
@given(formulas())
def test_parse_of_print_is_identity(f):
    text = format_formula(f)
    assert parse_formula(text) == f
    assert format_formula(parse_formula(text)) == text


@settings(max_examples=100, deadline=None)
@given(NAMES)
def test_any_name_is_written_so_that_it_reads_back(name):
    f = Formula("y", (), (Conjunction((Atom(name, Const(name), Var("y")),)),))
    assert parse_formula(format_formula(f)).disjuncts[0].literals[0] == Atom(name, Const(name), Var("y"))


# ------------------------------------------------------------------ examples
def test_issue_example():
    text = "?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)"
    f = parse_formula(text)
    assert f.free == "y" and f.exists == ("x",)
    assert f.disjuncts[0].literals == (
        Atom("locatedin", Var("x"), Const("europe")),
        Atom("neighbor", Var("x"), Var("y")),
        Atom("locatedin", Var("y"), Const("europe"), negated=True),
    )
    assert format_formula(f) == text


def test_disjunction_parentheses_and_spacing_are_free():
    a = parse_formula("?y:exists x.(r1(a,x)&r3(x,?y))|(r2(b,x) & r3(x,?y))")
    b = parse_formula("?y : exists x . r1(a, x) & r3(x, ?y) | r2(b, x) & r3(x, ?y)")
    assert a == b and len(a.disjuncts) == 2
    assert format_formula(a) == "?y : exists x . (r1(a, x) & r3(x, ?y)) | (r2(b, x) & r3(x, ?y))"


def test_iri_and_quoted_names():
    f = parse_formula('?y : <http://ex.org/p>(<http://ex.org/a>, ?y) & r("New York", ?y) & r("x", ?y)')
    lits = f.disjuncts[0].literals
    assert lits[0] == Atom("http://ex.org/p", Const("http://ex.org/a"), Var("y"))
    assert lits[1].subject == Const("New York")
    assert lits[2].subject == Const("x")  # no variable x is declared: a constant


def test_a_constant_named_like_a_variable_is_quoted():
    f = Formula("y", ("x",), (Conjunction((Atom("r", Const("x"), Var("x")), Atom("s", Var("x"), Var("y")))),))
    text = format_formula(f)
    assert text == '?y : exists x . r("x", x) & s(x, ?y)'
    assert parse_formula(text) == f


def test_negated_block_syntax():
    f = parse_formula("?y : !(exists x . r1(a, x) & r2(x, ?y)) & r3(b, ?y)")
    block = f.disjuncts[0].literals[0]
    assert isinstance(block, NotExists) and block.variables == ("x",) and not f.exists
    assert parse_formula(format_formula(f)) == f


@pytest.mark.parametrize("name", ["countries_s1", "umls", "kinship", "nations"])
def test_dataset_names_print_bare(name):
    ds = load_dataset(name)
    for n in (*ds.entities, *ds.relations):
        assert format_name(n) == n, n


# ------------------------------------------------------------------ errors and columns
@pytest.mark.parametrize(
    ("text", "at", "reason"),
    [
        ("?y : r(a, ?z)", "?z", "second free variable ?z"),
        ("?y, ?z : r(a, ?y)", "?z", "second free variable ?z"),
        ("?y : exists x . r(a, x) & s(x ?y)", "?y)", "expected ','"),
        ("?y : r(<http://a, ?y)", "<", "unterminated IRI"),
        ('?y : r("abc, ?y)', '"', "unterminated quoted name"),
        ("?y : r(a, ?y) # comment", "#", "unexpected character '#'"),
        ("?y : r(a, ?y) &", None, "found the end of the formula"),
        ("y : r(a, ?y)", "y", "starts with its free variable"),
        ("?y r(a, ?y)", "r(", "expected ':'"),
        ("?y : r(a, ?y, b)", ", b", "atoms are binary"),
        ("?y : exists 1x . r(a, ?y)", "1x", "expected a variable name"),
        ("?y : !(r(a, ?y))", "r(a", "a negated block reads"),
        ("?y : r(a, ?y) r(b, ?y)", "r(b", "expected '&', '|' or the end"),
        ("?y : r(a, ?y) | s(a, b)", "s(a", "does not occur in conjunction 2"),
        ("?y : !r(a, ?y)", "!r", "only negated literals"),
    ],
)
def test_errors_give_the_column(text, at, reason):
    with pytest.raises(ParseError) as err:
        parse_formula(text)
    e = err.value
    assert e.source == "<formula>" and e.line == 1
    assert reason in e.reason
    expected = len(text) + 1 if at is None else text.index(at) + 1
    assert e.column == expected, (e.column, expected, str(e))
    assert str(e).startswith(f"<formula>:1:{expected}: ")
