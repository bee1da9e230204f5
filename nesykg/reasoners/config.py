"""`TrainingConfig` and `TrainingResult`: the typed edges of a training run.

Strings from the CLI or a JSON file become a `TrainingConfig` once, through `from_dict`,
which refuses unknown keys and bad values with an `InputError`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from nesykg.errors import InputError

__all__ = ["TrainingConfig", "TrainingResult", "EpochReport", "OPTIMIZERS", "MODES"]

OPTIMIZERS = ("adagrad", "adam")
#: "1vsall": every training triple (and its reciprocal) is one example scored against all
#: entities (Lacroix et al. 2018). "kvsall": one example per distinct (head, relation) with
#: all its known tails as a multi-hot target -- PyKEEN's LCWA, fewer steps per epoch.
MODES = ("1vsall", "kvsall")


@dataclass
class TrainingConfig:
    """Everything that determines a training run (with the data and the seed).

    Attributes:
        model: registered model name (``complex``, ``distmult``, ``rotate``, ``transe``).
        dim: embedding size (complex numbers for ComplEx and RotatE).
        epochs: maximum number of passes over the training examples.
        batch_size: examples per optimiser step.
        learning_rate: optimiser step size.
        optimizer: ``adagrad`` or ``adam``.
        n3_weight: weight of the N3 regulariser (ComplEx, DistMult only; 0 disables it).
        init_std: std of the normal initialisation (``None``: the model's default).
        mode: ``1vsall`` (per triple) or ``kvsall`` (per (head, relation), PyKEEN's LCWA).
        seed: seeds initialisation and shuffling; CPU runs are bit-for-bit repeatable.
        eval_every: validate every this many epochs (0: never, keep the last epoch).
        patience: stop after this many validations without a better MRR (0: never stop).
        device: torch device, ``cpu`` or e.g. ``cuda``.
        eval_batch_size: queries per scoring call in evaluation (``None``: by memory bound).
    """

    model: str = "complex"
    dim: int = 200
    epochs: int = 50
    batch_size: int = 256
    learning_rate: float = 0.1
    optimizer: str = "adagrad"
    n3_weight: float = 0.0
    init_std: float | None = None
    mode: str = "1vsall"
    seed: int = 0
    eval_every: int = 1
    patience: int = 0
    device: str = "cpu"
    eval_batch_size: int | None = None

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise InputError(f"training config: {name} must be a positive integer, got {v!r}")
        for name in ("eval_every", "patience", "seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InputError(f"training config: {name} must be an integer >= 0, got {v!r}")
        if not isinstance(self.learning_rate, (int, float)) or not self.learning_rate > 0:
            raise InputError(f"training config: learning_rate must be > 0, got {self.learning_rate!r}")
        if not isinstance(self.n3_weight, (int, float)) or self.n3_weight < 0:
            raise InputError(f"training config: n3_weight must be >= 0, got {self.n3_weight!r}")
        if self.init_std is not None and not (isinstance(self.init_std, (int, float)) and self.init_std > 0):
            raise InputError(f"training config: init_std must be > 0, got {self.init_std!r}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"training config: optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.mode not in MODES:
            raise InputError(f"training config: mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.eval_batch_size is not None and (not isinstance(self.eval_batch_size, int) or self.eval_batch_size < 1):
            raise InputError(f"training config: eval_batch_size must be a positive integer, got {self.eval_batch_size!r}")
        self.model = str(self.model).lower()

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "training config") -> TrainingConfig:
        """Build from a mapping; unknown keys are an `InputError` naming them."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a mapping, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{where}: unknown keys {unknown}; known keys: {', '.join(sorted(known))}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with `changes` (``None`` values are ignored, so CLI flags can pass through)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass
class EpochReport:
    """What a training run reports after each epoch (to progress bars, callbacks)."""

    epoch: int
    epochs: int
    loss: float
    seconds: float
    valid_mrr: float | None
    best_mrr: float | None
    best_epoch: int


@dataclass
class TrainingResult:
    """The record of a training run (written as ``metrics.json`` beside the checkpoint).

    Attributes:
        seed: the run's seed.
        config: the full configuration.
        dataset: dataset name (or folder).
        metrics: split -> filtered metrics of the best model (``mrr``, ``hits@k``...).
        best_epoch: epoch whose weights were kept (by validation MRR; else the last).
        epochs_completed: epochs actually trained (fewer than configured after early stop).
        stopped_early: whether early stopping ended the run.
        history: one ``{epoch, loss, seconds, valid_mrr}`` per epoch.
        timings: ``train_seconds`` (optimisation only), ``seconds_per_epoch``,
            ``eval_seconds`` (validation during training), ``total_seconds``.
        version: nesykg version; ``git_hash`` of the source tree when known.
    """

    seed: int
    config: TrainingConfig
    dataset: str
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    best_epoch: int = 0
    epochs_completed: int = 0
    stopped_early: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    version: str = ""
    git_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["config"] = self.config.to_dict()
        return d
