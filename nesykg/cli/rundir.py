"""The ``--run-dir`` option and where each command's run directory goes by default.

Training and mining commands that write a checkpoint folder record their run in its ``run/``
subfolder; every other command in a new ``runs/<UTC timestamp>-<command>`` folder under the
working directory, or under ``$NESYKG_RUNS_DIR`` (`nesykg.runs`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

__all__ = [
    "RunDirOpt", "CheckpointRunDirOpt", "cli_run", "check_early", "record_agent_report", "record_learning",
    "record_gnn_training",
]

RunDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--run-dir",
        help="Record this run (config.json, metrics.json, history.jsonl, run.json with timings, versions "
        "and git hash) in this folder; default: a new runs/<UTC time>-<command> folder ($NESYKG_RUNS_DIR "
        "instead of runs/ when set). "
        "Compare runs with: nesykg report DIR...",
    ),
]
CheckpointRunDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--run-dir",
        help="Record this run (config.json, metrics.json, history.jsonl, run.json with timings, versions "
        "and git hash) in this folder; default: the run/ subfolder of the checkpoint folder "
        "(runs/<UTC time>-<command> without one). Compare runs with: nesykg report DIR...",
    ),
]


@contextmanager
def cli_run(
    run_dir: Path | None, command: str, config: Mapping[str, Any], checkpoint: Path | None = None
) -> Iterator[Any]:
    """`nesykg.runs.record_run` in `run_dir`, or in the default place of `command` (the
    ``run/`` subfolder of `checkpoint` when given). Yields the `RunResult` to fill."""
    from nesykg.runs import checkpoint_run_dir, default_run_dir, record_run

    if run_dir is not None:
        where = run_dir
    elif checkpoint is not None:
        where = checkpoint_run_dir(checkpoint)
    else:
        where = default_run_dir(command)
    with record_run(where, command, {k: _plain(v) for k, v in config.items()}) as run:
        yield run


def _plain(value: Any) -> Any:
    """Paths as strings, so that config.json reads the same wherever it is loaded."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def check_early(run_dir: Path | None) -> None:
    """Refuse a bad ``--run-dir`` before a command's work (for commands that record at the end)."""
    if run_dir is not None:
        from nesykg.runs import check_run_dir

        check_run_dir(run_dir)


def record_agent_report(run: Any, rep: Any) -> None:
    """Fill `run` from an `nesykg.agents.evaluation.AgentReport`: its figures as metrics, its
    per-question records (hops, hit...) as records, its proposed triples (confidence,
    written, correct) as writes."""
    data = rep.as_dict()
    run.records = list(data.pop("records", []) or [])
    run.writes = list(data.pop("writes", []) or [])
    data.pop("scored_ids", None)
    run.metrics = data
    run.timings["setup_seconds"] = data.get("setup_seconds", 0.0)


def record_learning(run: Any, rep: Any) -> None:
    """Fill `run` from an `nesykg.agents.learning.LearningReport`: validation Hits@1 before and
    after as metrics (and the after figures at the top), each training pass as history, the
    after validation's per-question records as records."""
    data = rep.as_dict()
    before, after = data.pop("before"), data.pop("after")
    run.records = list(after.pop("records", []) or [])
    run.writes = list(after.pop("writes", []) or [])
    before.pop("records", None)
    before.pop("writes", None)
    passes = data.pop("passes", [])
    run.metrics = {**{k: v for k, v in after.items() if k != "failures"}, **data,
                   "hits_at_1_before": before.get("hits_at_1"), "before": before}
    run.history = [{"epoch": p.get("pass"), **p} for p in passes]


def record_gnn_training(run: Any, result: Any, metrics: dict[str, Any]) -> None:
    """Fill `run` from a GNN training result: per-epoch loss and validation score as history
    (``valid_mrr`` for NBFNet, ``valid_accuracy`` for EpiGNN)."""
    key = "valid_accuracy" if result.model == "epignn" else "valid_mrr"
    run.history = [{**{k: v for k, v in h.items() if k != "valid"}, key: h.get("valid")} for h in result.history]
    run.metrics = {**metrics, "best_epoch": result.best_epoch, "best_valid": result.best_valid}
    run.timings["train_seconds"] = round(result.train_seconds, 4)
    run.timings["seconds_per_epoch"] = round(result.train_seconds / max(1, len(result.history)), 4)
