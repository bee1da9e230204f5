"""Control tools: propose triples for write-back, finish with answers.

Neither touches the store: ``propose_triples`` validates and queues triples in the episode
(the executor commits the accepted ones when the question is done, unless it is a dry
run), ``finish`` records the answers and ends the loop.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from nesykg.agents.tools.base import MAX_ITEMS, Episode, Support, ToolError
from nesykg.agents.writeback import Proposal, validate

__all__ = ["propose_triples", "finish", "TripleArg", "ProposeArgs", "FinishArgs"]


class TripleArg(BaseModel):
    head: str = Field(..., min_length=1, max_length=4096)
    relation: str = Field(..., min_length=1, max_length=4096)
    tail: str = Field(..., min_length=1, max_length=4096)
    confidence: float | None = Field(None, ge=0.0, le=1.0, description="your belief; capped by the tools' evidence")


class ProposeArgs(BaseModel):
    triples: list[TripleArg] = Field(..., min_length=1, max_length=20)
    plan: str = Field("", max_length=500, description="the relation path that led to them")


class FinishArgs(BaseModel):
    answers: list[str] = Field(..., max_length=MAX_ITEMS, description="answer entities, best first")


def propose_triples(ep: Episode, triples: list[Any], plan: str = "") -> dict[str, Any]:
    """Propose missing triples found while answering for write-back into the graph. Each is checked:
    known names, not yet in the graph, its confidence (what the tools found, never more) above the
    threshold, and agreement with the expert schema; refusals come back with their reasons."""
    out = []
    for t in triples:
        t = t if isinstance(t, TripleArg) else TripleArg.model_validate(t)
        triple = (t.head, t.relation, t.tail)
        found = ep.support.get(triple)
        if found is None:
            support = Support(0.0, "none", "no tool in this episode supports it")
        else:
            conf = found.confidence if t.confidence is None else min(found.confidence, t.confidence)
            support = Support(conf, found.method, found.evidence)
        pending = [p.triple for p in ep.proposals if p.accepted]
        reasons = validate(ep.ws, triple, support.confidence, ep.min_confidence, pending)
        if found is None:
            reasons.insert(0, "no tool in this episode supports it")
        prop = Proposal(triple, support, reasons, plan or str(ep.notes.get("plan", "")))
        ep.proposals.append(prop)
        out.append(prop.as_dict())
    return {"proposals": out, "accepted": sum(1 for p in out if p["accepted"])}


def finish(ep: Episode, answers: list[str]) -> dict[str, Any]:
    """Finish with the answers, best first (an empty list says no answer was found)."""
    if ep.finished:
        raise ToolError("already finished")
    ep.answers = [a for a in answers if a][:MAX_ITEMS]
    ep.finished = True
    return {"answers": ep.answers}
