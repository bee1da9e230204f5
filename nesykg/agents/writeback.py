"""Write-back: validate triples the agent discovered and commit them to ``inferred`` with provenance.

A triple reaches the store only along this path:

1. a policy proposes it (``propose_triples``); its confidence is the best score a *tool*
   gave it in this episode (`Episode.support`), never more than a model claims and never a
   model's claim alone: a triple no tool supports has confidence 0;
2. `validate` checks it: known relation and entities, not already in the store or
   proposed, above the confidence threshold, and in agreement with the expert graph's
   schema (`Schema.violations`: domain, range, functional property, disjoint classes);
3. `commit` writes the accepted ones in one transaction, each with `Provenance`
   (confidence, method ``agent:POLICY:SOURCE``, evidence: question, plan and the tool's
   evidence as JSON, run id); ``dry_run`` writes nothing. `GraphStore.undo(run_id)` removes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nesykg.agents.tools.base import Support

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.workspace import Workspace

__all__ = ["Proposal", "validate", "commit", "DEFAULT_MIN_CONFIDENCE"]

DEFAULT_MIN_CONFIDENCE = 0.8
"""Least confidence of a triple the agent writes."""


@dataclass
class Proposal:
    """One proposed triple and what became of it.

    Attributes:
        triple: ``(head, relation, tail)`` names.
        support: the tool evidence behind it (confidence 0 when none).
        refused: the reasons it is not written (empty when accepted).
        plan: the relation path the policy followed when it found the triple.
    """

    triple: tuple[str, str, str]
    support: Support
    refused: list[str]
    plan: str = ""

    @property
    def accepted(self) -> bool:
        return not self.refused

    def as_dict(self) -> dict[str, Any]:
        return {
            "triple": list(self.triple),
            "confidence": round(self.support.confidence, 4),
            "method": self.support.method,
            "evidence": self.support.evidence,
            "accepted": self.accepted,
            "refused": self.refused,
        }


def validate(
    ws: Workspace,
    triple: tuple[str, str, str],
    confidence: float,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    pending: Sequence[tuple[str, str, str]] = (),
) -> list[str]:
    """Reasons why `triple` may not be written (empty: it may).

    Args:
        ws: the workspace (its graph, store and schema).
        triple: names.
        confidence: the triple's supported confidence.
        min_confidence: the threshold.
        pending: triples already accepted in this episode (duplicates and functional
            conflicts among them count).
    """
    h, r, t = triple
    g = ws.graph
    reasons = []
    if not g.has_relation(r):
        reasons.append(f"unknown relation {r!r}")
    for who, e in (("subject", h), ("object", t)):
        if not g.has_entity(e):
            reasons.append(f"unknown {who} {e!r}")
    if reasons:
        return reasons
    iri = (ws.iri(h), ws.iri(r), ws.iri(t))
    if triple in g or triple in pending or iri in ws.store:
        reasons.append("already in the graph")
    if h == t and not g.reflexive(r):
        reasons.append(f"a self-loop: no {r!r} edge in the graph links an entity to itself")
    if confidence < min_confidence:
        reasons.append(f"confidence {confidence:.3f} is below the threshold {min_confidence}")
    reasons.extend(ws.schema.violations(triple, g))
    if r in ws.schema.functional:
        clash = [p for p in pending if p[0] == h and p[1] == r and p[2] != t]
        if clash:
            reasons.append(f"{r!r} is functional and {clash[0][2]!r} is already proposed for {h!r}")
    return reasons


def commit(
    ws: Workspace, proposals: Sequence[Proposal], run_id: str, question: str, policy: str, dry_run: bool = False
) -> list[tuple[str, str, str]]:
    """Write the accepted proposals to ``inferred`` in one transaction; returns the triples written
    (none with `dry_run`)."""
    from nesykg.kg.provenance import Provenance

    accepted = [p for p in proposals if p.accepted]
    if dry_run or not accepted:
        return []
    records = []
    for p in accepted:
        evidence = json.dumps(
            {"question": question, "plan": p.plan, "evidence": p.support.evidence}, ensure_ascii=False
        )
        prov = Provenance(float(p.support.confidence), f"agent:{policy}:{p.support.method}", evidence, run_id)
        records.append(((ws.iri(p.triple[0]), ws.iri(p.triple[1]), ws.iri(p.triple[2])), prov))
    with ws.store.transaction():
        ws.store.add_inferred(records)
    return [p.triple for p in accepted]
