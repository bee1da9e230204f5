"""What every tool shares: the `Episode` it works in, `ToolError`, `ToolSpec`, the size bounds.

A tool is a typed function ``tool(ep, **arguments) -> dict``: `ep` is the `Episode` of one
question (the workspace, what earlier steps found, the proposed triples, the answers), the
arguments are what a policy or a model passes, validated by the tool's pydantic model.
Two error channels, as in LangChain: a `ToolError` (unknown entity, empty result, a
refused query, a malformed argument) becomes an observation the policy reads; any other
exception is a programming error and propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nesykg.errors import NesykgError

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.workspace import Workspace
    from nesykg.agents.writeback import Proposal

__all__ = ["ToolError", "ToolSpec", "Episode", "Support", "MAX_ITEMS", "MAX_TEXT", "bounded", "check_entity", "check_step"]

MAX_ITEMS = 50
"""The most entities, rows or passages one observation lists (the rest is counted)."""
MAX_TEXT = 600
"""The most characters of one text (a passage, a literal) in an observation."""


class ToolError(NesykgError):
    """A recoverable problem a policy should read as an observation and act on."""


@dataclass(frozen=True)
class Support:
    """Why the episode believes a triple: the best evidence a tool produced for it.

    Attributes:
        confidence: the tool's own score in [0, 1] (never a model's claim).
        method: ``"graph"``, ``"rules"``, a model name, ``"documents"``.
        evidence: rule text, grounding, passage source.
    """

    confidence: float
    method: str
    evidence: str


@dataclass
class Episode:
    """The state of answering one question.

    Attributes:
        ws: the workspace.
        question: the question's text.
        support: triple -> the best `Support` a tool found (what the write-back trusts).
        proposals: the `Proposal`s of write-back (accepted or refused, with reasons).
        min_confidence: the write-back threshold.
        answers: the final answers (set by ``finish``), best first.
        finished: whether ``finish`` was called.
        notes: free-form facts the policy records (plans, topic entities).
    """

    ws: Workspace
    question: str = ""
    support: dict[tuple[str, str, str], Support] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)
    min_confidence: float = 0.8
    answers: list[str] = field(default_factory=list)
    finished: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    def believe(self, triple: tuple[str, str, str], support: Support) -> None:
        """Record `support` for `triple` when it beats what was known."""
        old = self.support.get(triple)
        if old is None or support.confidence > old.confidence:
            self.support[triple] = support


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, function, argument model and the description a model reads.

    Attributes:
        name: the tool's name.
        func: ``func(episode, **arguments) -> dict``.
        args: the pydantic model validating the arguments.
        description: the function's docstring summary (what an LLM sees).
        writes: whether it changes the episode's proposals or answers (never the store).
    """

    name: str
    func: Callable[..., dict[str, Any]]
    args: Any
    description: str
    writes: bool = False


def bounded(items: list[Any], limit: int = MAX_ITEMS) -> dict[str, Any]:
    """``{"items": first `limit`, "total": n, "truncated": bool}``."""
    return {"items": items[:limit], "total": len(items), "truncated": len(items) > limit}


def check_entity(ep: Episode, name: str) -> str:
    """`name` if the workspace knows the entity, else a `ToolError` offering close names."""
    if ep.ws.graph.has_entity(name):
        return name
    from rapidfuzz import process

    close = [m[0] for m in process.extract(name, ep.ws.graph.entities, limit=3, score_cutoff=60)]
    hint = f"; did you mean {', '.join(close)}?" if close else "; use search_entities to find its name"
    raise ToolError(f"unknown entity {name!r}{hint}")


def check_step(ep: Episode, step: str) -> str:
    """`step` (``r`` or ``inv:r``) if its relation is known, else a `ToolError` listing them."""
    from nesykg.agents.kgview import split_step

    rel, _ = split_step(step)
    if ep.ws.graph.has_relation(rel):
        return step
    raise ToolError(f"unknown relation {rel!r}; known: {', '.join(ep.ws.graph.relations[:40])}")
