"""The planner: relation-path plans for a question, from similar solved questions and rules.

Following SymAgent's planner (Liu et al., WWW 2025):

1. **classify and retrieve**: a naive Bayes model over every exemplar (words, and words by
   their order from the topic) gives ``P(path | question)``, and the solved questions (exemplars) most similar to the question, by BM25 over
   their words with the topic entity masked (so ``the nation of X 's couple`` meets
   ``which nationality is Y 's spouse``);
2. **sample** the relation paths (up to `max_length` steps, ``inv:r`` walking backwards)
   that link each exemplar's topic entity to its answers in the graph, plus its gold path
   when it has one, each with its precision there (share of the entities it reaches that are
   answers);
3. **add rules**: a one-step plan ``r`` brings the bodies of the path rules concluding
   ``r`` (mined and expert) as alternatives, scored by the rule's confidence;
4. **rank** plans by the posterior mixed with the nearest exemplars' votes (similarity x
   precision), times the plan's
   learned weight (`nesykg.agents.learning`), times `BROKEN` for each step the graph cannot
   follow from the question's topic (plans are grounded), normalised to sum 1.

The same exemplars are the few-shot demonstrations of the LLM policy (`demonstrations`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nesykg.agents.text import BM25, normalize, tokens
from nesykg.agents.wording import HopModel, hop_words

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.questions import Question
    from nesykg.agents.workspace import Workspace
    from nesykg.reasoners.rules.syntax import Rule

__all__ = ["Plan", "Planner", "rule_path", "plan_key"]

RULE_DISCOUNT = 0.9
"""A rule body's plan scores this times its rule's confidence times its head's plan."""
BM25_SHARE = 0.3
"""Share of a plan's score from the votes of the BM25-nearest exemplars; the rest is the naive
Bayes posterior of the path given the question's words, trained on every exemplar."""
NB_ALPHA = 0.1
"""Additive smoothing of the naive Bayes word counts."""
HOP_SHARE = 0.5
"""Share of the classifier part from the hop-aligned wording model (`nesykg.agents.wording`);
the rest is the naive Bayes posterior of whole paths."""
BROKEN = 0.2
"""A plan scores this much less for each of its steps the graph cannot follow from the topic."""


def plan_key(steps: Sequence[str]) -> str:
    """The text of a plan: ``spouse/nationality``."""
    return "/".join(steps)


@dataclass(frozen=True)
class Plan:
    """A relation path to follow from the topic entity.

    Attributes:
        steps: relation names (``inv:r`` backwards).
        score: its share of the ranking, in (0, 1].
        source: ``"exemplars"``, ``"rule"`` (a rule body; `rule` names it) or ``"question"``.
        rule: the rule text of a rule plan.
        relation: the relation a rule plan stands for (the rule's head), whose range its
            answers must fit.
    """

    steps: tuple[str, ...]
    score: float
    source: str = "exemplars"
    rule: str = ""
    relation: str = ""

    @property
    def key(self) -> str:
        return plan_key(self.steps)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"plan": self.key, "score": round(self.score, 4), "source": self.source}
        if self.rule:
            out["rule"] = self.rule
        return out


def rule_path(rule: Rule) -> tuple[str, ...] | None:
    """The body of a closed path rule as steps from the head's subject to its object, or ``None``."""
    from nesykg.reasoners.rules.syntax import Var

    head = rule.head
    if not (isinstance(head.subject, Var) and isinstance(head.object, Var)):
        return None
    at, steps, left = head.subject, [], list(rule.body)
    while left:
        for a in left:
            if a.subject == at:
                steps.append(a.relation)
                at = a.object
            elif a.object == at:
                steps.append("inv:" + a.relation)
                at = a.subject
            else:
                continue
            left.remove(a)
            break
        else:
            return None
    return tuple(steps) if at == head.object else None


@dataclass
class _Exemplar:
    question: Question
    topic: str | None
    paths: dict[tuple[str, ...], float]


class Planner:
    """Ranks relation-path plans for questions over one workspace.

    Args:
        ws: the workspace whose graph the paths are sampled in.
        exemplars: solved questions (with answers; topic and gold path when known).
        max_length: longest path sampled.
        k: exemplars retrieved per question.
        weights: learned plan weights (``plan key -> multiplier``, `nesykg.agents.learning`).
        rule_weights: learned rule weights (``rule text -> multiplier``) of rule-body plans.
    """

    def __init__(
        self,
        ws: Workspace,
        exemplars: Sequence[Question] = (),
        max_length: int = 2,
        k: int = 10,
        weights: Mapping[str, float] | None = None,
        rule_weights: Mapping[str, float] | None = None,
    ):
        self.ws = ws
        self.max_length = max_length
        self.k = k
        self.weights = dict(weights or {})
        self.rule_weights = dict(rule_weights or {})
        self.learned: set[tuple[str, str | None]] = set()
        self.exemplars: list[_Exemplar] = []
        self._bm25: BM25 | None = None
        self._prior: dict[tuple[str, ...], float] = defaultdict(float)
        self._counts: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
        self._vocab: set[str] = set()
        self._hop_data: list[tuple[list[str], list[str], tuple[str, ...], float]] = []
        self._hop: HopModel | None = None
        self.add_exemplars(exemplars)

    def add_exemplars(self, questions: Sequence[Question]) -> None:
        """Add solved questions (their paths are sampled now; the index is rebuilt)."""
        g = self.ws.graph
        for q in questions:
            topic = q.topic if q.topic and g.has_entity(q.topic) else None
            paths: dict[tuple[str, ...], float] = {}
            if topic:
                answers = set(q.answers)
                found = g.paths(topic, answers, self.max_length)
                if q.path and all(g.has_relation(r.removeprefix("inv:")) for r in q.path):
                    found.add(tuple(q.path))
                for p in found:
                    reached = g.follow([topic], p)
                    # a gold path broken in this graph still counts, as half sure
                    paths[p] = len(answers & set(reached)) / len(reached) if reached else 0.5
            elif q.path:
                paths[tuple(q.path)] = 0.5
            if paths:
                ex = _Exemplar(q, topic, paths)
                self.exemplars.append(ex)
                toks = self._masked(q.text, topic or q.topic)
                # a solved question's own path is its label; else the paths found, by precision
                labels = {tuple(q.path): 1.0} if q.path else paths
                total = sum(labels.values()) or 1.0
                words, cues = hop_words(q.text, topic or q.topic)
                for p, w in labels.items():
                    self._hop_data.append((words, cues, p, w / total))
                    self._prior[p] += w / total
                    for t in toks:
                        self._counts[p][t] += w / total
                        self._vocab.add(t)
        self._bm25 = None
        self._hop = None

    def hop_model(self) -> HopModel:
        """The wording model of the exemplars (fitted on first use after exemplars change)."""
        if self._hop is None:
            self._hop = HopModel().fit(self._hop_data)
        return self._hop

    def apply_learned(self, state: Mapping[str, Any]) -> int:
        """Take a learned state (`nesykg.agents.learning.learn`): its plan and rule weights replace
        the current ones, its exemplars not yet added are added; returns how many were added."""
        from nesykg.agents.questions import Question

        self.weights = {str(k): float(v) for k, v in state.get("weights", {}).items()}
        self.rule_weights = {str(k): float(v) for k, v in state.get("rule_weights", {}).items()}
        new = []
        for e in state.get("exemplars", []):
            key = (str(e["text"]), e.get("topic"))
            if key not in self.learned:
                self.learned.add(key)
                path = tuple(e.get("path", ()))
                new.append(Question(key[0], tuple(e["answers"]), key[1], path, id=str(e.get("id", ""))))
        self.add_exemplars(new)
        return len(new)

    def _classify(self, toks: list[str]) -> dict[tuple[str, ...], float]:
        """Naive Bayes over the exemplars' paths: ``P(path | words)``, from every exemplar at once."""
        import math

        if not self._prior:
            return {}
        known = [t for t in toks if t in self._vocab]
        n_prior = sum(self._prior.values())
        logs = {}
        v = len(self._vocab)
        for p, prior in self._prior.items():
            c = self._counts[p]
            denom = sum(c.values()) + NB_ALPHA * v
            logs[p] = math.log(prior / n_prior) + sum(math.log((c[t] + NB_ALPHA) / denom) for t in known)
        top = max(logs.values())
        exp = {p: math.exp(x - top) for p, x in logs.items()}
        z = sum(exp.values())
        return {p: x / z for p, x in exp.items() if x / z > 1e-4}

    def _masked(self, text: str, topic: str | None) -> list[str]:
        """BM25 tokens of `text` without the topic's name, plus ``word@k`` for the `k`-th content
        word in the order the question composes its hops: the possessive chain after the topic
        first, then the ``of`` chain before it, nearest first (``X 's children 's darling``,
        ``darling of X 's children`` and ``darling of children of X`` all give
        ``children@1 darling@2``)."""
        t = normalize(text)
        key = normalize(topic) if topic else ""
        if not key or f" {key} " not in f" {t} ":
            return tokens(t)
        before, _, after = f" {t} ".partition(f" {key} ")
        order = [w for w in tokens(after) + tokens(before)[::-1] if not w.endswith("~")]
        return tokens(before + " " + after) + [f"{w}@{min(i + 1, 3)}" for i, w in enumerate(order)]

    def similar(self, question: str, topic: str | None, k: int | None = None) -> list[tuple[_Exemplar, float]]:
        """The `k` most similar exemplars with their BM25 scores, best first."""
        if self._bm25 is None:
            self._bm25 = BM25([self._masked(e.question.text, e.topic or e.question.topic) for e in self.exemplars])
        return [(self.exemplars[i], s) for i, s in self._bm25.search(self._masked(question, topic), k or self.k)]

    def plan(self, question: str, topic: str | None = None, limit: int = 5) -> list[Plan]:
        """The best `limit` plans for `question`, best first (scores sum to at most 1)."""
        scores: dict[tuple[str, ...], float] = defaultdict(float)
        source: dict[tuple[str, ...], tuple[str, str, str]] = {}
        hits = self.similar(question, topic)
        votes: dict[tuple[str, ...], float] = defaultdict(float)
        for ex, s in hits:
            for p, precision in ex.paths.items():
                votes[p] += s * precision
        z = sum(votes.values()) or 1.0
        for p, v in votes.items():
            scores[p] += BM25_SHARE * v / z
            source.setdefault(p, ("exemplars", "", ""))
        nb = self._classify(self._masked(question, topic))
        words, cues = hop_words(question, topic)
        hop = self.hop_model().posterior(words, cues, sorted(set(self._prior) | set(nb))) if self._prior else {}
        for p in set(nb) | {p for p, v in hop.items() if v > 1e-4}:
            scores[p] += (1 - BM25_SHARE) * ((1 - HOP_SHARE) * nb.get(p, 0.0) + HOP_SHARE * hop.get(p, 0.0))
            source.setdefault(p, ("exemplars", "", ""))
        words = f" {normalize(question)} "
        for r in self.ws.graph.relations if not scores else ():  # without exemplars: the relations it names
            if normalize(r) and f" {normalize(r)} " in words:
                scores[(r,)] += 0.5
                source.setdefault((r,), ("question", "", ""))
        for p in [p for p in list(scores) if len(p) == 1 and not p[0].startswith("inv:")]:
            for rule in self.ws.rules_for(p[0]):
                body = rule_path(rule)
                if body and len(body) <= self.max_length + 1 and body not in scores:
                    learned = self.rule_weights.get(rule.text, 1.0)
                    scores[body] = scores[p] * rule.confidence * RULE_DISCOUNT * learned
                    source[body] = ("rule", rule.text, p[0])
        g = self.ws.graph
        for p in scores:
            scores[p] *= self.weights.get(plan_key(p), 1.0)
            if topic and g.has_entity(topic):  # grounded: a plan that breaks in the graph counts less
                frontier, missing = [topic], len(p)
                for step in p:
                    frontier = g.follow(frontier, [step])
                    if not frontier:
                        break
                    missing -= 1
                scores[p] *= BROKEN ** missing
        total = sum(scores.values()) or 1.0
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
        return [Plan(p, s / total, *source[p]) for p, s in ranked[:limit] if s > 0]

    def demonstrations(self, question: str, topic: str | None = None, k: int = 3) -> list[dict[str, Any]]:
        """Few-shot demonstrations: similar solved questions with their best path and answers."""
        out = []
        for ex, _ in self.similar(question, topic, k):
            best = max(ex.paths.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]
            out.append({"question": ex.question.text, "topic": ex.topic, "plan": plan_key(best), "answers": list(ex.question.answers)})
        return out
