"""Checkpoint folders: everything needed to score without the training data.

Layout of a checkpoint folder::

    config.json    format tag, TrainingConfig, dataset, sizes
    vocab.json     the Vocabulary (id order) -- a checkpoint never meets another one silently
    model.pt       weights of the best model (state dict)
    metrics.json   the TrainingResult (written when training finishes)
    state.pt       resumable state of the last completed epoch (model, optimiser, epoch,
                   best-so-far, RNG state); `train` picks it up after an interruption

Writes go to a temporary file and are renamed into place, so an interruption never leaves
a half-written file behind.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nesykg.errors import InputError
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.config import TrainingConfig
from nesykg.reasoners.embeddings.base import EmbeddingModel
from nesykg.reasoners.registry import get_model_class

__all__ = ["Checkpoint", "CHECKPOINT_FORMAT", "load_checkpoint", "write_config", "atomic_save", "atomic_write_text"]

CHECKPOINT_FORMAT = "nesykg-linkpred/1"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (with `.vocab` set) and what was recorded with it."""

    model: EmbeddingModel
    config: TrainingConfig
    vocab: Vocabulary
    dataset: str | None
    path: Path
    metrics: dict[str, Any] = field(default_factory=dict)


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def write_config(folder: Path, config: TrainingConfig, vocab: Vocabulary, dataset: str) -> None:
    """Write ``config.json`` and ``vocab.json`` of a run into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab.save(folder)
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": config.to_dict(),
        "dataset": dataset,
        "num_entities": vocab.num_entities,
        "num_relations": vocab.num_relations,
    }
    atomic_write_text(folder / "config.json", json.dumps(meta, indent=2))


def read_config(folder: Path) -> tuple[TrainingConfig, str | None]:
    p = folder / "config.json"
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder}: not a checkpoint (no config.json)") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{p}: cannot read: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{p}: not a nesykg link-prediction checkpoint")
    return TrainingConfig.from_dict(meta.get("config"), where=str(p)), meta.get("dataset")


def load_checkpoint(folder: str | Path, expect: Vocabulary | None = None, device: str = "cpu") -> Checkpoint:
    """Load a checkpoint folder written by `nesykg.reasoners.training.train`.

    Args:
        folder: the checkpoint folder.
        expect: refuse (`VocabularyMismatchError`) a checkpoint of another vocabulary.
        device: where to put the model.
    """
    p = Path(folder)
    if not p.is_dir():
        raise InputError(f"{p}: no such checkpoint folder")
    config, dataset = read_config(p)
    vocab = Vocabulary.load(p)
    if expect is not None:
        expect.check_same(vocab, what="checkpoint")
    if not (p / "model.pt").is_file():
        raise InputError(f"{p}: the checkpoint has no model.pt (training did not finish an epoch)")
    try:
        state = torch.load(p / "model.pt", map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError) as e:
        raise InputError(f"{p / 'model.pt'}: cannot read: {e}") from None
    model = get_model_class(config.model)(vocab.num_entities, vocab.num_relations, config.dim)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise InputError(f"{p / 'model.pt'}: weights do not fit a {config.model} model: {e}") from None
    model.vocab = vocab
    model.eval()
    model.to(device)
    metrics: dict[str, Any] = {}
    if (p / "metrics.json").is_file():
        try:
            metrics = json.loads((p / "metrics.json").read_text(encoding="utf-8"))
        except ValueError:
            metrics = {}
    return Checkpoint(model, config, vocab, dataset, p, metrics)
