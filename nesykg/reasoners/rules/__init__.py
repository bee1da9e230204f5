"""Symbolic rules: AnyBURL-syntax Horn rules, mining, rule-based link prediction with
explanations, forward chaining into the ``inferred`` graph, and expert rules.

>>> from nesykg.reasoners.rules import parse_rule
>>> str(parse_rule("locatedin(X,Z) <= neighbor(X,Y), locatedin(Y,Z)"))
'locatedin(X,Z) <= neighbor(X,Y), locatedin(Y,Z)'
"""

from __future__ import annotations

from nesykg.reasoners.rules.syntax import (
    Atom,
    CompiledRule,
    Const,
    Rule,
    RuleStats,
    Var,
    compile_rules,
    format_rule,
    parse_rule,
    parse_rules,
    read_rules,
    write_rules,
)

__all__ = [
    "Atom",
    "CompiledRule",
    "Const",
    "Rule",
    "RuleStats",
    "Var",
    "compile_rules",
    "format_rule",
    "parse_rule",
    "parse_rules",
    "read_rules",
    "write_rules",
]
