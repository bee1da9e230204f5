"""Training embedding link predictors: 1-vs-all cross-entropy with reciprocal relations.

Following Lacroix et al. (2018, https://arxiv.org/abs/1806.07297): every training triple
``(h, r, t)`` also yields ``(t, r + R, h)``; each example scores *all* entities as tails
and the loss is the softmax cross-entropy of the true tail, plus (for ComplEx, DistMult)
the weighted N3 regulariser ``w * mean_batch(sum |x|^3)`` of the head, relation and tail
factors. ``mode="kvsall"`` instead groups examples by ``(h, r)`` with all known tails as a
normalised multi-hot target, as PyKEEN's LCWA loop does (then, as in PyKEEN, the tail
factor of N3 is the whole entity table).

Determinism: one seeded ``torch.Generator`` initialises the model and shuffles the data,
so a CPU run is repeatable bit for bit, and resuming restores the generator's state.

Memory: a training step holds ``batch_size x N`` scores (and their gradient); choose the
batch size so that ``3 * 4 * batch_size * N`` bytes fit. Validation is bounded like
`nesykg.reasoners.evaluation.filtered_ranks` (``max_floats`` scores per call).
"""

from __future__ import annotations

import copy
import math
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from nesykg.errors import InputError, TrainingError
from nesykg.kg.tensor import TensorKG
from nesykg.kg.vocab import Vocabulary
from nesykg.progress import Progress
from nesykg.reasoners.checkpoint import atomic_save, atomic_write_text, read_config, write_config
from nesykg.reasoners.config import EpochReport, TrainingConfig, TrainingResult
from nesykg.reasoners.embeddings.base import WEIGHTS_FILE, EmbeddingModel
from nesykg.reasoners.evaluation import TrueTails, filtered_ranks, rank_metrics
from nesykg.reasoners.registry import get_model_class

__all__ = ["train", "build_model", "make_optimizer", "TrainingExamples"]

#: config fields that may change when a run is resumed (they do not alter the trajectory)
_RESUMABLE_CHANGES = {"epochs", "device", "patience", "eval_batch_size"}


def _git_hash() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def with_reciprocals(triples: Tensor, num_relations: int) -> Tensor:
    """``[M, 3] -> [2M, 3]``: each triple followed (block-wise) by ``(t, r + R, h)``."""
    recip = torch.stack([triples[:, 2], triples[:, 1] + num_relations, triples[:, 0]], 1)
    return torch.cat([triples, recip])


class TrainingExamples:
    """Training examples of one mode, batched by a seeded permutation.

    ``1vsall``: rows are triples (with reciprocals). ``kvsall``: rows are distinct
    ``(h, r)`` pairs; `targets` gives the ``(row, tail)`` pairs of a batch (CSR lookup).
    """

    def __init__(self, triples: Tensor, num_entities: int, num_relations: int, mode: str):
        self.mode = mode
        self.num_entities = num_entities
        x = with_reciprocals(triples, num_relations)
        if mode == "1vsall":
            self.rows = x
            return
        x = torch.unique(x, dim=0)  # sorted by (h, r, t)
        r2 = 2 * num_relations
        keys = x[:, 0] * r2 + x[:, 1]
        uniq, counts = torch.unique_consecutive(keys, return_counts=True)
        self.rows = torch.stack([uniq // r2, uniq % r2], 1)
        self._starts = torch.cumsum(counts, 0) - counts
        self._counts = counts
        self._tails = x[:, 2].contiguous()

    def __len__(self) -> int:
        return len(self.rows)

    def multi_hot(self, idx: Tensor, device: torch.device) -> Tensor:
        """Normalised multi-hot targets ``[B, N]`` of grouped rows `idx`."""
        counts = self._counts[idx]
        rows = torch.repeat_interleave(torch.arange(len(idx)), counts)
        offsets = torch.arange(int(counts.sum())) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        cols = self._tails[torch.repeat_interleave(self._starts[idx], counts) + offsets]
        y = torch.zeros(len(idx), self.num_entities, device=device)
        y[rows.to(device), cols.to(device)] = 1.0
        return y / counts.to(device=device, dtype=y.dtype).unsqueeze(1)


def build_model(config: TrainingConfig, vocab: Vocabulary, generator: torch.Generator) -> EmbeddingModel:
    """The model of `config` over `vocab`, initialised from `generator` (on the CPU, for determinism).

    Raises:
        InputError: the model is not trained by gradient descent (e.g. ``rules``), or it
            has no N3 regulariser and ``n3_weight > 0``.
    """
    cls = get_model_class(config.model)
    if not (isinstance(cls, type) and issubclass(cls, EmbeddingModel)):
        raise InputError(f"model {config.model!r} is not an embedding model, which is all train() trains")
    if config.model_config.n3_weight > 0 and not cls.supports_n3:
        raise InputError(f"model {config.model!r} has no N3 regulariser; set n3_weight to 0")
    return cls(vocab, config.model_config, generator=generator)


def make_optimizer(config: TrainingConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(model.parameters(), lr=config.learning_rate)
    return torch.optim.Adam(model.parameters(), lr=config.learning_rate)


def _loss(model: EmbeddingModel, ex: TrainingExamples, idx: Tensor, config: TrainingConfig, dev: torch.device) -> Tensor:
    rows = ex.rows[idx].to(dev)
    h, r = rows[:, 0], rows[:, 1]
    scores = model.score_tails(h, r)  # (B, N)
    if ex.mode == "1vsall":
        t: Tensor | None = rows[:, 2]
        loss = F.cross_entropy(scores, t)
    else:
        t = None
        loss = F.cross_entropy(scores, ex.multi_hot(idx, dev))
    n3 = config.model_config.n3_weight
    if n3 > 0:
        loss = loss + n3 * sum(x.sum(-1).mean() for x in model.n3_terms(h, r, t))
    return loss


def _validate(model: EmbeddingModel, triples: Tensor, true_tails: TrueTails, config: TrainingConfig) -> dict[str, float]:
    model.eval()
    try:
        return rank_metrics(filtered_ranks(model, triples, true_tails, True, config.eval_batch_size))
    finally:
        model.train()


def _check_resumable(saved: dict[str, Any], config: TrainingConfig, out: Path) -> None:
    now = config.to_dict()
    diff = sorted(k for k in now if k not in _RESUMABLE_CHANGES and saved.get(k) != now[k])
    if diff:
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in diff)
        raise InputError(
            f"{out} holds an interrupted run with another configuration ({details}); "
            "choose another output folder or start afresh (resume=False / --no-resume)"
        )


def train(
    kg: TensorKG,
    config: TrainingConfig,
    out: str | Path | None = None,
    *,
    on_epoch: Callable[[EpochReport], None] | None = None,
    resume: bool = True,
    dataset: str | None = None,
    progress: Progress | None = None,
) -> tuple[EmbeddingModel, TrainingResult]:
    """Train `config.model` on ``kg``'s train split; validate on ``valid``; keep the best.

    Args:
        kg: the graph; ``train`` is required, ``valid`` drives early stopping and model
            selection, and ``valid``/``test`` are evaluated at the end (filtered, both
            directions) when present.
        config: the run's configuration.
        out: checkpoint folder (see `nesykg.reasoners.checkpoint`); ``None`` keeps
            everything in memory. A resumable state is saved after every epoch.
        on_epoch: called with an `EpochReport` after every epoch (loss, validation MRR).
        progress: `nesykg.progress.Progress`, called as ``progress("training MODEL",
            epoch, epochs)`` after every epoch (and with the epochs already done first),
            then ``progress("evaluating", done, total)`` over the final evaluation's queries.
        resume: continue from ``out/state.pt`` when it exists (same configuration and
            vocabulary required).
        dataset: dataset name recorded in the result (default: ``kg.name``).

    Returns:
        ``(model, result)``: the best model (``model.vocab`` set) and the `TrainingResult`.

    Raises:
        TrainingError: the loss became NaN or infinite (naming epoch and batch).
        VocabularyMismatchError: `out` holds a run over another vocabulary.
    """
    t_start = time.perf_counter()
    dataset = dataset or kg.name
    dev = torch.device(config.device)
    train_triples = kg.triples("train")
    if len(train_triples) == 0:
        raise InputError("the training split is empty")
    valid = kg.splits.get("valid", torch.empty(0, 3, dtype=torch.long))
    test = kg.splits.get("test", torch.empty(0, 3, dtype=torch.long))
    true_tails = TrueTails([train_triples, valid, test], kg.num_entities, kg.num_relations)
    gen = torch.Generator().manual_seed(config.seed)
    model = build_model(config, kg.vocab, gen).to(dev)
    opt = make_optimizer(config, model)
    ex = TrainingExamples(train_triples, kg.num_entities, kg.num_relations, config.mode)

    start_epoch, history = 1, []
    best_mrr: float | None = None
    best_epoch, bad_evals, stopped_early = 0, 0, False
    best_state: dict[str, Tensor] | None = None
    train_seconds = eval_seconds = 0.0
    folder = Path(out) if out is not None else None
    if folder is not None:
        state_path = folder / "state.pt"
        if resume and state_path.is_file():
            kg.vocab.check_same(Vocabulary.load(folder), what=f"run in {folder}")
            saved_cfg, _ = read_config(folder)
            _check_resumable(saved_cfg.to_dict(), config, folder)
            st = torch.load(state_path, map_location="cpu", weights_only=True)  # RNG state must stay on the CPU
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
            gen.set_state(st["rng"])
            start_epoch = st["epoch"] + 1
            best_mrr, best_epoch, bad_evals = st["best_mrr"], st["best_epoch"], st["bad_evals"]
            best_state, history = st["best_state"], st["history"]
            stopped_early = st["stopped_early"]
            train_seconds, eval_seconds = st["train_seconds"], st["eval_seconds"]
        write_config(folder, config, kg.vocab, dataset)

    stage = f"training {config.model}"
    if progress is not None:
        progress(stage, start_epoch - 1, config.epochs)
    model.train()
    for epoch in range(start_epoch, config.epochs + 1):
        if stopped_early:
            break
        t0 = time.perf_counter()
        perm = torch.randperm(len(ex), generator=gen)
        total, nb = 0.0, 0
        for b, i in enumerate(range(0, len(ex), config.batch_size), 1):
            idx = perm[i : i + config.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = _loss(model, ex, idx, config, dev)
            lval = float(loss.detach())
            if not math.isfinite(lval):
                raise TrainingError(
                    f"the loss became {lval} at epoch {epoch}, batch {b}; "
                    "lower the learning rate or the init_std, or raise n3_weight"
                )
            loss.backward()
            opt.step()
            total += lval
            nb += 1
        epoch_loss = total / max(nb, 1)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        seconds = time.perf_counter() - t0
        train_seconds += seconds

        valid_mrr = None
        if config.eval_every and len(valid) and epoch % config.eval_every == 0:
            t1 = time.perf_counter()
            valid_mrr = _validate(model, valid, true_tails, config)["mrr"]
            eval_seconds += time.perf_counter() - t1
            if best_mrr is None or valid_mrr > best_mrr:
                best_mrr, best_epoch, bad_evals = valid_mrr, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if folder is not None:
                    atomic_save(best_state, folder / WEIGHTS_FILE)
            else:
                bad_evals += 1
                stopped_early = config.patience > 0 and bad_evals >= config.patience
        history.append({"epoch": epoch, "loss": epoch_loss, "seconds": seconds, "valid_mrr": valid_mrr})
        if folder is not None:
            atomic_save(
                {
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "rng": gen.get_state(),
                    "best_mrr": best_mrr,
                    "best_epoch": best_epoch,
                    "bad_evals": bad_evals,
                    "best_state": best_state,
                    "history": history,
                    "stopped_early": stopped_early,
                    "train_seconds": train_seconds,
                    "eval_seconds": eval_seconds,
                },
                folder / "state.pt",
            )
        if on_epoch is not None:
            on_epoch(EpochReport(epoch, config.epochs, epoch_loss, seconds, valid_mrr, best_mrr, best_epoch))
        if progress is not None:
            progress(stage, epoch, config.epochs)

    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch = len(history)
    model.eval()
    metrics = {}
    for split, triples in (("valid", valid), ("test", test)):
        if len(triples):
            bs = config.eval_batch_size
            ranks = filtered_ranks(model, triples, true_tails, True, bs, progress=progress)
            metrics[split] = rank_metrics(ranks)
    import nesykg

    epochs_done = len(history)
    result = TrainingResult(
        seed=config.seed,
        config=copy.deepcopy(config),
        dataset=dataset,
        metrics=metrics,
        best_epoch=best_epoch,
        epochs_completed=epochs_done,
        stopped_early=stopped_early,
        history=history,
        timings={
            "train_seconds": train_seconds,
            "seconds_per_epoch": train_seconds / max(epochs_done, 1),
            "eval_seconds": eval_seconds,
            "total_seconds": time.perf_counter() - t_start,
        },
        version=nesykg.__version__,
        git_hash=_git_hash(),
    )
    if folder is not None:
        model.save_state(folder)
        import json

        atomic_write_text(folder / "metrics.json", json.dumps(result.to_dict(), indent=2))
    return model, result
