"""LangChain adapters: every tool as a ``StructuredTool`` with its pydantic argument schema.

Calls run through `Executor.act`, so a LangChain-driven model gets the same validation,
budget, observations and trace as any policy (LangChain loads only here).
"""

from __future__ import annotations

import json
from typing import Any

from nesykg.agents.tools import TOOLS

__all__ = ["langchain_tools", "MAX_OBSERVATION"]

MAX_OBSERVATION = 4000
"""Characters of an observation a model reads (the trace keeps it whole)."""


def langchain_tools(executor: Any, names: list[str] | None = None) -> list[Any]:
    """``StructuredTool``s over `executor`'s episode, one per tool (all, or `names`)."""
    from langchain_core.tools import StructuredTool

    out = []
    for name in names or list(TOOLS):
        spec = TOOLS[name]

        def run(_name: str = name, **kwargs: Any) -> str:
            _, obs = executor.act("", _name, kwargs)
            return json.dumps(obs, ensure_ascii=False, default=str)[:MAX_OBSERVATION]

        out.append(StructuredTool.from_function(func=run, name=name, description=spec.description, args_schema=spec.args))
    return out
