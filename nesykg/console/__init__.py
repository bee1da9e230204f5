"""The graph query console (``nesykg console``): a REPL over one store.

`ConsoleSession` holds the state and answers one input at a time (modes ``sparql``,
``cypher``, ``fol``, ``ask`` and the ``:commands``), printing to a rich console; it needs no
terminal. `run_repl` drives it from a prompt_toolkit prompt (history, completion,
multi-line input, Ctrl-C, Ctrl-D). Front-end layer: it may import the agents, pipeline,
reasoners and the store, never the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["COMMANDS", "MODES", "ConsoleSession", "run_repl"]

_LAZY = {
    "ConsoleSession": "nesykg.console.session",
    "MODES": "nesykg.console.session",
    "COMMANDS": "nesykg.console.session",
    "run_repl": "nesykg.console.repl",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nesykg.console' has no attribute {name!r}")
