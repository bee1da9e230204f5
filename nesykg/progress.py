"""One progress protocol for every long piece of work.

Imports, training, mining, sampling and evaluation report progress through the same
callback shape, so the CLI's bars, the console and reports need one adapter:

    progress(stage, done, total)

* ``stage``: a short description of the current phase ("reading", "epoch", "counting
  path rules"); a new stage starts a new bar.
* ``done``: how much of the stage is finished, *cumulative* (not a delta), in the
  stage's unit; calling twice with the same value is harmless.
* ``total``: the stage's size, or ``None`` while it is unknown.

A library function takes ``progress: Progress | None = None`` and never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["Progress", "Stages", "write_reporter"]


class Progress(Protocol):
    """``progress(stage, done, total)``: cumulative work done of a stage."""

    def __call__(self, stage: str, done: int, total: int | None, /) -> None: ...


class Stages:
    """Turns delta reports into cumulative ones for a `Progress` callback.

    For loops that naturally count increments: ``s = Stages(progress, "reading", total)``
    then ``s.advance(n)`` after each piece.
    """

    def __init__(self, progress: Progress | None, stage: str, total: int | None = None):
        self.progress = progress
        self.stage = stage
        self.total = total
        self.done = 0
        if progress is not None:
            progress(stage, 0, total)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.stage, self.done, self.total)

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self.progress is not None:
            self.progress(self.stage, self.done, total)


def write_reporter(progress: Progress | None, stage: str = "writing") -> Callable[[int, int | None], None] | None:
    """A ``(written since the last call, total)`` callback, the shape a store backend
    reports a long write in, that feeds `progress` cumulative counts of `stage`."""
    if progress is None:
        return None
    done = 0

    def report(n: int, total: int | None = None) -> None:
        nonlocal done
        done += n
        progress(stage, done, total)

    return report
