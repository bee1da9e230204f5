"""The structure table: BetaE's 14 and FIT's 10, instantiation and recognition."""

from __future__ import annotations

import pytest

from nesykg.errors import InputError, UnknownNameError
from nesykg.reasoners.logic import (
    ALL_STRUCTURES,
    BETAE_STRUCTURES,
    FIT_STRUCTURES,
    STRUCTURES,
    NotExists,
    get_structure,
    instantiate,
    match_structure,
    parse_formula,
    structure_of,
)


def test_the_table_holds_betae_and_fit_names():
    assert BETAE_STRUCTURES == (
        "1p",
        "2p",
        "3p",
        "2i",
        "3i",
        "pi",
        "ip",
        "2in",
        "3in",
        "inp",
        "pin",
        "pni",
        "2u",
        "up",
    )
    assert set(FIT_STRUCTURES) == {"pni_fit", "2il", "3il", "2m", "2nm", "3mp", "3pm", "im", "3c", "3cm"}
    assert len(ALL_STRUCTURES) == len(STRUCTURES) == 24


def test_fit_definitions():
    # FIT (Yin, Wang, Song 2024): e.g. 3c = r1(s1,e1) & r2(e1,f) & r3(s2,e2) & r4(e2,f) & r5(e1,e2)
    f = instantiate("3c", ["a", "b"], ["r1", "r2", "r3", "r4", "r5"])
    assert f == parse_formula(
        "?y : exists x1, x2 . r1(a, x1) & r2(x1, ?y) & r3(b, x2) & r4(x2, ?y) & r5(x1, x2)"
    )
    assert get_structure("3c").cyclic and get_structure("3cm").cyclic
    assert not any(get_structure(n).cyclic for n in ALL_STRUCTURES if n not in ("3c", "3cm"))
    # the two readings of pni: BetaE negates the whole path, FIT only its last edge
    betae = instantiate("pni", ["a", "b"], ["p", "q", "s"])
    assert isinstance(betae.disjuncts[0].literals[0], NotExists)
    fit = instantiate("pni_fit", ["a", "b"], ["p", "q", "s"])
    assert str(fit) == "?y : exists x1 . p(a, x1) & !q(x1, ?y) & s(b, ?y)"
    negated = {n for n in ALL_STRUCTURES if get_structure(n).has_negation}
    assert negated == {"2in", "3in", "inp", "pin", "pni", "pni_fit", "2nm"}


@pytest.mark.parametrize("name", ALL_STRUCTURES)
def test_instantiate_then_match_gives_back_the_grounding(name):
    st = get_structure(name)
    anchors = [f"e{i}" for i in range(st.num_anchors)]
    relations = [f"rel{j}" for j in range(st.num_relations)]
    f = instantiate(name, anchors, relations)
    m = match_structure(f)
    assert m is not None and m.name == name
    assert m.anchors == tuple(anchors) and m.relations == tuple(relations)
    assert not any(m.inverse)
    # recognised whatever the order of literals and conjunctions and the variable names
    text = str(f).replace("x1", "u").replace("x2", "w").replace("?y", "?ans")
    shuffled = parse_formula(text)
    conj = [type(c)(tuple(reversed(c.literals))) for c in reversed(shuffled.disjuncts)]
    shuffled = type(shuffled)(shuffled.free, shuffled.exists[::-1], tuple(conj))
    assert structure_of(shuffled) == name
    # repeated anchors and relations are still the same structure
    same = instantiate(name, ["a"] * st.num_anchors, ["r"] * st.num_relations)
    assert match_structure(same, names=[name]) is not None


@pytest.mark.parametrize("name", ALL_STRUCTURES)
def test_inverse_atoms_match_only_when_allowed(name):
    st = get_structure(name)
    inverse = [j % 2 == 0 for j in range(st.num_relations)]
    f = instantiate(
        name, [f"e{i}" for i in range(st.num_anchors)], [f"r{j}" for j in range(st.num_relations)], inverse
    )
    m = match_structure(f, names=[name], allow_inverse=True)
    assert m is not None and m.inverse == tuple(inverse)
    assert match_structure(f, names=[name]) is None


def test_ad_hoc_shapes_are_not_named():
    assert structure_of(parse_formula("?y : exists x . r(a, x) & s(x, ?y) & t(?y, x) & u(x, b)")) is None
    assert structure_of(parse_formula("?y : r(?y, a)")) is None  # a backwards 1p is not 1p


def test_bad_names_and_counts():
    with pytest.raises(UnknownNameError, match="did you mean '2in'"):
        get_structure("2inn")
    with pytest.raises(InputError, match="takes 2 anchors and 3 relations"):
        instantiate("pi", ["a"], ["r", "s", "t"])
