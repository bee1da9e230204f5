"""Shared CLI pieces: consoles, one-line messages, the store option, JSON output.

Progress bars: `nesykg.cli.progress.stage_progress`."""

from __future__ import annotations

import json
import os
import re
import sys
import warnings
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
    "DEFAULT_STORE",
    "check_device",
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
    """`text` on one physical line: line breaks (and the spaces around them) become one
    space, and other control characters are escaped (they never reach the terminal)."""
    from nesykg.errors import printable

    return printable(re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip())


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


def check_device(device: str) -> None:
    """Refuse a torch device string that is malformed or names CUDA on a machine without it."""
    import torch

    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise InputError(f"bad --device {device!r}: {e}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {device}: CUDA is not available on this machine")


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
