"""Library calls on any predictor, by names: ranked answers and checkpoint evaluation.

What the CLI, the demo and the agent's tools call; they never touch ids or the reciprocal
convention themselves::

    model = load_predictor("runs/countries")
    ranking = predict(model, head="belgium", relation="locatedin", top_k=5)
    ranking.answers[0].entity, ranking.answers[0].score

    report = evaluate_checkpoint("runs/countries", split="test")
    report.metrics["mrr"]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch

from nesykg.errors import InputError
from nesykg.progress import Progress
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.known import ObservedGraph, as_known_tails

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.tensor import TensorKG

__all__ = ["Answer", "Ranking", "predict", "CheckpointEvaluation", "evaluate_checkpoint", "load_dataset_kg"]


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


@dataclass(frozen=True)
class CheckpointEvaluation:
    """Filtered metrics of a checkpoint on one split (both directions, mean-tie ranks).

    Attributes:
        checkpoint: the folder.
        model: the predictor's registry name.
        dataset: the dataset evaluated on.
        split: the split.
        metrics: ``mrr``, ``mr``, ``hits@1/3/10``, ``count``.
    """

    checkpoint: str
    model: str
    dataset: str
    split: str
    metrics: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        where = {"checkpoint": self.checkpoint, "model": self.model, "dataset": self.dataset}
        return {**where, "split": self.split, **self.metrics}


def load_dataset_kg(name: str) -> TensorKG:
    """The `TensorKG` of a built-in dataset name or a dataset folder."""
    from nesykg.datasets import load_dataset
    from nesykg.kg.tensor import TensorKG

    return TensorKG.from_dataset(load_dataset(name))


def evaluate_checkpoint(
    checkpoint: str | Path,
    split: str = "test",
    dataset: str | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
) -> CheckpointEvaluation:
    """Filtered MRR and Hits@k of any checkpoint folder on a split of its dataset.

    Ranks are filtered by the dataset's train, valid and test triples
    (`nesykg.reasoners.evaluation.evaluate_split`).

    Args:
        checkpoint: the folder.
        split: ``test`` or ``valid`` (any split the dataset has).
        dataset: evaluate on this dataset (a name or folder) instead of the recorded one.
        device: where to score.
        progress: called as ``progress("evaluating", queries_done, queries)``.

    Raises:
        InputError: no dataset recorded nor given, no such split, an unreadable checkpoint.
        VocabularyMismatchError: the dataset has another vocabulary than the checkpoint.
    """
    from nesykg.reasoners.checkpoint import load_checkpoint, read_meta
    from nesykg.reasoners.evaluation import evaluate_split

    meta = read_meta(checkpoint)
    name = dataset or meta.get("dataset")
    if not name:
        raise InputError(f"{checkpoint}: the checkpoint names no dataset; pass one")
    kg = load_dataset_kg(name)
    cp = load_checkpoint(checkpoint, expect=kg.vocab, device=device)
    metrics = evaluate_split(cp.model, kg, split, progress=progress)
    return CheckpointEvaluation(str(checkpoint), cp.name, kg.name, split, metrics)
