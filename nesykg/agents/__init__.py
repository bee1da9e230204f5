"""Agents: planner/executor over a workspace of tools, with write-back and provenance.

>>> from nesykg.agents import Workspace, Planner, Executor
>>> ws = Workspace.open("kg.db", rules="rules.txt")
>>> agent = Executor(ws, Planner(ws, exemplars))          # policy="llm", model=chat_model
>>> result = agent.ask("what is the nationality of [alice] 's spouse ?")
>>> result.answers, result.written, result.run_id          # store.undo(run_id) removes them

Everything loads on first use (torch with the workspace, LangChain with the llm policy).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AgentConfig",
    "AgentReport",
    "AgentResult",
    "Documents",
    "Executor",
    "POLICIES",
    "Plan",
    "Planner",
    "Question",
    "Workspace",
    "evaluate_agent",
    "run_agent_eval",
]

_LAZY = {
    "AgentConfig": "nesykg.agents.executor",
    "AgentResult": "nesykg.agents.executor",
    "Executor": "nesykg.agents.executor",
    "AgentReport": "nesykg.agents.evaluation",
    "evaluate_agent": "nesykg.agents.evaluation",
    "run_agent_eval": "nesykg.agents.evaluation",
    "Documents": "nesykg.agents.documents",
    "POLICIES": "nesykg.agents.policies",
    "Plan": "nesykg.agents.planner",
    "Planner": "nesykg.agents.planner",
    "Question": "nesykg.agents.questions",
    "Workspace": "nesykg.agents.workspace",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
