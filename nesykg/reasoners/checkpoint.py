"""Checkpoint folders: everything needed to score without the training data.

Every registered predictor is a checkpoint folder::

    config.json    format tag, the predictor's registry name ("model"), its config
                   ("model_config"), dataset, sizes; a trained embedding model adds its
                   TrainingConfig ("config")
    vocab.json     the Vocabulary (id order) -- a checkpoint never meets another one silently
    ...            the predictor's own state: model.pt (embedding weights, a state dict);
                   rules.txt + facts.pt (a rule predictor: its rules and the facts they apply to)
    metrics.json   the TrainingResult (written when training finishes)
    state.pt       resumable state of the last completed epoch (training only)

`load_predictor` reads any of them. Tensors are read with ``torch.load(weights_only=True)``,
so a file that would run code when unpickled is refused, and never run. Writes go to a
temporary file and are renamed into place, so an interruption never leaves a half-written
file behind. Checkpoints written before the ``model``/``model_config`` entries existed
(a flat TrainingConfig under ``config``) still load.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from nesykg.errors import InputError, VocabularyMismatchError
from nesykg.kg.vocab import Vocabulary
from nesykg.reasoners.config import TrainingConfig

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.reasoners.base import LinkPredictor

__all__ = [
    "Checkpoint",
    "CHECKPOINT_FORMAT",
    "load_checkpoint",
    "load_predictor",
    "save_predictor",
    "read_meta",
    "read_config",
    "write_config",
    "read_tensors",
    "atomic_save",
    "atomic_write_text",
    "dataset_reference",
]

CHECKPOINT_FORMAT = "nesykg-linkpred/1"
CONFIG_FILE = "config.json"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the predictor (its `vocab` set) and what was recorded with it.

    Attributes:
        model: the predictor.
        config: the TrainingConfig of a trained model, else the predictor's own config.
        vocab: the vocabulary.
        dataset: the dataset it was built on (a built-in name or a folder), if recorded.
        path: the folder.
        metrics: the TrainingResult of ``metrics.json``, if any.
        name: the predictor's registry name.
    """

    model: LinkPredictor
    config: Any
    vocab: Vocabulary
    dataset: str | None
    path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    name: str = ""


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def read_tensors(path: Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, with one-line errors.

    Raises:
        InputError: the file is missing, truncated or corrupt, or is a pickle that
            would run code (refused without running it).
    """
    try:
        with warnings.catch_warnings():  # torch warns about old pickle protocols; the error below says more
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except pickle.UnpicklingError:
        raise InputError(f"{path}: refused: not a plain tensor file (unpickling it would run code)") from None
    except Exception as e:  # noqa: BLE001 -- torch raises RuntimeError, EOFError, zip errors... on a bad file
        raise InputError(f"{path}: cannot read: {_damage(path, e)}") from None


def _damage(path: Path, error: BaseException) -> str:
    """What is wrong with a tensor file torch could not read, for a one-line message."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        return e.strerror or str(e)
    if not head:
        return "the file is empty"
    if head == b"PK\x03\x04" and not zipfile.is_zipfile(path):
        return "truncated or corrupt (an incomplete torch archive)"
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"truncated or corrupt ({first})"


def dataset_reference(given: str, name: str, path: Path | None) -> str:
    """What a checkpoint records as its dataset: the built-in `name` when `given` named it,
    else the resolved folder (so that ``nesykg eval`` finds it again)."""
    if str(given).lower().replace("-", "_") == name or path is None:
        return name
    return str(Path(path).resolve())


def _meta(
    name: str, model_config: Any, vocab: Vocabulary, dataset: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "model": name,
        "model_config": dataclasses.asdict(model_config),
        **extra,
        "dataset": dataset,
        "num_entities": vocab.num_entities,
        "num_relations": vocab.num_relations,
    }


def write_config(folder: Path, config: TrainingConfig, vocab: Vocabulary, dataset: str) -> None:
    """Write ``config.json`` and ``vocab.json`` of a training run into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab.save(folder)
    meta = _meta(config.model, config.model_config, vocab, dataset, config=config.to_dict())
    atomic_write_text(folder / CONFIG_FILE, json.dumps(meta, indent=2))


def save_predictor(
    predictor: LinkPredictor, folder: str | Path, dataset: str | None = None, **extra: Any
) -> Path:
    """Write `predictor` as a checkpoint folder that `load_predictor` reads back.

    Args:
        predictor: any registered predictor (its `vocab` is saved beside it).
        folder: the folder (created when missing).
        dataset: the dataset it was built on, recorded for ``nesykg eval``.
        extra: more JSON-able entries for ``config.json`` (e.g. the miner's config).
    """
    if predictor.vocab is None:
        raise InputError(f"a {type(predictor).__name__} without a vocabulary cannot be saved")
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    predictor.vocab.save(p)
    predictor.save_state(p)
    meta = _meta(type(predictor).name, predictor.config, predictor.vocab, dataset, **extra)
    atomic_write_text(p / CONFIG_FILE, json.dumps(meta, indent=2))
    return p


def read_meta(folder: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a checkpoint folder, with ``model`` and ``model_config``
    filled in for checkpoints of the older layout.

    Raises:
        InputError: no such folder, no or an unreadable ``config.json``, another format.
    """
    p = Path(folder)
    if not p.is_dir():
        raise InputError(f"{p}: no such checkpoint folder")
    cfg = p / CONFIG_FILE
    try:
        meta = json.loads(cfg.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{p}: not a checkpoint (no {CONFIG_FILE})") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{cfg}: cannot read: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{cfg}: not a nesykg link-prediction checkpoint")
    if "model" not in meta:  # older layout: a flat TrainingConfig under "config"
        training = TrainingConfig.from_dict(meta.get("config"), where=str(cfg))
        meta["model"] = training.model
        meta["model_config"] = dataclasses.asdict(training.model_config)
    if not isinstance(meta["model"], str):
        raise InputError(f"{cfg}: 'model' must be a registered model name, got {meta['model']!r}")
    return meta


def read_config(folder: Path) -> tuple[TrainingConfig, str | None]:
    """The TrainingConfig and dataset of a training run's folder."""
    meta = read_meta(folder)
    if "config" not in meta:
        raise InputError(f"{Path(folder) / CONFIG_FILE}: a {meta['model']} checkpoint, not a training run")
    config = TrainingConfig.from_dict(meta["config"], where=str(Path(folder) / CONFIG_FILE))
    return config, meta.get("dataset")


def load_checkpoint(folder: str | Path, expect: Vocabulary | None = None, device: str = "cpu") -> Checkpoint:
    """Load any checkpoint folder with what was recorded beside the predictor.

    Args:
        folder: the checkpoint folder.
        expect: refuse (`VocabularyMismatchError`) a checkpoint of another vocabulary.
        device: where to put the predictor.

    Raises:
        InputError: a missing or unreadable file (``config.json``, ``vocab.json``, the
            state files), a refused pickle, an unknown model.
        VocabularyMismatchError: the checkpoint's vocabulary is not `expect`.
    """
    from nesykg.reasoners.registry import get_model_class

    p = Path(folder)
    meta = read_meta(p)
    cls = get_model_class(meta["model"])
    vocab = Vocabulary.load(p)
    if expect is not None:
        try:
            expect.check_same(vocab, what="checkpoint")
        except VocabularyMismatchError as e:
            built = f" (built on {meta['dataset']})" if meta.get("dataset") else ""
            raise VocabularyMismatchError(f"{p}{built}: {e}") from None
    predictor = cls.from_checkpoint(p, vocab, meta, device=device)
    config: Any = predictor.config
    if "config" in meta:
        config = TrainingConfig.from_dict(meta["config"], where=str(p / CONFIG_FILE))
    metrics: dict[str, Any] = {}
    if (p / "metrics.json").is_file():
        try:
            metrics = json.loads((p / "metrics.json").read_text(encoding="utf-8"))
        except ValueError:
            metrics = {}
    return Checkpoint(predictor, config, vocab, meta.get("dataset"), p, metrics, meta["model"])


def load_predictor(path: str | Path, expect: Vocabulary | None = None, device: str = "cpu") -> LinkPredictor:
    """The predictor of any checkpoint folder (embedding model, rules...), `vocab` set.

    Example::

        model = load_predictor("runs/umls-complex", expect=kg.vocab)
        scores, ids = model.top_tails(heads, relations, k=10)

    Raises:
        InputError: see `load_checkpoint`.
        VocabularyMismatchError: the checkpoint's vocabulary is not `expect`.
    """
    return load_checkpoint(path, expect, device).model
