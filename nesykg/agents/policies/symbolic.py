"""The symbolic policy: deterministic plan following with fallbacks, no LLM.

1. ``search_entities`` on the question: its topic entity (the given topic when known); when
   no entity of the question is in the graph, the answer is the usual values of the last step
   of its best plan (the range prior, `nesykg.agents.prior`), or none; with the typed fallback,
   the same when the entity found fits the first step of no plan (``russia`` found in a lost
   ``grand_duke_..._of_russia``, asked for a parent);
2. the planner's plans, best first; each is followed with ``follow_path``;
3. where a plan stops for lack of an edge, the executor's fallback (rules, then link
   predictors, then documents) proposes entities for that step and the path goes on from the
   best of them; an answer's score is the plan's score times the confidences on its path;
4. a plan that holds in the graph ends the search; otherwise up to `AgentConfig.max_plans`
   plans are tried and their scores added;
5. for a one-relation question (``what is the r of [X]``) answered along another path, a
   ``predict_links`` by the rules to confirm the missing fact ``(X, r, answer)``;
6. ``propose_triples`` for the edges the fallbacks supplied on the best answer's path, when
   they reach the write threshold; ``finish`` with the answers by score.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from nesykg.agents.kgview import inverse_step, split_step
from nesykg.agents.planner import Plan

__all__ = ["SymbolicPolicy"]

Found = list[tuple[str, float, list[tuple[tuple[str, str, str], float]]]]


class SymbolicPolicy:
    """Deterministic: the same question over the same workspace gives the same trace."""

    name = "symbolic"

    def __init__(self, continuations: int = 2, **_: Any):
        self.continuations = continuations

    def run(self, ex: Any, question: str) -> None:
        ep = ex.ep
        ok, obs = ex.act("Find the entities the question names.", "search_entities", {"text": question, "limit": 5})
        topic = ep.notes.get("topic") or (obs["items"][0]["entity"] if ok else None)
        if not topic or not ex.ws.graph.has_entity(topic):
            self._guess(ex, question, "No known entity in the question")
            return
        plans = ex.planner.plan(question, topic, limit=5)
        if ex.config.typed_fallback:  # the topic must be of a type the plan starts from
            fitting = [p for p in plans if ex.ws.graph.fits_range(topic, inverse_step(p.steps[0]))]
            if plans and not fitting:
                self._guess(ex, question, f"{topic!r} cannot start any plan (no first step fits its type): the "
                                          f"question's entity is not in the graph")
                return
            plans = fitting
        ep.notes["plans"] = [p.as_dict() for p in plans]
        scores: dict[str, float] = defaultdict(float)
        inferred: dict[str, tuple[list[tuple[tuple[str, str, str], float]], str]] = {}
        for plan in plans[: ex.config.max_plans]:
            if ex.steps_left <= 2:
                break
            ep.notes["plan"] = plan.key
            found = self._walk(ex, topic, plan, list(plan.steps), 1.0, [])
            if plan.relation and ex.config.typed_fallback:  # a rule body answers for its head: of the head's type
                found = [f for f in found if ex.ws.graph.fits_range(f[0], plan.relation)]
            for answer, conf, edges in found:
                scores[answer] += plan.score * conf
                if answer not in inferred or not edges:
                    inferred[answer] = (edges, plan.key)
            if any(conf >= 1.0 for _, conf, _ in found):
                break  # the plan holds in the graph
        answers = sorted(scores, key=lambda a: (-scores[a], a))
        if answers:
            self._confirm_asked(ex, question, topic, answers[0], inferred)
            edges, key = inferred[answers[0]]
            best = [(t, c) for t, c in edges if c >= ex.config.min_confidence]
            if best and ex.steps_left > 1:
                ex.act("The fallbacks supplied edges on the best answer's path: propose them.", "propose_triples",
                       {"triples": [{"head": h, "relation": r, "tail": t} for (h, r, t), _ in best], "plan": key})
        ex.act(f"Answer by plan score: {', '.join(answers[:3]) or 'none'}.", "finish", {"answers": answers[:10]})

    def _guess(self, ex: Any, question: str, why: str) -> None:
        step, usual = self._usual(ex, question)
        thought = (f"{why}; its best plan ends in {step!r}: answer with that step's usual values (the range "
                   f"prior), a guess that is never written." if usual else f"{why}: no answer.")
        ex.act(thought, "finish", {"answers": usual})

    @staticmethod
    def _usual(ex: Any, question: str) -> tuple[str, list[str]]:
        """For a question whose entity is not in the graph: the last step of its best plan and that
        step's most common values by the range prior (none where the prior does not cover it)."""
        prior = ex.ws.predictors.get("prior")
        plans = ex.planner.plan(question, None, limit=1)
        if prior is None or not hasattr(prior, "usual") or not plans:
            return "", []
        step = plans[0].steps[-1]
        rel, inv = split_step(step)
        return step, [e for e, _ in prior.usual(rel, inv, k=3)]

    @staticmethod
    def _confirm_asked(ex: Any, question: str, topic: str, answer: str, inferred: dict[str, Any]) -> None:
        """A question of the one-relation form ``what is the r of [X]`` (it names one relation and
        brackets its topic, as generated questions do) answered along another path: the missing
        fact ``(X, r, answer)`` is worth writing if the rules predict it too."""
        from nesykg.agents.text import normalize

        words = f" {normalize(question)} "
        asked = [r for r in ex.ws.graph.relations if normalize(r) and f" {normalize(r)} " in words]
        if "[" not in question or len(asked) != 1 or (topic, asked[0], answer) in ex.ws.graph or ex.steps_left <= 3:
            return
        if "rules" not in ex.ws.predictors:
            return
        ok, obs = ex.act(f"The question asks {asked[0]!r} of {topic!r}: do the rules predict {answer!r} too?",
                         "predict_links", {"head": topic, "relation": asked[0], "top_k": 3, "model": "rules"})
        for item in obs.get("items", []) if ok else []:
            if item["entity"] == answer:
                edges, key = inferred[answer]
                inferred[answer] = (edges + [((topic, asked[0], answer), item["confidence"])], key)

    def _walk(self, ex: Any, start: str, plan: Plan, steps: list[str], conf: float,
              edges: list[tuple[tuple[str, str, str], float]]) -> Found:
        if ex.steps_left <= 2:
            return []
        ok, obs = ex.act(f"Follow {'/'.join(steps)} from {start!r} (plan {plan.key}, score {plan.score:.2f}).",
                         "follow_path", {"entity": start, "relations": steps})
        if not ok:
            return []
        if obs["answers"]:
            return [(a, conf, edges) for a in obs["answers"]]
        stop = obs["stopped_at"]
        i, step = stop["step"], stop["relation"]
        rel, inv = split_step(step)
        out: Found = []
        for head, cand, c, _ in ex.fallback(stop["from"], step)[: self.continuations]:
            triple = (cand, rel, head) if inv else (head, rel, cand)
            path = edges + [(triple, c)]
            rest = steps[i + 1:]
            if not rest:
                out.append((cand, conf * c, path))
            else:
                out.extend(self._walk(ex, cand, plan, rest, conf * c, path))
        return out
