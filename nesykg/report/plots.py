"""The report's plots: each takes the runs (with their labels) and returns a matplotlib figure,
or ``None`` when the runs hold no data for it.

Every function imports matplotlib itself, with the Agg backend (`_pyplot`), so importing
this module costs nothing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

from nesykg.runs import RunResult

__all__ = ["PLOTS", "Labelled", "figure_png"]

Labelled = Sequence[tuple[str, RunResult]]
LP_METRICS = ("mrr", "hits@1", "hits@3", "hits@10")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display: render to PNG only
    import matplotlib.pyplot as plt

    return plt


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return None if math.isnan(float(x)) else float(x)


def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    import io

    plt = _pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _grouped_bars(ax: Any, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> None:
    """Bars of each series side by side within each group; a missing value leaves a gap."""
    n = max(1, len(series))
    width = 0.8 / n
    for i, (name, values) in enumerate(series):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        pts = [(x, v) for x, v in zip(xs, values) if v is not None]
        if pts:
            ax.bar([p[0] for p in pts], [p[1] for p in pts], width, label=name)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=30 if len(groups) > 6 else 0, ha="right" if len(groups) > 6 else "center")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)


# ------------------------------------------------------------------ training curves
def training_curves(runs: Labelled) -> Any | None:
    """Loss and validation MRR (or accuracy) per epoch, one line per training run."""
    curves = []
    for label, run in runs:
        rows = [h for h in run.history if _number(h.get("epoch")) is not None]
        loss = [(h["epoch"], _number(h.get("loss"))) for h in rows]
        loss = [(e, v) for e, v in loss if v is not None]
        valid = [(h["epoch"], _number(h.get("valid_mrr", h.get("valid_accuracy")))) for h in rows]
        valid = [(e, v) for e, v in valid if v is not None]
        if loss or valid:
            curves.append((label, loss, valid))
    if not curves:
        return None
    has_valid = any(v for _, _, v in curves)
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2 if has_valid else 1, figsize=(10 if has_valid else 6, 3.6), squeeze=False)
    ax = axes[0][0]
    for label, loss, _ in curves:
        if loss:
            ax.plot([e for e, _ in loss], [v for _, v in loss], marker="o", markersize=3, label=label)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if has_valid:
        ax = axes[0][1]
        for label, _, valid in curves:
            if valid:
                ax.plot([e for e, _ in valid], [v for _, v in valid], marker="o", markersize=3, label=label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title("validation MRR (accuracy for EpiGNN)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("MRR")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ link prediction
def linkpred_split(run: RunResult) -> tuple[str, dict[str, float]] | None:
    """The link-prediction metrics of a run: its ``test`` split, else ``valid``, else ``None``."""
    for split in ("test", "valid"):
        m = run.metrics.get(split)
        if isinstance(m, dict) and _number(m.get("mrr")) is not None:
            return split, {k: float(m[k]) for k in LP_METRICS if _number(m.get(k)) is not None}
    return None


def linkpred_metrics(runs: Labelled) -> Any | None:
    """Filtered MRR and Hits@1/3/10 of every run with link-prediction metrics (test, else valid)."""
    rows = []
    for label, run in runs:
        found = linkpred_split(run)
        if found is not None:
            split, m = found
            rows.append((f"{label} ({split})", m))
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(LP_METRICS) + 0.4 * len(rows)), 3.6))
    _grouped_bars(ax, list(LP_METRICS), [(label, [m.get(k) for k in LP_METRICS]) for label, m in rows])
    ax.set_ylim(0, 1.05)
    ax.set_title("link prediction (filtered, both directions)")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ complex queries
def cqa_mrr_by_type(runs: Labelled) -> Any | None:
    """MRR per query type, one bar per ``cqa eval`` run (reasoner)."""
    rows = []
    for label, run in runs:
        per_type = run.metrics.get("per_type")
        if not isinstance(per_type, dict):
            continue
        mrr = {t: _number(m.get("mrr")) for t, m in per_type.items() if isinstance(m, dict)}
        mrr = {t: v for t, v in mrr.items() if v is not None}
        if mrr:
            reasoner = run.metrics.get("reasoner") or run.config.get("reasoner") or ""
            rows.append((f"{reasoner} ({label})" if reasoner else label, mrr))
    if not rows:
        return None
    types = sorted({t for _, m in rows for t in m if t != "average"}, key=_structure_order)
    if any("average" in m for _, m in rows):
        types.append("average")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(types) * max(1, len(rows)) + 2), 3.6))
    _grouped_bars(ax, types, [(label, [m.get(t) for t in types]) for label, m in rows])
    ax.set_ylabel("MRR (hard answers)")
    ax.set_title("complex queries: MRR per query type")
    fig.tight_layout()
    return fig


def _structure_order(name: str) -> tuple[int, str]:
    order = ["1p", "2p", "3p", "2i", "3i", "pi", "ip", "2in", "3in", "inp", "pin", "pni", "2u", "up"]
    return (order.index(name), name) if name in order else (len(order), name)


# ------------------------------------------------------------------ agent
def _agent_records(run: RunResult) -> list[dict[str, Any]]:
    return [r for r in run.records if isinstance(r, dict) and "hit" in r]


def agent_hits_by_hops(runs: Labelled) -> Any | None:
    """Agent Hits@1 by the hop count of the question's gold path, one bar per agent run."""
    rows = []
    for label, run in runs:
        by: dict[int, list[bool]] = {}
        for r in _agent_records(run):
            hops = _number(r.get("hops"))
            if hops is not None and hops > 0:
                by.setdefault(int(hops), []).append(bool(r["hit"]))
        if by:
            rows.append((label, {h: sum(v) / len(v) for h, v in by.items()}))
    if not rows:
        return None
    hops = sorted({h for _, m in rows for h in m})
    groups = [f"{h} hop{'s' if h > 1 else ''}" for h in hops]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    _grouped_bars(ax, groups, [(label, [m.get(h) for h in hops]) for label, m in rows])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("Hits@1")
    ax.set_title("agent: Hits@1 by hop count")
    fig.tight_layout()
    return fig


def _share_bucket(x: float) -> str:
    if x <= 0:
        return "0%"
    if x >= 1:
        return "100%"
    return "1-49%" if x < 0.5 else "50-99%"


SHARE_BUCKETS = ("0%", "1-49%", "50-99%", "100%")


def agent_hits_by_removed(runs: Labelled) -> Any | None:
    """Agent Hits@1 by the share of the question's gold-path triples removed from the KB
    (per-question records); without them, Hits@1 of each agent run at its ``drop`` setting."""
    rows = []
    for label, run in runs:
        by: dict[str, list[bool]] = {}
        for r in _agent_records(run):
            share = _number(r.get("removed_share"))
            if share is not None:
                by.setdefault(_share_bucket(share), []).append(bool(r["hit"]))
        if by:
            rows.append((label, {b: sum(v) / len(v) for b, v in by.items()}))
    if rows:
        plt = _pyplot()
        buckets = [b for b in SHARE_BUCKETS if any(b in m for _, m in rows)]
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        _grouped_bars(ax, buckets, [(label, [m.get(b) for b in buckets]) for label, m in rows])
        ax.set_xlabel("share of the question's gold-path triples removed from the KB")
    else:
        pts = []
        for label, run in runs:
            drop = _number(run.config.get("drop", run.config.get("drop_path_triples")))
            hits = _number(run.metrics.get("hits_at_1"))
            if drop is not None and hits is not None and run.command.startswith("agent"):
                pts.append((drop, hits, label))
        if not pts:
            return None
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o")
        for x, y, label in pts:
            ax.annotate(label, (x, y), fontsize="x-small", textcoords="offset points", xytext=(3, 3))
        ax.set_xlabel("share of gold-path triples removed (--drop-path-triples)")
        ax.grid(alpha=0.3)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("Hits@1")
    ax.set_title("agent: Hits@1 by share of removed triples")
    fig.tight_layout()
    return fig


def written_triples(run: RunResult) -> list[tuple[float, bool]]:
    """``(confidence, correct)`` of every triple the run wrote back: from ``writes`` (entries with
    ``written`` true, or all when the key is absent), else from each record's ``written`` list."""
    out: list[tuple[float, bool]] = []
    for w in run.writes:
        c = _number(w.get("confidence"))
        if c is not None and "correct" in w and w.get("written", True):
            out.append((c, bool(w["correct"])))
    if run.writes:
        return out
    for r in run.records:
        for w in r.get("written") or ():
            if isinstance(w, dict):
                c = _number(w.get("confidence"))
                if c is not None and "correct" in w:
                    out.append((c, bool(w["correct"])))
    return out


CONF_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0000001)


def writeback_calibration(runs: Labelled) -> Any | None:
    """Precision of the written triples (a held-out fact) against their confidence, in bins;
    the diagonal is perfect calibration, the marker size the number of triples."""
    rows = []
    for label, run in runs:
        pairs = written_triples(run)
        if not pairs:
            continue
        pts = []
        for lo, hi in itertools.pairwise(CONF_BINS):
            inside = [(c, ok) for c, ok in pairs if lo <= c < hi]
            if inside:
                pts.append((sum(c for c, _ in inside) / len(inside), sum(ok for _, ok in inside) / len(inside), len(inside)))
        rows.append((label, pts, len(pairs)))
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    for label, pts, n in rows:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{label} ({n} written)")
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=[20 + 12 * p[2] for p in pts], alpha=0.35)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("write-back confidence (bin mean)")
    ax.set_ylabel("precision (share held-out facts)")
    ax.set_title("agent: write-back calibration")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ rules
def rules_by_kind(runs: Labelled) -> Any | None:
    """Rules mined by kind (path rules by body length, rules with constants), per mining run."""
    rows = []
    for label, run in runs:
        kinds = run.metrics.get("by_kind")
        if run.command == "rules mine" and isinstance(kinds, dict) and kinds:
            rows.append((label, {k: float(v) for k, v in kinds.items() if _number(v) is not None}))
    if not rows:
        return None
    kinds = sorted({k for _, m in rows for k in m})
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    _grouped_bars(ax, kinds, [(label, [m.get(k) for k in kinds]) for label, m in rows])
    ax.set_ylabel("rules")
    ax.set_title("rules mined, by kind")
    fig.tight_layout()
    return fig


# id -> (title, function), in the report's order
PLOTS: dict[str, tuple[str, Callable[[Labelled], Any | None]]] = {
    "training-curves": ("Training curves: loss and validation MRR per epoch", training_curves),
    "linkpred-metrics": ("Link prediction: filtered MRR and Hits@k across runs", linkpred_metrics),
    "cqa-mrr-by-type": ("Complex queries: MRR per query type across reasoners", cqa_mrr_by_type),
    "agent-hits-by-hops": ("Agent: Hits@1 by hop count", agent_hits_by_hops),
    "agent-hits-by-removed": ("Agent: Hits@1 by share of removed triples", agent_hits_by_removed),
    "writeback-calibration": ("Agent: write-back confidence against precision", writeback_calibration),
    "rules-by-kind": ("Rules mined, by kind", rules_by_kind),
}
