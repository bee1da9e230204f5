"""Reasoning tools: rules for a relation, link prediction, complex (EFO-1) queries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from nesykg.agents.kgview import split_step
from nesykg.agents.text import normalize
from nesykg.agents.tools.base import MAX_ITEMS, Episode, Support, ToolError, bounded, check_entity, check_step
from nesykg.errors import NesykgError

__all__ = ["get_rules", "predict_links", "answer_query", "RulesArgs", "PredictArgs", "QueryArgs"]


class RulesArgs(BaseModel):
    relation_or_question: str = Field(..., min_length=1, max_length=2000, description="a relation name or a question")
    limit: int = Field(10, ge=1, le=MAX_ITEMS)


class PredictArgs(BaseModel):
    head: str = Field(..., min_length=1, max_length=4096, description="the known entity")
    relation: str = Field(..., min_length=1, max_length=4096, description="the relation ('inv:r' predicts heads of r)")
    top_k: int = Field(5, ge=1, le=MAX_ITEMS)
    model: str | None = Field(None, max_length=100, description="a predictor of the workspace (default: rules)")


class QueryArgs(BaseModel):
    formula: str = Field(..., min_length=1, max_length=2000, description="e.g. '?y : exists x . r(a, x) & s(x, ?y)'")
    top_k: int = Field(10, ge=1, le=MAX_ITEMS)


def get_rules(ep: Episode, relation_or_question: str, limit: int = 10) -> dict[str, Any]:
    """Horn rules (mined and expert) concluding a relation, most confident first; given a question,
    the rules of every relation it names."""
    ws = ep.ws
    text = relation_or_question.strip()
    rels = [text] if ws.graph.has_relation(text) else [
        r for r in ws.graph.relations if normalize(r) and normalize(r) in normalize(text)
    ]
    if not rels:
        raise ToolError(f"no relation named in {text[:80]!r}; relations: {', '.join(ws.graph.relations[:40])}")
    rules = sorted((r for rel in rels for r in ws.rules_for(rel)), key=lambda r: (-r.confidence, r.text))
    if not rules:
        raise ToolError(f"no rule concludes {', '.join(rels)}")
    return {"relations": rels, **bounded([{"rule": r.text, "confidence": round(r.confidence, 4)} for r in rules], limit)}


def _model(ep: Episode, model: str | None) -> tuple[str, Any]:
    preds = ep.ws.predictors
    if not preds:
        raise ToolError("the workspace has no link predictor (no rules, no checkpoint)")
    # by default the rules, else a model; the range prior only when there is nothing else
    name = model or ("rules" if "rules" in preds else min(preds, key=lambda m: (m == "prior", m)))
    if name not in preds:
        raise ToolError(f"unknown model {name!r}; the workspace has {', '.join(sorted(preds))}")
    return name, preds[name]


def predict_links(ep: Episode, head: str, relation: str, top_k: int = 5, model: str | None = None) -> dict[str, Any]:
    """Predict missing tails of (head, relation, ?) with a link predictor ('rules' by default, or a
    trained model); each candidate has a confidence in [0, 1] and says whether the edge is known."""
    from nesykg.reasoners.predict import predict

    h = check_entity(ep, head)
    step = check_step(ep, relation)
    rel, inv = split_step(step)
    name, pred = _model(ep, model)
    try:
        kwargs = {"tail": h} if inv else {"head": h}
        ranking = predict(pred, relation=rel, top_k=top_k, **kwargs)
    except NesykgError as e:
        raise ToolError(f"{name} cannot predict ({h}, {step}, ?): {e}") from None
    conf = truth = _confidences(pred, name, h, rel, inv, ranking)
    cal = ep.ws.calibration.get(name)
    if cal is not None:  # truth values as the share of such predictions found right on held-out edges
        conf = [cal(c) for c in truth]
    g = ep.ws.graph
    items = []
    for a, c, tv in zip(ranking.answers, conf, truth):
        if tv <= 0:
            continue
        triple = (a.entity, rel, h) if inv else (h, rel, a.entity)
        evidence = f"{name}: ({h}, {step}, {a.entity})"
        if name == "rules" and len(items) < 3:
            evidence = _rule_evidence(pred, h, step, a.entity) or evidence
        ep.believe(triple, Support(c, name, evidence))
        item = {"entity": a.entity, "confidence": round(c, 4), "known": triple in g, "evidence": evidence}
        if cal is not None:
            item["truth"] = round(tv, 4)  # the model's own (uncalibrated) truth value
        items.append(item)
    if not items:
        raise ToolError(f"{name} predicts nothing for ({h}, {step}, ?)")
    return {"head": h, "relation": step, "model": name, **bounded(items)}


def _confidences(pred: Any, name: str, h: str, rel: str, inv: bool, ranking: Any) -> list[float]:
    """Scores as confidences: a rule predictor's are already; a model's are its truth values."""
    if name == "rules":
        return [min(1.0, float(a.score)) for a in ranking.answers]
    cap = getattr(pred, "max_confidence", None)
    if cap is not None:  # scores that are probabilities, trusted up to a cap (the range prior)
        return [min(float(cap), float(a.score)) for a in ranking.answers]
    import torch

    v = pred.vocab
    q = v.relation_id(rel) + (pred.num_relations if inv else 0)
    truth = pred.truth_tails(torch.tensor([v.entity_id(h)]), torch.tensor([q]))[0]
    return [float(truth[v.entity_id(a.entity)]) for a in ranking.answers]


def _rule_evidence(pred: Any, h: str, step: str, cand: str) -> str | None:
    try:
        [ex] = pred.explain(h, step, candidates=[cand], max_groundings=1)
    except NesykgError:
        return None
    if not ex.rules:
        return None
    best = ex.rules[0]
    ground = f" with {best.groundings[0]}" if best.groundings else ""
    return f"{best.rule.text}{ground}"


def answer_query(ep: Episode, formula: str, top_k: int = 10) -> dict[str, Any]:
    """Answer a complex first-order query (conjunctions, existentials, negation, disjunction) with fuzzy
    reasoning over the graph and the link predictor, e.g. '?y : exists x . r(a, x) & s(x, ?y)'."""
    from nesykg.reasoners.logic.answer import answer

    name, pred = _model(ep, None)
    try:
        res = answer(formula, pred, ep.ws.kg, top_k=top_k, explain=True)
    except NesykgError as e:
        raise ToolError(f"cannot answer {formula[:80]!r}: {e}") from None
    if not res.answers:
        raise ToolError(f"no answer to {res.formula!r}")
    items = [
        {"entity": a.entity, "truth": round(a.truth, 4), "assignment": a.explanation.assignment if a.explanation else {}}
        for a in res.answers
    ]
    return {"formula": res.formula, "reasoner": res.reasoner, "model": name, **bounded(items)}
