"""Agents: planner/executor over a workspace of tools, with write-back and provenance.

>>> from nesykg.agents import Workspace, Planner, Executor
>>> ws = Workspace.open("kg.db", rules="rules.txt")
>>> agent = Executor(ws, Planner(ws, exemplars))          # policy="llm", model=chat_model
>>> result = agent.ask("what is the nationality of [alice] 's spouse ?")
>>> result.answers, result.written, result.run_id          # store.undo(run_id) removes them
>>> with Memory("agent.db") as mem:                        # trajectories, then offline learning
...     Executor(ws, planner, memory=mem).ask(question, gold=answers); learn(mem, planner)

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
    "Memory",
    "POLICIES",
    "Plan",
    "Planner",
    "Question",
    "Trajectory",
    "Workspace",
    "evaluate_agent",
    "learn",
    "learn_and_evaluate",
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
    "Memory": "nesykg.agents.memory",
    "Trajectory": "nesykg.agents.memory",
    "learn": "nesykg.agents.learning",
    "learn_and_evaluate": "nesykg.agents.learning",
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
