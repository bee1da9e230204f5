"""Training the GNN reasoners.

`train_nbfnet`: link prediction on the model's own graph. Each batch of training triples
(with reciprocals, ``(t, r + R, h)``) is scored against every entity *after the batch's
facts are removed from the graph* (NBFNet's protocol: otherwise the one-hop edge gives
the answer away). The loss is binary cross-entropy with self-adversarial negatives (Sun
et al. 2019, RotatE): every tail that is not a known training answer of ``(h, r)`` is a
negative, weighted by ``softmax(score / temperature)`` (no gradient through the weights).

`train_epignn`: relation prediction on small graphs (CLUTRR-style `RelationQuery`),
softmax cross-entropy over the relations.

Both keep the state of the best validation epoch, run on ``config.device``, seed their
shuffles, and report through the progress protocol (``"training MODEL"``, epochs).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from nesykg.errors import InputError, TrainingError
from nesykg.progress import Progress
from nesykg.reasoners.config import config_from_dict
from nesykg.reasoners.evaluation import filtered_ranks, rank_metrics
from nesykg.reasoners.gnn.epignn import EpiGNN, RelationQuery
from nesykg.reasoners.gnn.nbfnet import NBFNet
from nesykg.reasoners.known import KnownTails

__all__ = ["GNNTrainingConfig", "GNNTrainingResult", "train_nbfnet", "train_epignn", "fact_ids"]


@dataclass
class GNNTrainingConfig:
    """How a GNN is trained.

    Attributes:
        epochs: passes over the training examples.
        batch_size: queries (NBFNet) or graphs (EpiGNN) per step.
        learning_rate: the optimiser's step size (AdamW).
        weight_decay: AdamW's decoupled weight decay (0: plain Adam).
        adversarial_temperature: temperature of the self-adversarial negative weights.
        max_steps: optimiser steps per epoch at most (``None``: a full pass); quick runs.
        eval_queries: validation triples per epoch at most (``None``: all).
        seed: seeds the shuffles (and the sampled validation subset).
        device: torch device.
        patience: stop after this many epochs without a better validation score (0: never).
        time_budget: seconds of training at most (``None``: no limit); the step that
            passes it ends the run (its epoch is validated as usual), so a run takes at
            most the budget plus one step and one validation.
    """

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 5e-3
    weight_decay: float = 0.0
    adversarial_temperature: float = 0.5
    max_steps: int | None = None
    eval_queries: int | None = 500
    seed: int = 0
    device: str = "cpu"
    patience: int = 0
    time_budget: float | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise InputError(f"gnn training config: {name} must be a positive integer, got {v!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise InputError(f"gnn training config: time_budget must be > 0 seconds, got {self.time_budget!r}")
        if not self.learning_rate > 0 or not self.adversarial_temperature > 0:
            raise InputError("gnn training config: learning_rate and adversarial_temperature must be > 0")
        if not self.weight_decay >= 0:
            raise InputError(f"gnn training config: weight_decay must be >= 0, got {self.weight_decay!r}")

    @classmethod
    def from_dict(cls, data: Any, where: str = "gnn training config") -> GNNTrainingConfig:
        return config_from_dict(cls, data, where)


@dataclass
class GNNTrainingResult:
    """What a run did: per-epoch history, the best epoch and its validation score, timings."""

    model: str
    config: GNNTrainingConfig
    best_epoch: int
    best_valid: float | None
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds_per_epoch"] = self.train_seconds / max(1, len(self.history))
        return d


def fact_ids(triples: Tensor, facts: Tensor, num_entities: int, num_relations: int) -> Tensor:
    """Index in `facts` of each triple (``-1`` when it is not a fact): ``LongTensor[M]``."""
    def key(t: Tensor) -> Tensor:
        return (t[:, 0] * num_relations + t[:, 1]) * num_entities + t[:, 2]

    fk = key(facts)
    order = torch.argsort(fk)
    sk = fk[order]
    q = key(triples)
    pos = torch.searchsorted(sk, q).clamp_max(max(len(sk) - 1, 0))
    if len(sk) == 0:
        return torch.full((len(triples),), -1, dtype=torch.long)
    return torch.where(sk[pos] == q, order[pos], torch.full_like(q, -1))


def _loop(
    name: str, config: GNNTrainingConfig, n: int, step: Callable[[Tensor], Tensor],
    validate: Callable[[], float] | None, model: torch.nn.Module, progress: Progress | None,
    on_epoch: Callable[[dict[str, Any]], None] | None, slack: float = 0.0,
) -> GNNTrainingResult:
    """The shared loop. The kept epoch is the best by validation score, except that a later
    epoch within `slack` of the best score so far replaces it (a score that has saturated
    says nothing about which epoch generalises further; the later one has trained longer)."""
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    best: float | None = None  # the best score so far
    kept: float | None = None  # the score of the kept epoch
    best_epoch, bad, best_state = 0, 0, None
    history: list[dict[str, Any]] = []
    seconds = 0.0
    stage = f"training {name}"
    if progress is not None:
        progress(stage, 0, config.epochs)
    for epoch in range(1, config.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        total, steps = 0.0, 0
        out_of_time = False
        for i in range(0, n, config.batch_size):
            if config.max_steps is not None and steps >= config.max_steps:
                break
            opt.zero_grad(set_to_none=True)
            loss = step(perm[i : i + config.batch_size])
            value = float(loss.detach())
            if not math.isfinite(value):
                raise TrainingError(f"{name}: the loss became {value} at epoch {epoch}, step {steps + 1}; lower the learning rate")
            loss.backward()
            opt.step()
            total, steps = total + value, steps + 1
            if config.time_budget is not None and seconds + time.perf_counter() - t0 >= config.time_budget:
                out_of_time = True
                break
        took = time.perf_counter() - t0
        seconds += took
        model.eval()
        score = validate() if validate is not None else None
        rec = {"epoch": epoch, "loss": total / max(1, steps), "seconds": took, "valid": score, "steps": steps}
        history.append(rec)
        improved = score is None or best is None or score > best
        if improved or (slack > 0 and score >= best - slack):  # type: ignore[operator]
            bad = 0 if improved else bad + 1
            best = score if improved else best
            kept, best_epoch = score, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
        if on_epoch is not None:
            on_epoch(rec)
        if progress is not None:
            progress(stage, epoch, config.epochs)
        if config.patience and bad >= config.patience:
            break
        if out_of_time or (config.time_budget is not None and seconds >= config.time_budget):
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return GNNTrainingResult(name, copy.deepcopy(config), best_epoch, kept, history, seconds)


def train_nbfnet(
    model: NBFNet,
    triples: Tensor,
    valid: Tensor | None = None,
    config: GNNTrainingConfig | None = None,
    *,
    filter_triples: Sequence[Tensor] = (),
    progress: Progress | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> GNNTrainingResult:
    """Train `model` (in place) on `triples` of its own graph; keep the best validation MRR.

    Args:
        model: the NBFNet; its ``facts`` are the graph (usually `triples` themselves).
        triples: ``LongTensor[M, 3]`` training queries (reciprocals added here).
        valid: validation triples (filtered MRR, both directions, on ``eval_queries`` of them).
        config: the run's settings.
        filter_triples: more known true triples for filtering validation ranks.
        progress: ``progress("training nbfnet", epoch, epochs)``.
        on_epoch: called with each epoch's record (loss, seconds, valid MRR).
    """
    cfg = config or GNNTrainingConfig()
    dev = torch.device(cfg.device)
    model.to(dev)
    N, R = model.num_entities, model.num_relations
    if len(triples) == 0:
        raise InputError("nbfnet: no training triples")
    fids = fact_ids(triples, model.facts, N, R)
    ex = torch.cat([triples, torch.stack([triples[:, 2], triples[:, 1] + R, triples[:, 0]], 1)])
    ex_fid = fids.repeat(2)
    known = KnownTails([triples], N, R)
    _, _, edge_fid = model.edges(dev)
    T = cfg.adversarial_temperature

    def step(idx: Tensor) -> Tensor:
        b = ex[idx]
        drop = ex_fid[idx]
        drop = drop[drop >= 0].to(dev)
        mask = ~torch.isin(edge_fid, drop) if len(drop) else None
        scores = model(b[:, 0], b[:, 1], mask)  # (B, N)
        t = b[:, 2].to(dev)
        pos = scores.gather(1, t.view(-1, 1)).squeeze(1)
        rows, cols = known.mask(b[:, 0], b[:, 1])
        neg = torch.ones_like(scores, dtype=torch.bool)
        neg[rows.to(dev), cols.to(dev)] = False
        with torch.no_grad():
            w = torch.softmax((scores / T).masked_fill(~neg, float("-inf")), 1).nan_to_num(0.0)
        neg_loss = (w * F.logsigmoid(-scores)).masked_fill(~neg, 0.0).sum(1)
        return (-F.logsigmoid(pos) - neg_loss).mean()

    validate = None
    if valid is not None and len(valid):
        g = torch.Generator().manual_seed(cfg.seed + 1)
        vsub = valid
        if cfg.eval_queries is not None and len(valid) > cfg.eval_queries:
            vsub = valid[torch.randperm(len(valid), generator=g)[: cfg.eval_queries]]
        tt = KnownTails([triples, valid, *filter_triples], N, R)

        def validate() -> float:
            with torch.no_grad():
                return rank_metrics(filtered_ranks(model, vsub, tt, True))["mrr"]

    return _loop("nbfnet", cfg, len(ex), step, validate, model, progress, on_epoch)


def train_epignn(
    model: EpiGNN,
    queries: Sequence[RelationQuery],
    valid: Sequence[RelationQuery] = (),
    config: GNNTrainingConfig | None = None,
    *,
    progress: Progress | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> GNNTrainingResult:
    """Train `model` (in place) to name the relation of each query's two nodes.

    Args:
        model: the EpiGNN; its vocabulary's relations are the edge types and targets.
        queries: training graphs with their targets.
        valid: validation graphs (accuracy); the best epoch is kept, or a later one at most
            one validation graph less accurate (held-out accuracy saturates early while the
            composition keeps sharpening, which is what longer chains need).
        config: the run's settings (``batch_size`` graphs per step).
    """
    cfg = config or GNNTrainingConfig(epochs=30, batch_size=128, learning_rate=1e-2, weight_decay=1e-2)
    model.to(torch.device(cfg.device))
    if not queries:
        raise InputError("epignn: no training graphs")
    qs = list(queries)
    targets = model.target_ids(qs)

    def step(idx: Tensor) -> Tensor:
        batch = [qs[i] for i in idx.tolist()]
        logits = model.relation_logits(batch)
        return F.cross_entropy(logits, targets[idx].to(logits.device))

    validate = None
    if valid:
        def validate() -> float:
            return model.accuracy(valid)

    slack = (1 + 1e-9) / len(valid) if valid else 0.0
    return _loop("epignn", cfg, len(qs), step, validate, model, progress, on_epoch, slack)
