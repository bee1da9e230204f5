"""`TrainingConfig` and `TrainingResult`: the typed edges of a training run.

Strings from the CLI or a JSON file become a `TrainingConfig` once, through `from_dict`,
which refuses unknown keys and bad values with an `InputError`.

The model's own hyperparameters (``dim``, ``init_std``, ``n3_weight`` of an embedding model)
live in the model's config dataclass (its ``config_class``), held as
`TrainingConfig.model_config`. For convenience, and so that ``config.json`` files written
before that split still load, they may also be given flat: ``TrainingConfig(model="complex",
dim=16)`` and ``from_dict({"model": "complex", "dim": 16})`` both put ``dim`` into
``model_config``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import InitVar, dataclass, field
from typing import Any, TypeVar

from nesykg.errors import InputError

__all__ = ["TrainingConfig", "TrainingResult", "EpochReport", "OPTIMIZERS", "MODES", "config_from_dict"]

C = TypeVar("C")


def config_from_dict(cls: type[C], data: Any, where: str) -> C:
    """Build the config dataclass `cls` from a mapping; unknown keys are an `InputError`."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"{where}: unknown keys {unknown}; known keys: {', '.join(sorted(known))}")
    return cls(**data)

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
        model_config: the model's hyperparameters, an instance of its ``config_class``
            (`nesykg.reasoners.embeddings.EmbeddingConfig`: ``dim``, ``init_std``,
            ``n3_weight``); a mapping or ``None`` (the defaults) is converted.
        epochs: maximum number of passes over the training examples.
        batch_size: examples per optimiser step.
        learning_rate: optimiser step size.
        optimizer: ``adagrad`` or ``adam``.
        mode: ``1vsall`` (per triple) or ``kvsall`` (per (head, relation), PyKEEN's LCWA).
        seed: seeds initialisation and shuffling; CPU runs are bit-for-bit repeatable.
        eval_every: validate every this many epochs (0: never, keep the last epoch).
        patience: stop after this many validations without a better MRR (0: never stop).
        device: torch device, ``cpu`` or e.g. ``cuda``.
        eval_batch_size: queries per scoring call in evaluation (``None``: by memory bound).
        dim, init_std, n3_weight: flat aliases of the `model_config` fields (init only).
    """

    model: str = "complex"
    model_config: Any = None
    epochs: int = 50
    batch_size: int = 256
    learning_rate: float = 0.1
    optimizer: str = "adagrad"
    mode: str = "1vsall"
    seed: int = 0
    eval_every: int = 1
    patience: int = 0
    device: str = "cpu"
    eval_batch_size: int | None = None
    dim: InitVar[int | None] = None
    init_std: InitVar[float | None] = None
    n3_weight: InitVar[float | None] = None

    def __post_init__(self, dim: int | None, init_std: float | None, n3_weight: float | None) -> None:
        self.model = str(self.model).lower()
        aliases = (("dim", dim), ("init_std", init_std), ("n3_weight", n3_weight))
        flat = {k: v for k, v in aliases if v is not None}
        self.model_config = self._model_config(self.model_config, flat)
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise InputError(f"training config: {name} must be a positive integer, got {v!r}")
        for name in ("eval_every", "patience", "seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InputError(f"training config: {name} must be an integer >= 0, got {v!r}")
        if not isinstance(self.learning_rate, (int, float)) or not self.learning_rate > 0:
            raise InputError(f"training config: learning_rate must be > 0, got {self.learning_rate!r}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"training config: optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.mode not in MODES:
            raise InputError(f"training config: mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.eval_batch_size is not None and (not isinstance(self.eval_batch_size, int) or self.eval_batch_size < 1):
            raise InputError(f"training config: eval_batch_size must be a positive integer, got {self.eval_batch_size!r}")

    def _model_config(self, given: Any, flat: dict[str, Any]) -> Any:
        """`given` (``None``, a mapping or the dataclass) as the model's config, with `flat` set."""
        from nesykg.reasoners.registry import get_model_class

        cls = getattr(get_model_class(self.model), "config_class", None)
        if cls is None:
            raise InputError(f"model {self.model!r} has no config class, so it cannot be configured")
        where = f"config of model {self.model!r}"
        if given is None or isinstance(given, dict):
            return config_from_dict(cls, {**(given or {}), **flat}, where)
        if not isinstance(given, cls):
            raise InputError(f"{where}: expected a {cls.__name__}, got {type(given).__name__}")
        return config_from_dict(cls, {**dataclasses.asdict(given), **flat}, where) if flat else given

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "training config") -> TrainingConfig:
        """Build from a mapping; unknown keys are an `InputError` naming them.

        Keys of the model's config may be given flat (``"dim": 16``), as older
        ``config.json`` files have them; they go into `model_config`.
        """
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a mapping, got {type(data).__name__}")
        from nesykg.reasoners.registry import get_model_class

        own = {f.name for f in dataclasses.fields(cls)}
        model = str(data.get("model", "complex"))
        model_cls = getattr(get_model_class(model), "config_class", None)
        model_keys = {f.name for f in dataclasses.fields(model_cls)} if model_cls is not None else set()
        unknown = sorted(set(data) - own - model_keys)
        if unknown:
            known = ", ".join(sorted(own | model_keys))
            raise InputError(f"{where}: unknown keys {unknown}; known keys: {known}")
        flat = {k: data[k] for k in data if k in model_keys and k not in own}
        mc = data.get("model_config")
        if mc is not None and not isinstance(mc, dict):
            raise InputError(f"{where}: model_config must be a mapping, got {type(mc).__name__}")
        rest = {k: v for k, v in data.items() if k in own and k != "model_config"}
        return cls(**rest, model_config={**(mc or {}), **flat})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with `changes` (``None`` values are ignored, so CLI flags can pass through);
        model config fields may be given flat (``replace(dim=16)``)."""
        given = {k: v for k, v in changes.items() if v is not None}
        own = {f.name for f in dataclasses.fields(self)}
        flat = {k: given.pop(k) for k in list(given) if k not in own}
        mc = dataclasses.asdict(self.model_config)
        unknown = sorted(set(flat) - set(mc))
        if unknown:
            raise InputError(f"training config: unknown keys {unknown}")
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return TrainingConfig(**{**current, **given, "model_config": {**mc, **flat}})


def _flat_alias(name: str) -> property:
    def get(self: TrainingConfig) -> Any:
        return getattr(self.model_config, name, None)

    get.__doc__ = f"``model_config.{name}`` (read-only alias kept for older callers)."
    return property(get)


# Read access to the flat aliases after construction (the dataclass __init__ keeps its own
# defaults). Use `TrainingConfig.replace`, not `dataclasses.replace`, to change a config:
# the latter would pass these aliases back in and override a new `model_config`.
for _name in ("dim", "init_std", "n3_weight"):
    setattr(TrainingConfig, _name, _flat_alias(_name))


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
