"""``nesykg console``: the interactive graph query console (docs/console.md).

Thin: opens the store and hands it to `nesykg.console`; prompt_toolkit loads inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nesykg.cli.common import DEFAULT_STORE, StoreOpt

__all__ = ["console"]


def console(
    store: StoreOpt = DEFAULT_STORE,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", "-c", help="Predictor checkpoint for the fol mode and the agent.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Cancel a query after this many seconds.")] = 60.0,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Rows a query keeps.")] = 1000,
) -> None:
    """An interactive console over a store: SPARQL (default), Cypher (Neo4j), EFO-1 formulas (fol)
    and agent questions (ask), with :why, :undo, :runs, :graphs, :explain and :help.

    Read-only, except :undo and the agent's write-back, each confirmed first. A query ends with ';'
    or an empty line; Tab completes names; Ctrl-C cancels a query; Ctrl-D leaves.
    History: $NESYKG_HISTORY or ~/.nesykg_history.
    """
    import sys

    from nesykg.cli.common import open_cli_store
    from nesykg.console import ConsoleSession, run_repl
    from nesykg.errors import InputError

    if checkpoint is not None and not checkpoint.is_dir():
        raise InputError(f"{checkpoint}: no such checkpoint folder")
    if not sys.stdin.isatty():
        raise InputError("nesykg console needs a terminal; for scripts use nesykg kg sparql, nesykg query, nesykg agent ask")
    with open_cli_store(store) as st:
        session = ConsoleSession(st, checkpoint=checkpoint, timeout=timeout, max_rows=max_rows)
        code = run_repl(session)
    raise typer.Exit(code)
