"""Library calls that join data and models by name: what the CLI, the demo and agents call.

This module sits above both `nesykg.datasets` (data by name) and `nesykg.reasoners`
(models), so that neither needs the other::

    from nesykg.pipeline import evaluate_checkpoint

    report = evaluate_checkpoint("runs/countries", split="test")
    report.metrics["mrr"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nesykg.errors import InputError
from nesykg.progress import Progress

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.tensor import TensorKG

__all__ = ["CheckpointEvaluation", "evaluate_checkpoint", "load_dataset_kg"]


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
