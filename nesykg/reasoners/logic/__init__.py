"""Complex query answering: EFO-1 formulas, their text syntax, the BetaE/FIT structures, exact answers.

>>> from nesykg.reasoners.logic import parse_formula
>>> f = parse_formula("?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)")
>>> str(f)
'?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)'

Formulas, syntax and structures are plain Python. The exact reasoner and `GraphIndex` need
numpy and load on first use; nothing here imports torch (a ``LongTensor[M, 3]`` is accepted
as triples all the same).
"""

from __future__ import annotations

import importlib
from typing import Any

from nesykg.reasoners.logic.formula import Atom, Conjunction, Const, Formula, Literal, NotExists, Term, Var
from nesykg.reasoners.logic.structures import (
    ALL_STRUCTURES,
    BETAE_STRUCTURES,
    FIT_STRUCTURES,
    STRUCTURES,
    Structure,
    StructureMatch,
    get_structure,
    instantiate,
    match_structure,
    structure_of,
    template,
)
from nesykg.reasoners.logic.syntax import format_formula, format_name, parse_formula

_LAZY = {
    "GraphIndex": "nesykg.reasoners.logic.graph_index",
    "exact_answers": "nesykg.reasoners.logic.exact",
    "exact_answer_names": "nesykg.reasoners.logic.exact",
}

__all__ = [
    "ALL_STRUCTURES",
    "BETAE_STRUCTURES",
    "FIT_STRUCTURES",
    "STRUCTURES",
    "Atom",
    "Conjunction",
    "Const",
    "Formula",
    "GraphIndex",
    "Literal",
    "NotExists",
    "Structure",
    "StructureMatch",
    "Term",
    "Var",
    "exact_answer_names",
    "exact_answers",
    "format_formula",
    "format_name",
    "get_structure",
    "instantiate",
    "match_structure",
    "parse_formula",
    "structure_of",
    "template",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
