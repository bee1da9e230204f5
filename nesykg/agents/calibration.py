"""A link predictor trained when a workspace is opened, with confidences calibrated on held-out edges.

`train_calibrated` trains the model twice, seeded and bounded (`TRAIN_DEFAULTS`): once on a
graph without a held-out share of its edges (`HOLDOUT`, at most `MAX_HELD`), to measure on
them how often the model's top predictions of ``(h, r, ?)`` and ``(?, r, t)`` (edges it saw
left out) are right as a function of their truth value (an isotonic, pool-adjacent-violators
fit of correctness on truth), and once on every edge: the model served. The map
(`Calibration`) turns the served model's truth values into confidences, so the write threshold
means what it says for the model too: on a graph where its top guesses are right one time in
ten, so are its confidences. (Serving the held-out model instead costs answers: on PQ-2H with
30% of gold-path triples removed, a model trained without 2-5% of the edges answered 0.60-0.65
where the one trained on all answered 0.69.)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.base import LinkPredictor

__all__ = ["HOLDOUT", "MAX_HELD", "TRAIN_DEFAULTS", "Calibration", "train_calibrated"]

TRAIN_DEFAULTS: dict[str, Any] = {"dim": 64, "epochs": 30, "mode": "kvsall", "batch_size": 128, "seed": 0, "eval_every": 0}
"""Settings of a link predictor trained at open time (`TrainingConfig` fields): seconds on a few
thousand edges."""
HOLDOUT = 0.05
"""Share of the edges held out to calibrate the model on."""
MAX_HELD = 500
"""Most edges held out."""
TOP = 3
"""Predictions per held-out query the calibration sees."""


@dataclass(frozen=True)
class Calibration:
    """A monotone step map from truth values to the share of predictions that were right.

    Attributes:
        thresholds: ascending truth values where a step starts.
        values: the confidence from each threshold on (non-decreasing).
        samples: held-out predictions it was fitted on.
    """

    thresholds: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    samples: int = 0

    def __call__(self, truth: float) -> float:
        """The confidence of a prediction with this truth value (0 without samples)."""
        i = bisect.bisect_right(self.thresholds, truth) - 1
        return self.values[i] if i >= 0 else (self.values[0] if self.values else 0.0)

    @classmethod
    def fit(cls, pairs: list[tuple[float, bool]]) -> Calibration:
        """Isotonic fit (pool adjacent violators) of correctness on truth."""
        blocks: list[list[float]] = []  # [start truth, sum correct, count]
        for truth, ok in sorted(pairs):
            blocks.append([truth, float(ok), 1.0])
            while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
                last = blocks.pop()
                blocks[-1][1] += last[1]
                blocks[-1][2] += last[2]
        return cls(tuple(b[0] for b in blocks), tuple(b[1] / b[2] for b in blocks), len(pairs))


def train_calibrated(kg: TensorKG, model: str, seed: int = 0) -> tuple[LinkPredictor, Calibration]:
    """`model` trained on all of `kg`'s train edges, and its calibration measured with a copy trained
    without a held-out share of them."""
    import torch

    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.config import TrainingConfig
    from nesykg.reasoners.training import train

    edges = kg.triples("train")
    n_held = min(MAX_HELD, int(len(edges) * HOLDOUT))
    perm = torch.randperm(len(edges), generator=torch.Generator().manual_seed(seed))
    held, kept = edges[perm[:n_held]], edges[perm[n_held:]]
    sub = TensorKG(kg.vocab, {"train": kept}, kg.name)
    config = TrainingConfig(model=model, **{**TRAIN_DEFAULTS, "seed": seed})
    served, _ = train(kg, config)
    if not n_held:
        return served, Calibration()
    predictor, _ = train(sub, config)
    r_all = predictor.num_relations
    seen: dict[tuple[int, int], set[int]] = {}
    for h, r, t in kept.tolist():
        seen.setdefault((h, r), set()).add(t)
        seen.setdefault((t, r + r_all), set()).add(h)
    truth: dict[tuple[int, int], set[int]] = {}
    for h, r, t in held.tolist():
        truth.setdefault((h, r), set()).add(t)
        truth.setdefault((t, r + r_all), set()).add(h)
    queries = sorted(truth)
    pairs: list[tuple[float, bool]] = []
    with torch.no_grad():
        for i in range(0, len(queries), 256):
            batch = queries[i : i + 256]
            heads = torch.tensor([q[0] for q in batch])
            rels = torch.tensor([q[1] for q in batch])
            values = predictor.truth_tails(heads, rels)
            for row, q in zip(values, batch):
                for e in seen.get(q, ()):
                    row[e] = -1.0  # edges it trained on are not predictions
                top = torch.topk(row, TOP)
                pairs.extend((float(v), int(e) in truth[q]) for v, e in zip(top.values, top.indices) if v >= 0)
    return served, Calibration.fit(pairs)
