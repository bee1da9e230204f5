"""Complex query answering: EFO-1 formulas, their syntax, the BetaE/FIT structures, FIT, CQD-beam, exact answers.

>>> from nesykg.reasoners.logic import parse_formula
>>> f = parse_formula("?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)")
>>> str(f)
'?y : exists x . locatedin(x, europe) & neighbor(x, ?y) & !locatedin(?y, europe)'

>>> res = answer(f, predictor, kg, top_k=10, explain=True)   # doctest: +SKIP

Formulas, syntax and structures are plain Python. The exact reasoner and `GraphIndex` need
numpy, the fuzzy reasoners (`FIT`, `CQDBeam`, `answer`) and the metrics torch or numpy; they
load on first use.
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
    "FIT": "nesykg.reasoners.logic.fit",
    "FITConfig": "nesykg.reasoners.logic.fit",
    "CQDBeam": "nesykg.reasoners.logic.cqd",
    "CQDConfig": "nesykg.reasoners.logic.cqd",
    "REASONERS": "nesykg.reasoners.logic.answer",
    "Answers": "nesykg.reasoners.logic.answer",
    "ExactReasoner": "nesykg.reasoners.logic.answer",
    "answer": "nesykg.reasoners.logic.answer",
    "make_reasoner": "nesykg.reasoners.logic.answer",
    "CQAReport": "nesykg.reasoners.logic.cqa_eval",
    "evaluate_queries": "nesykg.reasoners.logic.cqa_eval",
    "filtered_ranks": "nesykg.reasoners.logic.metrics",
    "TNORMS": "nesykg.reasoners.logic.tnorms",
    "get_tnorm": "nesykg.reasoners.logic.tnorms",
    "TruthCache": "nesykg.reasoners.logic.truth",
    "GraphIndex": "nesykg.reasoners.logic.graph_index",
    "exact_answers": "nesykg.reasoners.logic.exact",
    "exact_answer_names": "nesykg.reasoners.logic.exact",
}

__all__ = [
    "ALL_STRUCTURES",
    "Answers",
    "CQAReport",
    "CQDBeam",
    "CQDConfig",
    "ExactReasoner",
    "FIT",
    "FITConfig",
    "REASONERS",
    "TNORMS",
    "TruthCache",
    "answer",
    "evaluate_queries",
    "filtered_ranks",
    "get_tnorm",
    "make_reasoner",
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
