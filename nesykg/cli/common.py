"""Shared CLI pieces: consoles, the store option, progress bars, JSON output."""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from nesykg.errors import InputError

__all__ = [
    "StoreOpt",
    "JsonOpt",
    "console",
    "err_console",
    "open_cli_store",
    "print_json",
    "byte_progress",
    "count_progress",
    "DEFAULT_STORE",
    "one_line",
    "print_error",
    "print_warning",
]

DEFAULT_STORE = os.environ.get("NESYKG_STORE", ".nesykg/store")

StoreOpt = Annotated[
    str,
    typer.Option(
        "--store",
        "-s",
        help="Where the graph lives: a folder for the embedded store (created on load), "
        "'memory:', a Neo4j server (neo4j://HOST:PORT, bolt://..., credentials from "
        "$NESYKG_NEO4J_USER/$NESYKG_NEO4J_PASSWORD or neo4j://USER:PASS@HOST:PORT) or a SPARQL "
        "endpoint (http(s)://.../query; update URL from $NESYKG_SPARQL_UPDATE or .../update). "
        "Default: $NESYKG_STORE or .nesykg/store. An embedded store in use by another process is "
        "waited for up to $NESYKG_LOCK_WAIT seconds (default 30).",
        envvar="NESYKG_STORE",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def console() -> Console:
    return Console()


def err_console() -> Console:
    """Console for progress bars on stderr. Messages go through `print_error` /
    `print_warning`, never through a console that wraps at the terminal's width."""
    return Console(stderr=True)


def one_line(text: object) -> str:
    """`text` on one physical line: line breaks (and the spaces around them) become one space."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()


def _stderr_line(label: str, color: str, message: object) -> None:
    # Plain text, never wrapped: scripts and log collectors read one line per message.
    # Colour only on a terminal, and not under NO_COLOR (https://no-color.org).
    tty = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    head = f"\x1b[1;{color}m{label}:\x1b[0m" if tty else f"{label}:"
    sys.stderr.write(f"{head} {one_line(message)}\n")
    sys.stderr.flush()


def print_error(message: object) -> None:
    """``error: MESSAGE`` on stderr, as exactly one line whatever the terminal."""
    _stderr_line("error", "31", message)


def print_warning(message: object) -> None:
    """``warning: MESSAGE`` on stderr, as exactly one line whatever the terminal."""
    _stderr_line("warning", "33", message)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _lock_wait() -> float:
    text = os.environ.get("NESYKG_LOCK_WAIT", "30")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"$NESYKG_LOCK_WAIT must be a number of seconds, got {text!r}") from None
    return max(0.0, value)


def open_cli_store(location: str, create: bool = False) -> Any:
    """Open the store at `location`; refuse to invent an empty one for reads."""
    from nesykg.kg import open_store

    if location != "memory:" and "://" not in location:
        p = Path(location)
        if not create and not p.exists():
            raise InputError(f"no store at {location}; load data first: nesykg kg load FILE --store {location}")
    from nesykg.kg.registry import backend_for

    kwargs: dict[str, Any] = {}
    if backend_for(location) == "oxigraph":
        # one process holds an on-disk store at a time: wait for another one, within reason
        kwargs["lock_wait"] = _lock_wait()
        kwargs["on_wait"] = print_warning
    if backend_for(location) == "sparql":
        update = os.environ.get("NESYKG_SPARQL_UPDATE")
        query = os.environ.get("NESYKG_SPARQL_QUERY")
        # the configured update URL goes with the configured query URL only
        kwargs["update_url"] = update if update and query == location else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        store = open_store(location, **kwargs)
    for w in caught:  # e.g. an interrupted import rolled back on open: say it plainly
        print_warning(w.message)
    return store


@contextmanager
def byte_progress(total: int, description: str, min_bytes: int = 2 << 20) -> Iterator[Callable[[int], None] | None]:
    """A transient rich progress bar over `total` bytes, shown when `total` is large
    enough to take more than about a second (`min_bytes`)."""
    if total < min_bytes:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=err_console(),
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def count_progress(
    total: int | None, description: str, unit: str = "triples"
) -> Iterator[Callable[[int, int | None], None]]:
    """A transient rich progress bar over `total` items (`unit`), for callbacks called as
    ``(done since the last call, total or None)``; the total may arrive with the calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit)]
    with Progress(*columns, TimeRemainingColumn(), transient=True, console=err_console()) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int, of: int | None = None) -> None:
            if of is not None:
                bar.update(task, total=of)
            bar.advance(task, n)

        yield advance
