"""`EmbeddingModel`: what every embedding link predictor shares.

A model is an entity table ``E [N, W_e]`` and a relation table ``P [2R, W_r]`` (reciprocal
relations, Lacroix et al. 2018: row ``r + R`` is the inverse of ``r``). Each model says how
a query ``(h, r)`` becomes a vector (`query`) and how a query vector scores candidate
entities (`score_candidates`, `score_pairs`). Scoring is then entity-chunked for free.

Memory bound: `score_tails_range` touches only entities ``[start, end)``, so its peak
memory is ``B x (end - start)`` scores plus the query vectors ``B x W``; `top_tails`
builds the query vectors once and keeps ``B x k`` running best scores, so top-k prediction
over a million entities needs ``B x chunk`` floats, never ``B x N``. The parameters
themselves are ``(N + 2R) x W`` floats.

Hyperparameters of the model live in its `EmbeddingConfig` (``dim``, ``init_std``,
``n3_weight``); the training loop's own settings in `nesykg.reasoners.config.TrainingConfig`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from nesykg.errors import InputError
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.config import config_from_dict

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = ["EmbeddingModel", "EmbeddingConfig", "WEIGHTS_FILE"]

#: the weights (state dict) in a checkpoint folder
WEIGHTS_FILE = "model.pt"


@dataclass(frozen=True)
class EmbeddingConfig:
    """Hyperparameters of an embedding model.

    Attributes:
        dim: embedding size in the model's own numbers (complex numbers for ComplEx and
            RotatE, reals otherwise).
        init_std: standard deviation of the normal initialisation (``None``: the model's
            `EmbeddingModel.default_init_std`).
        n3_weight: weight of the N3 regulariser in training (ComplEx, DistMult only; 0
            disables it).
    """

    dim: int = 200
    init_std: float | None = None
    n3_weight: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.dim, int) or isinstance(self.dim, bool) or self.dim < 1:
            raise InputError(f"model config: dim must be a positive integer, got {self.dim!r}")
        if self.init_std is not None and not (isinstance(self.init_std, (int, float)) and self.init_std > 0):
            raise InputError(f"model config: init_std must be > 0, got {self.init_std!r}")
        if not isinstance(self.n3_weight, (int, float)) or self.n3_weight < 0:
            raise InputError(f"model config: n3_weight must be >= 0, got {self.n3_weight!r}")

    @classmethod
    def from_dict(cls, data: Any, where: str = "model config") -> EmbeddingConfig:
        """Build from a mapping; unknown keys are an `InputError` naming them."""
        return config_from_dict(cls, data, where)


class EmbeddingModel(LinkPredictor, nn.Module):
    """Base class of the embedding link predictors.

    Args:
        vocab: the vocabulary; it fixes ``N`` and ``R`` (the relation table has ``2R`` rows).
        config: the model's hyperparameters (default: `EmbeddingConfig()`).
        generator: seeded generator for the initialisation.
    """

    name: ClassVar[str]
    config_class: ClassVar[type] = EmbeddingConfig
    #: reals stored per unit of `dim` for entities and relations (2 for complex numbers)
    entity_width_factor: ClassVar[int] = 1
    relation_width_factor: ClassVar[int] = 1
    default_init_std: ClassVar[float] = 1e-3
    #: whether the N3 regulariser (Lacroix et al. 2018) applies to this model
    supports_n3: ClassVar[bool] = False

    def __init__(
        self, vocab: Vocabulary, config: EmbeddingConfig | None = None, generator: torch.Generator | None = None
    ):
        nn.Module.__init__(self)
        LinkPredictor.__init__(self, vocab)
        self._config = config if config is not None else EmbeddingConfig()
        self.dim = int(self._config.dim)
        self.entity = nn.Embedding(self.num_entities, self.entity_width_factor * self.dim)
        self.relation = nn.Embedding(2 * self.num_relations, self.relation_width_factor * self.dim)
        init_std = self._config.init_std
        self.reset_parameters(self.default_init_std if init_std is None else init_std, generator)

    @property
    def config(self) -> EmbeddingConfig:
        """The model's `EmbeddingConfig`."""
        return self._config

    def reset_parameters(self, init_std: float, generator: torch.Generator | None = None) -> None:
        """Normal initialisation ``N(0, init_std^2)`` of both tables."""
        with torch.no_grad():
            nn.init.normal_(self.entity.weight, 0.0, init_std, generator=generator)
            nn.init.normal_(self.relation.weight, 0.0, init_std, generator=generator)

    @property
    def device(self) -> torch.device:
        return self.entity.weight.device

    # ------------------------------------------------------------ per-model
    @abstractmethod
    def query(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Query vectors of ``(h, r)`` pairs: ``LongTensor[B] x 2 -> FloatTensor[B, W]``."""

    @abstractmethod
    def score_candidates(self, queries: Tensor, candidates: Tensor) -> Tensor:
        """Scores of every candidate for every query: ``[B, W] x [n, W] -> [B, n]``."""

    @abstractmethod
    def score_pairs(self, queries: Tensor, candidates: Tensor) -> Tensor:
        """Row-wise scores: ``[B, W] x [B, W] -> [B]``."""

    def n3_terms(self, heads: Tensor, relations: Tensor, tails: Tensor | None) -> list[Tensor]:
        """Elementwise ``|x|^3`` of the factors of a batch, one ``[*, W]`` tensor per factor.

        `tails` ``None`` means every entity (PyKEEN's LCWA regularises the full table).
        Only models with `supports_n3` implement it.
        """
        from nesykg.errors import UnsupportedCapabilityError

        raise UnsupportedCapabilityError(type(self).__name__, "N3 regularisation", kind="model")

    # ------------------------------------------------------------ LinkPredictor
    def score_tails_range(self, heads: Tensor, relations: Tensor, start: int, end: int) -> Tensor:
        """Scores of entities ``[start, end)`` as tails: ``FloatTensor[B, end - start]``."""
        dev = self.device
        q = self.query(heads.to(dev), relations.to(dev))
        return self.score_candidates(q, self.entity.weight[start:end])

    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Scores of every entity as tail, ``FloatTensor[B, N]`` (on the model's device)."""
        return self.score_tails_range(heads, relations, 0, self.num_entities)

    forward = score_tails

    def score_triples(self, triples: Tensor) -> Tensor:
        """Pointwise scores of ``LongTensor[B, 3]`` triples: ``FloatTensor[B]``."""
        t = triples.to(self.device)
        return self.score_pairs(self.query(t[:, 0], t[:, 1]), self.entity(t[:, 2]))

    def _chunk_scorer(self, heads: Tensor, relations: Tensor) -> Callable[[int, int], Tensor]:
        """Query vectors built once, then each entity slice scored against them."""
        dev = self.device
        q = self.query(heads.to(dev), relations.to(dev))  # (B, W)
        return lambda start, end: self.score_candidates(q, self.entity.weight[start:end])

    # ------------------------------------------------------------ checkpoint
    def save_state(self, folder: Path) -> None:
        """Write the weights, ``model.pt`` (a state dict of CPU tensors)."""
        from nesykg.reasoners.checkpoint import atomic_save

        atomic_save({k: v.detach().cpu() for k, v in self.state_dict().items()}, Path(folder) / WEIGHTS_FILE)

    @classmethod
    def from_checkpoint(
        cls, folder: Path, vocab: Vocabulary, meta: dict[str, Any], device: str = "cpu"
    ) -> EmbeddingModel:
        """The model of `meta` with the weights of ``folder/model.pt``, in eval mode."""
        from nesykg.reasoners.checkpoint import read_tensors

        config = EmbeddingConfig.from_dict(meta.get("model_config", {}), where=str(Path(folder) / "config.json"))
        path = Path(folder) / WEIGHTS_FILE
        if not path.is_file():
            raise InputError(f"{folder}: no {WEIGHTS_FILE} in the checkpoint (training did not finish an epoch)")
        state = read_tensors(path)
        model = cls(vocab, config)
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            where = f"a {cls.name} model of {vocab.num_entities} entities"
            raise InputError(f"{path}: the weights do not fit {where}: {first}") from None
        model.eval()
        return model.to(device)

    def extra_repr(self) -> str:
        return f"entities={self.num_entities}, relations={self.num_relations}, dim={self.dim}"


class DotProductScoring:
    """Mixin for bilinear models (DistMult, ComplEx): the score is ``<query, candidate>``,
    so scoring every candidate is one matrix product."""

    def score_candidates(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return queries @ candidates.t()  # (B, n)

    def score_pairs(self, queries: Tensor, candidates: Tensor) -> Tensor:
        return (queries * candidates).sum(-1)  # (B,)
