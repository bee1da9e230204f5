"""Agents: planner/executor over a workspace of tools, with write-back and provenance."""
