"""Rule syntax: typed values, AnyBURL text round trip, rules files, errors with line and column."""

from __future__ import annotations

import pytest

from nesykg.errors import InputError, ParseError, UnknownNameError
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.rules.syntax import (
    Atom,
    Const,
    Rule,
    RuleStats,
    Var,
    compile_rules,
    format_rule,
    parse_rule,
    parse_rules,
    path_rule,
    read_rules,
    write_rules,
)

ROUND_TRIP = [
    "locatedin(X,Z) <= neighbor(X,Y), locatedin(Y,Z)",
    "grandparent(X,Y) <= parent(X,A), parent(A,Y)",
    "r(X,Y) <= s(Y,X)",
    "r(X,Y) <= a(X,A), b(B,A), c(B,Y)",
    "locatedin(X,europe) <= locatedin(X,western_europe)",
    "gender(X,female) <= daughter_of(X,A)",
    "r(c,X) <= s(A,X)",
    "r(X,c) <= s(d,X)",
    'r(X,"new york") <= s(X,"a(b),c")',
    'r(X,"Q") <= s(X,"say \\"hi\\"")',
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_parse_print_round_trip(text):
    rule = parse_rule(text)
    assert format_rule(rule) == text
    assert parse_rule(format_rule(rule)) == rule


def test_typed_representation():
    rule = parse_rule("locatedin(X,Z) <= neighbor(X,Y), locatedin(Y,Z)")
    assert rule.head == Atom("locatedin", Var("X"), Var("Z"))
    assert rule.body == (Atom("neighbor", Var("X"), Var("Y")), Atom("locatedin", Var("Y"), Var("Z")))
    assert rule.kind == "path" and rule.length == 2
    c = parse_rule("locatedin(X,europe) <= locatedin(X,western_europe)")
    assert c.kind == "constant" and c.head.object == Const("europe")
    with pytest.raises(Exception):
        rule.confidence = 0.5  # frozen
    # whitespace is free, quoted single capitals are constants
    assert parse_rule("  r( X , Y )<=s(X,Y)  ") == parse_rule("r(X,Y) <= s(X,Y)")
    assert parse_rule('r(X,"Q") <= s(X,"Q")').head.object == Const("Q")


def test_path_rule_builder_names_variables_anyburl_style():
    r = path_rule("h", [("a", False), ("b", True), ("c", False)])
    assert format_rule(r) == "h(X,Y) <= a(X,A), b(B,A), c(B,Y)"


@pytest.mark.parametrize(
    "text, column, reason",
    [
        ("r(X,Y) <= s(X,Y", 16, "expected ')'"),
        ("r(X,Y) < s(X,Y)", 8, "expected '<='"),
        ("r(X,Y) <= ", 11, "expected a relation name"),
        ("r(X Y) <= s(X,Y)", 5, "expected ','"),
        ("r(X,Y) <= s(X,Y) t", 18, "unexpected 't'"),
        ('r(X,Y) <= s(X,"Y)', 15, "unterminated quoted name"),
        ("r(X,Y) <= s(X,A), t(B,Y)", 11, "not a path"),
        ("r(X,X) <= s(X,A)", 1, "repeats variable"),
        ("r(X,Y) <= a(X,A), b(A,B), c(B,C), d(C,Y)", 11, "at most 3"),
        ("r(X,c) <= s(X,A), t(A,d)", 11, "exactly one body atom"),
        ("r(X,c) <= s(A,B)", 11, "must hold the head variable"),
    ],
)
def test_malformed_rule_has_line_and_column(text, column, reason):
    with pytest.raises(ParseError) as info:
        parse_rules("# header\n\n" + text, "rules.txt")
    e = info.value
    assert e.source == "rules.txt" and e.line == 3 and e.column == column, str(e)
    assert reason in e.reason
    assert str(e).startswith(f"rules.txt:3:{column}: ")


def test_file_columns_and_errors(tmp_path):
    text = (
        "# comment\n"
        "r(X,Y) <= s(X,Y)\n"
        "0.25\tr(X,Y) <= s(Y,X)\n"
        "10\t4\t0.4\tr(X,Y) <= t(X,Y)\n"
        "4\t10\t0.4\t0.5\t0.2\tr(X,Y) <= u(X,Y)\n"
    )
    rules = parse_rules(text)
    assert parse_rules("4\t10\t0.4\tr(X,Y) <= t(X,Y)\n")[0].stats == RuleStats(4, 10, 0.4)  # either order
    assert [r.confidence for r in rules] == [1.0, 0.25, 0.4, 0.4]
    assert rules[0].stats is None and rules[1].stats is None
    assert rules[2].stats == RuleStats(4, 10, 0.4)
    assert rules[3].stats == RuleStats(4, 10, 0.4, 0.5, 0.2)
    p = write_rules(rules, tmp_path / "rules.txt")
    again = read_rules(p)
    assert again == rules
    assert [r.stats for r in again[3:]] == [r.stats for r in rules[3:]]
    with pytest.raises(ParseError) as info:
        parse_rules("r(X,Y) <= s(X,Y)\n1.5\tr(X,Y) <= s(X,Y)\n", "f")
    assert (info.value.line, info.value.column) == (2, 1) and "[0, 1]" in info.value.reason
    with pytest.raises(ParseError) as info:
        parse_rules("0.5\tr(X,Y) <= s(X,Y\n", "f")
    assert (info.value.line, info.value.column) == (1, 4 + 16)  # column counts from the line start
    with pytest.raises(ParseError) as info:
        parse_rules("a\tb\tc\n", "f")
    assert "columns" in info.value.reason
    with pytest.raises(InputError):
        read_rules(tmp_path / "missing.txt")


def test_unknown_relation_or_entity_is_refused_with_its_name():
    vocab = Vocabulary.from_names(["a", "b"], ["parent", "grandparent"])
    compile_rules([parse_rule("grandparent(X,Y) <= parent(X,A), parent(A,Y)")], vocab)
    with pytest.raises(UnknownNameError) as info:
        compile_rules([parse_rule("grandparent(X,Y) <= parnet(X,A), parent(A,Y)")], vocab)
    assert info.value.name == "parnet" and "parnet" in str(info.value) and "parent" in str(info.value)
    with pytest.raises(UnknownNameError) as info:
        compile_rules([parse_rule("parent(X,zed) <= parent(X,a)")], vocab)
    assert info.value.name == "zed"


def test_compiled_orientations():
    vocab = Vocabulary.from_names(["a", "c", "d"], ["h", "s"])
    R = 2
    path, path_inv = compile_rules([parse_rule("h(X,Y) <= s(X,A), h(Y,A)")], vocab)
    assert (path.head, path.chain) == (0, (1, 0 + R))
    assert (path_inv.head, path_inv.chain) == (0 + R, (0, 1 + R))
    tail, head = compile_rules([parse_rule("h(c,X) <= s(X,d)")], vocab)
    # h(c,X) is inv:h(X,c): tail queries of inv:h get c; tail queries of h from c get X
    assert (tail.head, tail.kind, tail.constant, tail.body_constant) == (R + 0, "const_tail", 1, 2)
    assert (head.head, head.kind) == (0, "const_head")


def test_rule_constructor_refuses_unsupported_shapes():
    with pytest.raises(InputError):
        Rule(Atom("r", Const("a"), Const("b")), (Atom("s", Var("X"), Var("Y")),))
    with pytest.raises(InputError):
        Rule(Atom("r", Var("X"), Var("Y")), ())
