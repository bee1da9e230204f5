"""Library calls on any predictor, by names: ranked answers.

What the CLI, the demo and the agent's tools call; they never touch ids or the reciprocal
convention themselves::

    model = load_predictor("runs/countries")
    ranking = predict(model, head="belgium", relation="locatedin", top_k=5)
    ranking.answers[0].entity, ranking.answers[0].score

Evaluating a checkpoint on a dataset named by its name is `nesykg.pipeline.evaluate_checkpoint`
(it loads data, which this layer does not).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import torch

from nesykg.errors import InputError
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.known import ObservedGraph, as_known_tails

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["Answer", "Ranking", "predict"]


@dataclass(frozen=True)
class Answer:
    """One ranked answer.

    Attributes:
        entity: the entity's name.
        score: the predictor's score (higher is more plausible).
        rank: 1 for the best answer.
        known: whether the triple is an observed edge of the ``graph`` given to `predict`
            (``None`` when no graph was given).
    """

    entity: str
    score: float
    rank: int
    known: bool | None = None


@dataclass(frozen=True)
class Ranking:
    """The ranked answers of ``(head, relation, ?)`` or ``(?, relation, tail)``.

    Attributes:
        relation: the relation's name.
        head: the given head (``None`` when heads are predicted).
        tail: the given tail (``None`` when tails are predicted).
        target: ``"tails"`` or ``"heads"``: what the answers are.
        answers: best first.
        model: the predictor's registry name.
    """

    relation: str
    head: str | None
    tail: str | None
    target: Literal["tails", "heads"]
    answers: tuple[Answer, ...] = field(default_factory=tuple)
    model: str = ""

    @property
    def query(self) -> str:
        """``(head, relation, ?)`` or ``(?, relation, tail)``."""
        if self.target == "tails":
            return f"({self.head}, {self.relation}, ?)"
        return f"(?, {self.relation}, {self.tail})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "relation": self.relation,
            "tail": self.tail,
            "predict": self.target,
            "model": self.model,
            "answers": [asdict(a) for a in self.answers],
        }


def predict(
    predictor: LinkPredictor,
    *,
    relation: str,
    head: str | None = None,
    tail: str | None = None,
    top_k: int = 10,
    graph: ObservedGraph | None = None,
    exclude_known: bool = False,
) -> Ranking:
    """The `top_k` answers of ``(head, relation, ?)`` or ``(?, relation, tail)``, by names.

    Args:
        predictor: any predictor with a vocabulary (e.g. from `load_predictor`).
        relation: the relation's name.
        head: give exactly one of `head` (predict tails) and `tail` (predict heads).
        tail: see `head`.
        top_k: how many answers.
        graph: the observed edges; sets each answer's `Answer.known`.
        exclude_known: leave the observed edges of `graph` out (new facts only).

    Raises:
        InputError: not exactly one of `head` and `tail`, `top_k < 1`, or
            `exclude_known` without `graph`.
        UnknownNameError: an unknown entity or relation (with the closest names).
    """
    if (head is None) == (tail is None):
        raise InputError("give exactly one of head (predict tails) or tail (predict heads)")
    if top_k < 1:
        raise InputError(f"top_k must be at least 1, got {top_k}")
    if exclude_known and graph is None:
        raise InputError("exclude_known needs the graph of observed edges")
    vocab = predictor.vocab
    if vocab is None:
        raise InputError(f"the {type(predictor).__name__} has no vocabulary, so it cannot answer by names")
    rel = vocab.relation_id(relation)
    if head is not None:
        anchor, query_rel, target = vocab.entity_id(head), rel, "tails"
    else:
        # (?, r, t) is (t, r + R, ?): the reciprocal convention of `LinkPredictor`
        anchor, target = vocab.entity_id(tail), "heads"  # type: ignore[arg-type]
        query_rel = rel + predictor.num_relations
    h, r = torch.tensor([anchor]), torch.tensor([query_rel])
    known: set[int] | None = None
    if graph is not None:
        _, cols = as_known_tails(graph, predictor.num_entities, predictor.num_relations, vocab).mask(h, r)
        known = set(cols.tolist())
    k = top_k + (len(known) if exclude_known and known else 0)
    scores, ids = predictor.top_tails(h, r, k)
    answers: list[Answer] = []
    for s, e in zip(scores[0].tolist(), ids[0].tolist()):
        flag = None if known is None else e in known
        if exclude_known and flag:
            continue
        answers.append(Answer(vocab.entities[e], float(s), len(answers) + 1, flag))
        if len(answers) == top_k:
            break
    return Ranking(relation, head, tail, target, tuple(answers), type(predictor).name)  # type: ignore
