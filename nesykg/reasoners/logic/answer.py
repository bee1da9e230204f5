"""`answer`: ranked answers of an EFO-1 formula from a link predictor, with explanations.

>>> from nesykg.reasoners.checkpoint import load_predictor          # doctest: +SKIP
>>> model = load_predictor("runs/countries_s1-complex")
>>> res = answer("?y : exists x . locatedin(x, europe) & neighbor(x, ?y)", model, kg, top_k=5, explain=True)
>>> res.answers[0].entity, res.answers[0].truth, res.answers[0].explanation.assignment

Reasoners are resolved by name in `REASONERS` (entry-point group ``nesykg.cqa_reasoners``):

* ``fit`` (default): FIT, fuzzy inference on the predictor's truth values and the observed
  edges, every EFO-1 query (`nesykg.reasoners.logic.fit`);
* ``cqd``: CQD-beam, the baseline, trees only (`nesykg.reasoners.logic.cqd`);
* ``exact``: the observed graph alone, closed world (`nesykg.reasoners.logic.exact`); truth
  1 for an answer, 0 otherwise; the predictor only lends its vocabulary.

Every reasoner is built as ``cls(predictor, graph)`` and offers ``scores(formula) -> [N]``
and ``explain(formula, entity_id) -> Grounding``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from nesykg.errors import InputError
from nesykg.reasoners.logic.formula import Atom, Const, Formula, NotExists, Var
from nesykg.reasoners.logic.syntax import format_formula, parse_formula
from nesykg.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.reasoners.base import LinkPredictor
    from nesykg.reasoners.logic.fuzzy import Grounding, Query
    from nesykg.reasoners.logic.graph_index import GraphIndex

__all__ = ["REASONERS", "Answers", "ExactReasoner", "Explanation", "RankedAnswer", "answer", "make_reasoner"]

REASONERS: Registry[Any] = Registry(
    "reasoner",
    "nesykg.cqa_reasoners",
    {
        "fit": "nesykg.reasoners.logic.fit:FIT",
        "cqd": "nesykg.reasoners.logic.cqd:CQDBeam",
        "exact": "nesykg.reasoners.logic.answer:ExactReasoner",
    },
)


def observed_triples(graph: Any) -> Tensor | None:
    """The observed edges of `graph` as ``LongTensor[M, 3]``: a `GraphIndex`, a `TensorKG`
    (its ``train`` split), a tensor, or ``None``. A `KnownTails` passes through unchanged."""
    if graph is None:
        return None
    from nesykg.reasoners.known import KnownTails
    from nesykg.reasoners.logic.graph_index import GraphIndex

    if isinstance(graph, GraphIndex):
        return torch.as_tensor(graph.triples, dtype=torch.long).reshape(-1, 3)
    if isinstance(graph, KnownTails):
        return graph  # type: ignore[return-value]
    from nesykg.kg.tensor import TensorKG

    if isinstance(graph, TensorKG):
        return graph.triples("train")
    if isinstance(graph, Tensor):
        return graph
    raise InputError(f"observed edges must be a GraphIndex, TensorKG, KnownTails or LongTensor[M, 3], got {type(graph).__name__}")


class ExactReasoner:
    """Exact answers on the observed graph (truth 1 or 0); explanations from its 0/1 truth rows.

    Args:
        predictor: lends its vocabulary (and size) only.
        graph: the observed edges; required.
    """

    name = "exact"

    def __init__(self, predictor: LinkPredictor, graph: Any = None, **_: Any):
        from nesykg.reasoners.logic.fuzzy import FuzzyEngine
        from nesykg.reasoners.logic.graph_index import GraphIndex
        from nesykg.reasoners.logic.truth import TruthCache

        triples = observed_triples(graph)
        if triples is None or not isinstance(triples, Tensor):
            raise InputError("the exact reasoner needs the observed graph (a TensorKG, GraphIndex or triples)")
        self.predictor = predictor
        n, R = predictor.num_entities, predictor.num_relations
        self.index: GraphIndex = GraphIndex(triples.cpu().numpy(), n, R, predictor.vocab)

        def rows(heads: Tensor, relations: Tensor) -> Tensor:
            out = torch.zeros(len(heads), n)
            for i, (h, r) in enumerate(zip(heads.tolist(), relations.tolist())):
                ids = self.index.successors(h, r) if r < R else self.index.predecessors(h, r - R)
                out[i, torch.as_tensor(ids, dtype=torch.long)] = 1.0
            return out

        self.engine = FuzzyEngine(TruthCache(rows, n, threshold=0.5, row_k=n), R, k=n, cycle_k=n, max_enumeration=n)

    def resolve(self, formula: Formula) -> Query:
        from nesykg.reasoners.logic.fuzzy import resolve

        return resolve(formula, self.index.require_vocab())

    def scores(self, formula: Formula | Query) -> Tensor:
        from nesykg.reasoners.logic.exact import exact_answers

        f = formula if isinstance(formula, Formula) else formula.formula
        out = torch.zeros(self.predictor.num_entities)
        ids = sorted(exact_answers(f, self.index))
        out[torch.tensor(ids, dtype=torch.long)] = 1.0
        return out

    def explain(self, formula: Formula | Query, answer: int) -> Grounding:
        q = self.resolve(formula) if isinstance(formula, Formula) else formula
        return self.engine.explain(q, answer)


def make_reasoner(name: str, predictor: LinkPredictor, graph: Any = None, **options: Any) -> Any:
    """The reasoner registered as `name`, built over `predictor` and the observed `graph`.

    Raises:
        UnknownNameError: no such reasoner (with the closest names).
    """
    cls = REASONERS.get(name)
    return cls(predictor, observed_triples(graph), **options)


@dataclass(frozen=True)
class Explanation:
    """Why an entity answers: the best grounding and each literal's truth.

    Attributes:
        assignment: variable -> entity name (the free variable included).
        literals: ``(literal text, truth)`` of each literal of the chosen conjunction.
        truth: the grounding's truth (the t-norm of the literals').
        disjunct: which conjunction of a disjunction (0-based).
    """

    assignment: dict[str, str]
    literals: tuple[tuple[str, float], ...]
    truth: float
    disjunct: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment,
            "literals": [{"literal": t, "truth": v} for t, v in self.literals],
            "truth": self.truth,
            "disjunct": self.disjunct,
        }


@dataclass(frozen=True)
class RankedAnswer:
    rank: int
    entity: str
    truth: float
    explanation: Explanation | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rank": self.rank, "entity": self.entity, "truth": self.truth}
        if self.explanation is not None:
            out["explanation"] = self.explanation.as_dict()
        return out


@dataclass(frozen=True)
class Answers:
    """Ranked answers of one formula."""

    formula: str
    reasoner: str
    answers: tuple[RankedAnswer, ...]
    structure: str | None = None
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "structure": self.structure,
            "reasoner": self.reasoner,
            "seconds": self.seconds,
            "answers": [a.as_dict() for a in self.answers],
        }


def _literal_text(lit: Atom | NotExists, assignment: dict[str, str]) -> str:
    """The literal with its variables replaced by their entities (``neighbor(spain, morocco)``)."""
    from nesykg.reasoners.logic.syntax import format_name

    def term(t: Const | Var) -> str:
        if isinstance(t, Const):
            return format_name(t.name)
        return format_name(assignment[t.name]) if t.name in assignment else t.name

    def atom(a: Atom) -> str:
        return f"{'!' if a.negated else ''}{format_name(a.relation)}({term(a.subject)}, {term(a.object)})"

    if isinstance(lit, Atom):
        return atom(lit)
    return f"!(exists {', '.join(lit.variables)} . {' & '.join(atom(a) for a in lit.atoms)})"


def to_explanation(g: Grounding, entities: tuple[str, ...]) -> Explanation:
    names = {v: entities[i] for v, i in g.assignment.items()}
    lits = tuple((_literal_text(lit, names), float(t)) for lit, t in g.literal_truths)
    return Explanation(names, lits, float(g.truth), g.disjunct)


def answer(
    formula: Formula | str,
    predictor: LinkPredictor,
    graph: Any = None,
    top_k: int = 10,
    reasoner: str | Any = "fit",
    explain: bool = False,
    **options: Any,
) -> Answers:
    """The `top_k` answers of `formula` with their truth values, best first.

    Args:
        formula: a `Formula` or its text (``"?y : exists x . r(a, x) & s(x, ?y)"``).
        predictor: any link predictor with a vocabulary (`load_predictor`).
        graph: the observed edges (`TensorKG`, `GraphIndex`, ``LongTensor[M, 3]``, `KnownTails`);
            FIT sets them true, ``exact`` needs them, ``None`` uses the predictor alone.
        top_k: how many answers (those of truth 0 are left out).
        reasoner: ``fit``, ``cqd``, ``exact`` (see `REASONERS`), or a built reasoner.
        explain: add each answer's best grounding and literal truths.
        options: settings of the reasoner (``k=``, ``tnorm=``...).

    Raises:
        ParseError: `formula` text that does not parse (with the column).
        UnknownNameError: an entity, relation or reasoner that is not known (closest names offered).
        UnsupportedCapabilityError: a structure the reasoner refuses (CQD and cycles).
    """
    if top_k < 1:
        raise InputError(f"top_k must be at least 1, got {top_k}")
    f = parse_formula(formula) if isinstance(formula, str) else formula
    if predictor.vocab is None:
        raise InputError(f"the {type(predictor).__name__} has no vocabulary, so it cannot answer by names")
    r = make_reasoner(reasoner, predictor, graph, **options) if isinstance(reasoner, str) else reasoner
    t0 = time.perf_counter()
    q = r.resolve(f)
    scores = r.scores(q)
    k = min(top_k, int(torch.count_nonzero(scores)))
    vals, ids = torch.topk(scores, k) if k else (torch.zeros(0), torch.zeros(0, dtype=torch.long))
    entities = predictor.vocab.entities
    out = []
    for rank, (v, i) in enumerate(zip(vals.tolist(), ids.tolist()), 1):
        ex = to_explanation(r.explain(q, i), entities) if explain else None
        out.append(RankedAnswer(rank, entities[i], float(v), ex))
    from nesykg.reasoners.logic.structures import structure_of

    return Answers(format_formula(f), r.name, tuple(out), structure_of(f), time.perf_counter() - t0)
