"""`stage_progress`: the one adapter from the progress protocol to a rich bar on stderr.

Library calls report ``progress(stage, done, total)`` (`nesykg.progress.Progress`); the
commands wrap them as::

    with stage_progress() as bar:
        mine_rules(kg, cfg, progress=bar)

Each new stage gets its own bar row; a ``None`` total shows a pulsing bar. `StageBar.status`
sets a short text shown after the current stage's bar (training's loss and validation MRR).
`StageBar.begin` shows a pulsing row with the elapsed time for work that reports no progress
itself (building an agent's workspace); it is marked done when the next stage reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["StageBar", "stage_progress"]


class StageBar:
    """A `Progress` callback that drives rich bars (or nothing, when `bar` is ``None``)."""

    def __init__(self, bar: Any | None):
        self._bar = bar
        self._tasks: dict[str, Any] = {}
        self._current: Any = None
        self._open: list[Any] = []  # rows of `begin`, done when another stage reports

    def begin(self, stage: str) -> None:
        """A pulsing row for `stage` (elapsed time, no total), until another stage reports."""
        if self._bar is None:
            return
        self._close_open()
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._bar.add_task(stage, total=None, status="")
        self._current = task
        self._open.append(task)

    def _close_open(self) -> None:
        for task in self._open:
            self._bar.update(task, total=1, completed=1)
        self._open.clear()

    def __call__(self, stage: str, done: int, total: int | None, /) -> None:
        if self._bar is None:
            return
        if self._open and self._tasks.get(stage) not in self._open:
            self._close_open()
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._bar.add_task(stage, total=total, status="")
        self._current = task
        self._bar.update(task, completed=done, total=total)

    def status(self, text: str) -> None:
        """Show `text` after the bar of the current stage."""
        if self._bar is not None and self._current is not None:
            self._bar.update(self._current, status=text)


@contextmanager
def stage_progress(transient: bool = True, console: Any = None) -> Iterator[StageBar]:
    """A `StageBar` showing every stage as a rich bar on stderr while the block runs.

    Args:
        transient: remove the bars when done. A transient bar is only drawn on a
            terminal; a lasting one (``transient=False``) also leaves its final state in
            a log or a captured stderr.
        console: the rich console (default: the CLI's stderr console).
    """
    from nesykg.cli.common import err_console

    err = console if console is not None else err_console()
    if transient and not err.is_terminal:
        yield StageBar(None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("left"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=err, transient=transient) as bar:
        stages = StageBar(bar)
        yield stages
        stages._close_open()
