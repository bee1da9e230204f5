"""Complex-query metrics: filtered MRR and Hits@k over hard answers, per query, per type.

The protocol of BetaE / KGReasoning / FIT: a query's scores rank every entity; each **hard**
answer is ranked after removing every *other* answer (easy and hard) from the candidates, so
that it competes with non-answers only. Ties count half (mean of the optimistic and
pessimistic rank, as `nesykg.reasoners.evaluation` does): ``rank = 1 + #greater + #equal / 2``
over non-answers. MRR and Hits@k are averaged over a query's hard answers, then over the
queries of a type; easy answers never count. Every function here is pure.

>>> import numpy as np
>>> filtered_ranks(np.array([0.9, 0.8, 0.7, 0.1]), hard=[2], easy=[0]).tolist()
[2.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from nesykg.errors import InputError

__all__ = ["KS", "METRICS", "aggregate", "filtered_ranks", "format_table", "query_metrics"]

KS = (1, 3, 10)
METRICS = ("mrr", *(f"hits@{k}" for k in KS))


def filtered_ranks(scores: Any, hard: Iterable[int], easy: Iterable[int] = ()) -> np.ndarray:
    """Mean-tie rank of each hard answer among the non-answers, ``float64[len(hard)]``.

    Args:
        scores: ``[N]`` scores or truth values (numpy array, tensor or list); higher is better.
        hard: ids of the hard answers, in the order the ranks are returned.
        easy: ids of the easy answers (removed from the ranking, never ranked).
    """
    s = np.asarray(scores.cpu() if hasattr(scores, "cpu") else scores, dtype=np.float64).reshape(-1)
    hard_ids = np.fromiter((int(i) for i in hard), dtype=np.int64)
    answers = np.zeros(len(s), dtype=bool)
    answers[hard_ids] = True
    for i in easy:
        answers[int(i)] = True
    others = np.sort(s[~answers])
    target = s[hard_ids]
    greater = len(others) - np.searchsorted(others, target, side="right")
    equal = np.searchsorted(others, target, side="right") - np.searchsorted(others, target, side="left")
    return 1.0 + greater + equal / 2.0


def query_metrics(ranks: Sequence[float] | np.ndarray, ks: Sequence[int] = KS) -> dict[str, float]:
    """MRR and Hits@k of one query, averaged over its hard answers' `ranks`."""
    r = np.asarray(ranks, dtype=np.float64)
    if len(r) == 0:
        raise InputError("a query needs at least one hard answer to be scored")
    out = {"mrr": float(np.mean(1.0 / r))}
    for k in ks:
        out[f"hits@{k}"] = float(np.mean(r <= k))
    return out


def aggregate(per_query: Iterable[tuple[str, Mapping[str, float]]]) -> dict[str, dict[str, float]]:
    """Mean of each metric per type, with ``count``; an ``average`` row over the types' means.

    Args:
        per_query: ``(type, metrics)`` pairs, e.g. from `query_metrics`.
    """
    groups: dict[str, list[Mapping[str, float]]] = {}
    for name, m in per_query:
        groups.setdefault(name, []).append(m)
    out: dict[str, dict[str, float]] = {}
    for name, ms in groups.items():
        keys = list(ms[0])
        out[name] = {k: float(np.mean([m[k] for m in ms])) for k in keys}
        out[name]["count"] = len(ms)
    if out:
        keys = [k for k in next(iter(out.values())) if k != "count"]
        out["average"] = {k: float(np.mean([v[k] for v in out.values()])) for k in keys}
        out["average"]["count"] = sum(int(v["count"]) for k, v in out.items() if k != "average")
    return out


def format_table(per_type: Mapping[str, Mapping[str, float]], columns: Sequence[str] = (*METRICS, "count")) -> str:
    """A plain-text table, one row per type (a missing value prints as ``n/a``)."""
    head = ["type", *columns]
    rows = [head]
    for name, m in per_type.items():
        cells = [name]
        for c in columns:
            v = m.get(c)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("n/a")
            elif c == "count" or isinstance(v, int):
                cells.append(str(int(v)))
            else:
                cells.append(f"{v:.4f}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows
    )
