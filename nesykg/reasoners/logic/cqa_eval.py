"""`evaluate_queries`: a reasoner on sampled queries, filtered metrics and latency per type.

>>> report = evaluate_queries(FIT(model, graph=observed), read_queries_jsonl("q.jsonl"))  # doctest: +SKIP
>>> print(report.table())

Each query is answered alone (ad hoc, as a user would), timed, and ranked with
`nesykg.reasoners.logic.metrics`. A structure the reasoner refuses (CQD-beam and cycles) is
reported under `CQAReport.refused` instead of failing the run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nesykg.errors import UnsupportedCapabilityError
from nesykg.progress import Progress, Stages
from nesykg.reasoners.logic.metrics import METRICS, aggregate, filtered_ranks, format_table, query_metrics

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.datasets.queries import SampledQuery

__all__ = ["CQAReport", "evaluate_queries"]


@dataclass
class CQAReport:
    """Metrics per query type.

    Attributes:
        reasoner: the reasoner's name.
        metrics: type -> ``{"mrr", "hits@1", "hits@3", "hits@10", "count"}``, plus ``average``.
        latency_ms: type -> ``{"p50", "p95"}`` milliseconds per query.
        refused: type -> why the reasoner refused it.
        seconds: wall time of the whole run.
    """

    reasoner: str
    metrics: dict[str, dict[str, float]]
    latency_ms: dict[str, dict[str, float]]
    refused: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "reasoner": self.reasoner,
            "metrics": self.metrics,
            "latency_ms": self.latency_ms,
            "refused": self.refused,
            "seconds": self.seconds,
        }

    def rows(self) -> dict[str, dict[str, Any]]:
        """Type -> metrics with latency columns (refused types with ``n/a``)."""
        out: dict[str, dict[str, Any]] = {}
        for name, m in self.metrics.items():
            lat = self.latency_ms.get(name, {})
            out[name] = {**m, "p50 ms": lat.get("p50"), "p95 ms": lat.get("p95")}
        for name in self.refused:
            out[name] = {"count": 0}
        return out

    def table(self) -> str:
        """A plain-text table (refused types say ``n/a``)."""
        text = format_table(self.rows(), (*METRICS, "count", "p50 ms", "p95 ms"))
        if self.refused:
            text += "\nrefused: " + "; ".join(f"{k} ({v})" for k, v in self.refused.items())
        return text


def evaluate_queries(
    reasoner: Any, queries: Sequence[SampledQuery], progress: Progress | None = None
) -> CQAReport:
    """Filtered MRR / Hits@k over hard answers and latency, per structure.

    Args:
        reasoner: a built reasoner (`nesykg.reasoners.logic.answer.make_reasoner`).
        queries: sampled queries; those without a hard answer are skipped, ad-hoc ones
            (``structure`` None) are reported as ``adhoc``.
        progress: ``progress("answering", done, total)``.

    Raises:
        UnknownNameError: an answer or constant not in the predictor's vocabulary.
    """
    vocab = reasoner.predictor.vocab
    stage = Stages(progress, "answering", len(queries))
    per_query: list[tuple[str, dict[str, float]]] = []
    times: dict[str, list[float]] = {}
    refused: dict[str, str] = {}
    t_all = time.perf_counter()
    for q in queries:
        name = q.structure or "adhoc"
        stage.advance()
        if not q.hard or name in refused:
            continue
        resolved = reasoner.resolve(q.formula)
        hard = [vocab.entity_id(e) for e in sorted(q.hard)]
        easy = [vocab.entity_id(e) for e in sorted(q.easy)]
        t0 = time.perf_counter()
        try:
            scores = reasoner.scores(resolved)
        except UnsupportedCapabilityError as e:
            refused[name] = str(e)
            continue
        times.setdefault(name, []).append(time.perf_counter() - t0)
        per_query.append((name, query_metrics(filtered_ranks(scores, hard, easy))))
    latency = {
        k: {"p50": float(np.percentile(v, 50) * 1000), "p95": float(np.percentile(v, 95) * 1000)}
        for k, v in times.items()
    }
    return CQAReport(reasoner.name, aggregate(per_query), latency, refused, time.perf_counter() - t_all)
