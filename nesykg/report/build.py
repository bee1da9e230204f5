"""`build_report`: run directories in, one HTML file (or Markdown with PNGs) out."""

from __future__ import annotations

import base64
import html
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nesykg.errors import InputError
from nesykg.progress import Progress
from nesykg.report.plots import PLOTS, figure_png, linkpred_split
from nesykg.runs import RunResult

__all__ = ["build_report", "load_runs", "ReportResult", "PLOT_TITLES", "config_table", "config_groups"]

Format = Literal["html", "md"]


# plot id -> title, in the report's order
PLOT_TITLES: dict[str, str] = {k: title for k, (title, _) in PLOTS.items()}


@dataclass
class ReportResult:
    """What `build_report` wrote.

    Attributes:
        out: the report file.
        format: ``html`` or ``md``.
        plots: ids of the plots drawn, in order (see `nesykg.report.plots.PLOTS`).
        omitted: ids of the plots left out for want of data in these runs.
        runs: the runs' labels, in the order given.
        images: PNG files written beside a Markdown report (none for HTML).
    """

    out: Path
    format: str
    plots: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "format": self.format, "plots": self.plots, "omitted": self.omitted,
                "runs": self.runs, "images": [str(p) for p in self.images]}


def load_runs(paths: Sequence[str | Path]) -> list[RunResult]:
    """`RunResult.load` of each path (a run directory or a checkpoint folder with ``run/``).

    Raises:
        InputError: no path, or one that is not a readable run directory.
    """
    if not paths:
        raise InputError("give at least one run directory")
    return [RunResult.load(p) for p in paths]


def _labels(runs: Sequence[RunResult]) -> list[str]:
    """Each run's name, made unique with ``#2``, ``#3``... where two runs share one."""
    seen: dict[str, int] = {}
    out = []
    for r in runs:
        name = r.name
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return out


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _cell(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


MISSING = "–"


def config_table(runs: Sequence[RunResult]) -> tuple[list[str], list[tuple[str, list[str], bool]]]:
    """The runs' configs side by side: ``(keys, rows)``, each row ``(key, cells, differs)``.

    Nested values are flattened (``model_config.dim``); a key a run lacks shows ``–``;
    `differs` is true when the runs do not all have the same value."""
    flat = [_flatten(r.config) for r in runs]
    keys: list[str] = []
    for f in flat:
        keys.extend(k for k in f if k not in keys)
    rows = []
    for k in keys:
        cells = [_cell(f[k]) if k in f else MISSING for f in flat]
        rows.append((k, cells, len(set(cells)) > 1))
    return keys, rows


def config_groups(runs: Sequence[RunResult], labels: Sequence[str]) -> list[tuple[str, list[str], list[tuple[str, list[str], bool]]]]:
    """One `config_table` per command, in the order the commands first appear:
    ``(command, the runs' labels, rows)`` (runs of one command share their options)."""
    order: list[str] = []
    for r in runs:
        if r.command not in order:
            order.append(r.command)
    out = []
    for cmd in order:
        idx = [i for i, r in enumerate(runs) if r.command == cmd]
        _, rows = config_table([runs[i] for i in idx])
        out.append((cmd, [labels[i] for i in idx], rows))
    return out


def _headline(run: RunResult) -> str:
    """The run's main figure, in a few words."""
    m = run.metrics
    found = linkpred_split(run)
    if found is not None:
        split, lp = found
        return f"{split} MRR {lp['mrr']:.3f}, Hits@10 {lp.get('hits@10', float('nan')):.3f}"
    per_type = m.get("per_type")
    if isinstance(per_type, dict) and isinstance(per_type.get("average"), dict):
        return f"average MRR {per_type['average'].get('mrr', 0):.3f} over {len(per_type) - 1} query types"
    if isinstance(m.get("hits_at_1"), (int, float)):
        text = f"Hits@1 {m['hits_at_1']:.3f}"
        prec = m.get("writeback_precision")
        return text + (f", write-back precision {prec:.3f}" if isinstance(prec, (int, float)) else "")
    if isinstance(m.get("rules"), int):
        return f"{m['rules']} rules"
    return ""


def _summary_rows(runs: Sequence[RunResult], labels: Sequence[str]) -> list[list[str]]:
    rows = []
    for label, r in zip(labels, runs):
        secs = r.timings.get("total_seconds")
        rows.append([
            label, r.command, r.status, r.started or MISSING,
            f"{secs:.1f} s" if isinstance(secs, (int, float)) else MISSING,
            _headline(r) or MISSING, (r.git_hash or "null")[:10],
            f"{r.versions.get('nesykg') or '?'} / torch {r.versions.get('torch') or '?'}",
        ])
    return rows


SUMMARY_HEAD = ["run", "command", "status", "started (UTC)", "time", "result", "git", "nesykg / torch"]


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def build_report(
    runs: Sequence[str | Path | RunResult],
    out: str | Path,
    format: Format | None = None,
    progress: Progress | None = None,
) -> ReportResult:
    """Compare runs in one report: a summary, every plot the runs have data for, and their
    configs side by side with the differing values highlighted.

    Args:
        runs: run directories (or checkpoint folders with a ``run/`` subfolder), or loaded runs.
        out: the report file.
        format: ``html`` (one self-contained file) or ``md`` (Markdown, PNGs beside it);
            default: from `out`'s suffix (``.md`` -> md, else html).
        progress: called as ``progress("plotting", done, total)``.

    Raises:
        InputError: an unreadable run directory, an unknown format, an `out` that is a folder
            or cannot be written.
    """
    target = Path(out)
    fmt = format or ("md" if target.suffix.lower() in (".md", ".markdown") else "html")
    if fmt not in ("html", "md"):
        raise InputError(f"unknown report format {fmt!r}; choose html or md")
    if target.is_dir():
        raise InputError(f"{target}: a folder; give the report's file name (e.g. {target / ('report.' + fmt)})")
    loaded = [r if isinstance(r, RunResult) else RunResult.load(r) for r in runs]
    if not loaded:
        raise InputError("give at least one run directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{target.parent}: cannot create: {e.strerror or e}") from None
    labels = _labels(loaded)
    labelled = list(zip(labels, loaded))
    result = ReportResult(target, fmt, runs=labels)
    images: list[tuple[str, str, bytes]] = []
    for i, (pid, (title, fn)) in enumerate(PLOTS.items()):
        if progress is not None:
            progress("plotting", i, len(PLOTS))
        fig = fn(labelled)
        if fig is None:
            result.omitted.append(pid)
            continue
        images.append((pid, title, figure_png(fig)))
        result.plots.append(pid)
    if progress is not None:
        progress("plotting", len(PLOTS), len(PLOTS))
    try:
        if fmt == "html":
            _atomic_bytes(target, _html(loaded, labels, images).encode("utf-8"))
        else:
            for pid, _, png in images:
                p = target.with_name(f"{target.stem}-{pid}.png")
                _atomic_bytes(p, png)
                result.images.append(p)
            for pid in result.omitted:  # an earlier report's plot that this one leaves out
                target.with_name(f"{target.stem}-{pid}.png").unlink(missing_ok=True)
            _atomic_bytes(target, _markdown(loaded, labels, images, target).encode("utf-8"))
    except OSError as e:
        raise InputError(f"{target}: cannot write the report: {e.strerror or e}") from None
    return result


# ------------------------------------------------------------------ HTML
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.meta{color:#57606a;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;display:block;overflow-x:auto}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
h3{font-size:1rem;margin-bottom:.2rem} th{background:#f6f8fa} td.diff{background:#fff3b0;font-weight:600} tr.diff th{background:#ffe58a}
figure{margin:1rem 0;padding:.5rem;border:1px solid #d0d7de;border-radius:6px;display:inline-block}
figure img{max-width:100%;height:auto;display:block} figcaption{font-size:.9rem;color:#57606a;margin-top:.3rem}
.omitted{color:#57606a;font-size:.85rem}
"""


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_esc(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _html(runs: Sequence[RunResult], labels: Sequence[str], images: Sequence[tuple[str, str, bytes]]) -> str:
    from datetime import UTC, datetime

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>nesykg report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>nesykg report</h1>",
        f'<p class="meta">{len(runs)} run(s), built {_esc(datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))}</p>',
        "<h2>Runs</h2>",
        _html_table(SUMMARY_HEAD, _summary_rows(runs, labels)),
        "<h2>Plots</h2>",
    ]
    if not images:
        parts.append('<p class="omitted">No plot: these runs hold no curves, metrics or records to draw.</p>')
    for pid, title, png in images:
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f'<figure id="{_esc(pid)}"><img class="plot" data-plot="{_esc(pid)}" alt="{_esc(title)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{_esc(title)}</figcaption></figure>'
        )
    omitted = [t for pid, t in PLOT_TITLES.items() if pid not in {i[0] for i in images}]
    if omitted:
        parts.append(f'<p class="omitted">Left out (no data in these runs): {_esc("; ".join(omitted))}.</p>')
    parts.append("<h2>Configurations</h2>")
    parts.append('<p class="meta">One table per command; values that differ between its runs are highlighted.</p>')
    for cmd, group, rows in config_groups(runs, labels):
        parts.append(f"<h3>{_esc(cmd)}</h3>")
        parts.append('<table class="config"><thead><tr><th>option</th>' + "".join(f"<th>{_esc(lb)}</th>" for lb in group)
                     + "</tr></thead><tbody>")
        for key, cells, differs in rows:
            cls = ' class="diff"' if differs else ""
            parts.append(f"<tr{cls}><th>{_esc(key)}</th>" + "".join(f"<td{cls}>{_esc(c)}</td>" for c in cells) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------ Markdown
def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    out.extend("| " + " | ".join(_md(c) for c in row) + " |" for row in rows)
    return out


def _markdown(
    runs: Sequence[RunResult], labels: Sequence[str], images: Sequence[tuple[str, str, bytes]], target: Path
) -> str:
    lines = ["# nesykg report", "", f"{len(runs)} run(s).", "", "## Runs", ""]
    lines += _md_table(SUMMARY_HEAD, _summary_rows(runs, labels))
    lines += ["", "## Plots", ""]
    for pid, title, _ in images:
        lines += [f"### {title}", "", f"![{title}]({target.stem}-{pid}.png)", ""]
    omitted = [t for pid, t in PLOT_TITLES.items() if pid not in {i[0] for i in images}]
    if omitted:
        lines += [f"Left out (no data in these runs): {'; '.join(omitted)}.", ""]
    lines += ["## Configurations", "", "One table per command; values that differ between its runs are in **bold**."]
    for cmd, group, rows in config_groups(runs, labels):
        lines += ["", f"### {cmd}", ""]
        body = [[f"**{key}**" if differs else key, *(f"**{c}**" if differs else c for c in cells)]
                for key, cells, differs in rows]
        lines += _md_table(["option", *group], body)
    return "\n".join(lines) + "\n"
