"""Policies choose the agent's actions; the executor runs them with the same tools and trace.

Resolved by name through `POLICIES` (entry-point group ``nesykg.policies``):

* ``symbolic`` (default): deterministic, no LLM: entity search, the planner's plans in order,
  fallbacks where the graph lacks an edge, proposals of what the fallbacks found;
* ``llm``: any LangChain chat model with tool calling (`nesykg.agents.policies.llm`).

A policy is a class with a ``name`` and ``run(executor, question)``, calling
``executor.act(thought, tool, arguments)`` for each step.
"""

from __future__ import annotations

from typing import Any, Protocol

from nesykg.registry import Registry

__all__ = ["POLICIES", "Policy", "make_policy", "policy_names"]


class Policy(Protocol):
    """Chooses actions for one question."""

    name: str

    def run(self, executor: Any, question: str) -> None:
        """Act through ``executor.act`` until ``finish`` or the budget ends."""


POLICIES: Registry[Any] = Registry(
    "policy",
    "nesykg.policies",
    {
        "symbolic": "nesykg.agents.policies.symbolic:SymbolicPolicy",
        "llm": "nesykg.agents.policies.llm:LLMPolicy",
    },
)


def policy_names() -> list[str]:
    return POLICIES.names()


def make_policy(name: str, **options: Any) -> Policy:
    """The policy registered as `name`, built with `options`."""
    return POLICIES.get(name)(**options)
