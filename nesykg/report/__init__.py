"""Evaluation reports: plots and tables comparing run directories (`nesykg.runs`).

>>> from nesykg.report import build_report
>>> result = build_report(["runs/umls-complex", "runs/umls-distmult"], "report.html")
>>> result.plots            # ids of the plots drawn, e.g. ["training-curves", "linkpred-metrics"]

The HTML report is one self-contained file (plots as base64 PNG data URIs, inline CSS, no
external URL) that opens offline; the Markdown report is ``report.md`` with its PNG files
beside it. A plot without data in the given runs is left out, not drawn empty.
matplotlib (Agg backend) is imported only when a report is built.
"""

from __future__ import annotations

from nesykg.report.build import PLOT_TITLES, ReportResult, build_report, load_runs

__all__ = ["build_report", "load_runs", "ReportResult", "PLOT_TITLES"]
