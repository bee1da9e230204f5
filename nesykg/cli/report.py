"""``nesykg report RUN_DIR... --out report.html``: compare runs in plots and tables.

Thin: `nesykg.report.build_report` does the work; matplotlib loads inside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from nesykg.cli.common import JsonOpt, console, print_json
from nesykg.errors import InputError

__all__ = ["report"]


def report(
    run_dirs: Annotated[list[Path], typer.Argument(
        help="Run directories ('--run-dir' of train, eval, rules mine, cqa eval, agent eval...), or checkpoint "
        "folders with a run/ subfolder.", show_default=False, metavar="RUN_DIR")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="The report file (default: report.html, or report.md with --format md).")] = None,
    format: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="html (one self-contained file, opens offline) or md (Markdown, PNG plots beside it); "
        "default: from --out's suffix.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Compare runs: training curves, link-prediction metrics, MRR per query type, agent Hits@1 by
    hops and by removed share, write-back calibration, and the configs with their differences
    highlighted. A plot without data in these runs is left out."""
    from nesykg.cli.progress import stage_progress
    from nesykg.report import build_report

    if format is not None and format not in ("html", "md"):
        raise InputError(f"unknown --format {format!r}; choose html or md")
    target = out or Path(f"report.{format or 'html'}")
    with stage_progress() as bar:
        res = build_report(run_dirs, target, format, progress=bar)  # type: ignore[arg-type]
    if json_out:
        print_json(res.as_dict())
        return
    c = console()
    c.print(f"wrote {res.out} ({res.format}): {len(res.plots)} plot(s) from {len(res.runs)} run(s)",
            markup=False, highlight=False, soft_wrap=True)
    if res.plots:
        c.print("plots: " + ", ".join(res.plots), markup=False, highlight=False, soft_wrap=True)
    if res.omitted:
        c.print("left out (no data): " + ", ".join(res.omitted), markup=False, highlight=False, soft_wrap=True)
    if res.images:
        c.print(f"PNG files beside it: {', '.join(p.name for p in res.images)}", markup=False, highlight=False, soft_wrap=True)
