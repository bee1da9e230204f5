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
    "ApplyResult",
    "Conclusion",
    "Explanation",
    "MinerConfig",
    "MiningResult",
    "RuleLinkPredictor",
    "apply_rules",
    "infer",
    "load_expert_rules",
    "mine_rules",
    "save_expert_rules",
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

_LAZY = {
    "MinerConfig": "miner",
    "MiningResult": "miner",
    "mine_rules": "miner",
    "RuleLinkPredictor": "predictor",
    "Explanation": "predictor",
    "ApplyResult": "chaining",
    "Conclusion": "chaining",
    "apply_rules": "chaining",
    "infer": "chaining",
    "load_expert_rules": "chaining",
    "save_expert_rules": "chaining",
}


def __getattr__(name: str) -> object:
    """Miner, predictor and chaining load numpy, scipy and torch: import them on first use."""
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
