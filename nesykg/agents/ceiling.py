"""`evidence_ceiling`: the most Hits@1 that any choice among a workspace's sources could reach.

On questions with gold relation paths over an incomplete graph, a question can be answered
from the sources an agent has only if

* its gold path still holds in the graph,
* or, walking the gold path's relations from the topic along the graph's edges, and where an
  entity has none along a step (a missing hop) along the first `k` tails of one link
  predictor, a gold answer is reached for *some* choice of predictor per step: the oracle's
  choice of the right predictor, which no real agent has (from a topic with no edge left,
  only a range prior's first `k` values of the last step, a guess, can be right),
* or a plan the planner offers reaches a gold answer in the graph with fewer than `k` answers
  that are not gold (so it could put a gold one first),
* or the agent itself answered it (`hits`), so the ceiling bounds what it did too.

The share of questions meeting one of these is an upper bound on the Hits@1 of every agent
that, like this one, follows the graph where it has an edge and takes a missing hop from one
of those predictors' first choices, or answers by one of those plans: a target above the
``k = 1`` figure cannot be reached with them. The ``k = 3`` figure (a hop
counts when any predictor ranks it third or better) bounds, more loosely, what any ensemble
of them could do by re-ranking their top three. For comparison, `Ceiling.ensemble` is what a
plain ensemble reaches when told the gold relations: at each missing hop the first choice of
the reciprocal-rank fusion of all the predictors' rankings.

>>> c = evidence_ceiling(ws, questions, Planner(ws, exemplars), extra_predictors(ws.kg, ["distmult"]))
>>> c.ceiling, c.ceiling_top3, c.topic_lost
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from nesykg.errors import InputError, NesykgError

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.planner import Planner
    from nesykg.agents.questions import Question
    from nesykg.agents.workspace import Workspace
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.base import LinkPredictor

__all__ = ["MAX_FRONTIER", "Ceiling", "evidence_ceiling", "extra_predictors"]

MAX_FRONTIER = 2000
"""Most entities a gold-path walk keeps per hop (a hub such as ``gender`` -> ``male`` stays far below)."""
FUSED = "<fused>"
"""The walker's name for the reciprocal-rank fusion of all its predictors."""
FUSED_DEPTH = 10
"""Ranks per predictor that the fusion reads."""


@dataclass
class Ceiling:
    """What `evidence_ceiling` found.

    Attributes:
        questions: questions looked at (those with a gold path).
        intact: their gold path holds in the graph.
        topic_lost: their topic entity has no edge left (only a guess of the usual answer is left).
        by_predictors: reachable along the gold path with each missing hop a predictor's first choice
            (from a lost topic: the range prior's first choice for the last step).
        by_plans: a plan the planner offers reaches gold answers only.
        by_agent: the agent answered them (when its hits were given).
        ceiling: share reachable by any of the above (``k = 1``).
        ceiling_top3: the same with a predictor's top 3 accepted per missing hop.
        predictors: the predictors the oracle chose among.
        unreachable: ids of the questions nothing reaches (``k = 3``).
        seconds: time taken (training extra predictors excluded).
        ensemble: share a plain ensemble reaches along the gold path's relations (told the right
            plan, which an agent is not): each missing hop the reciprocal-rank fusion's first
            choice over all the predictors, not an oracle's. No agent union, no plans.
    """

    questions: int
    intact: int
    topic_lost: int
    by_predictors: int
    by_plans: int
    by_agent: int
    ceiling: float
    ceiling_top3: float
    predictors: list[str]
    unreachable: list[str] = field(default_factory=list)
    seconds: float = 0.0
    ensemble: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _steps(q: Question) -> list[str]:
    if q.path:
        return list(q.path)
    return [r for _, r, _ in q.triples]


class _Walker:
    """Walks gold paths: the graph's edges where it has some, one chosen predictor's first `k`
    tails where an entity has none along the step (a missing hop). Each predictor ranks each
    ``(entity, step)`` once, to `FUSED_DEPTH`; every `k` and the fusion read that ranking."""

    def __init__(self, ws: Workspace, predictors: Mapping[str, LinkPredictor]):
        self.ws, self.predictors = ws, dict(predictors)
        self._ranked: dict[tuple[str, str, str], list[str]] = {}
        self._fused: dict[tuple[str, str], list[str]] = {}

    def ranked(self, name: str, entity: str, step: str) -> list[str]:
        """Predictor `name`'s first `FUSED_DEPTH` tails of ``(entity, step, ?)``."""
        key = (name, entity, step)
        if key not in self._ranked:
            from nesykg.agents.kgview import split_step
            from nesykg.reasoners.predict import predict

            rel, inv = split_step(step)
            try:
                ranking = predict(self.predictors[name], relation=rel, top_k=FUSED_DEPTH,
                                  **({"tail": entity} if inv else {"head": entity}))
                self._ranked[key] = [a.entity for a in ranking.answers if a.score > 0]
            except NesykgError:  # the entity or relation is unknown to this predictor
                self._ranked[key] = []
        return self._ranked[key]

    def fused(self, entity: str, step: str) -> list[str]:
        """The first tail of ``(entity, step, ?)`` by reciprocal-rank fusion (Cormack et al. 2009,
        ``sum 1 / (60 + rank)``) of every predictor's first `FUSED_DEPTH`, self-loops left out
        where the graph has none: a plain, untuned ensemble."""
        key = (entity, step)
        if key not in self._fused:
            loops = self.ws.graph.reflexive(step)
            score: dict[str, float] = {}
            for name in sorted(self.predictors):
                ranked = [e for e in self.ranked(name, entity, step) if e != entity or loops]
                for rank, e in enumerate(ranked, 1):
                    score[e] = score.get(e, 0.0) + 1.0 / (60 + rank)
            self._fused[key] = sorted(score, key=lambda e: (-score[e], e))[:1]
        return self._fused[key]

    def walk(self, topic: str, steps: Sequence[str], choice: Sequence[str], k: int = 1) -> tuple[set[str], bool]:
        """The entities reached, and whether a missing hop was taken (`choice`: a predictor per
        step, or `FUSED`)."""
        g = self.ws.graph
        frontier, used = {topic}, False
        for step, name in zip(steps, choice):
            nxt: set[str] = set()
            for e in sorted(frontier):
                there = g.step(e, step)
                if not there and g.has_entity(e):
                    there, used = (self.fused(e, step) if name == FUSED else self.ranked(name, e, step)[:k]), True
                nxt.update(there)
                if len(nxt) >= MAX_FRONTIER:
                    break
            frontier = nxt
        return frontier, used

    def reaches(self, topic: str, steps: Sequence[str], gold: set[str], k: int) -> bool:
        """Whether some choice of one predictor per step, taking its first `k`, reaches a gold
        answer; from a topic not in the graph, only a guess of the last step's usual values (a
        range prior's first `k`) can."""
        from itertools import product

        if not self.ws.graph.has_entity(topic):
            from nesykg.agents.kgview import split_step

            rel, inv = split_step(steps[-1])
            return any(e in gold for p in self.predictors.values() if hasattr(p, "usual")
                       for e, _ in p.usual(rel, inv, k=k))

        for choice in product(sorted(self.predictors), repeat=len(steps)):
            reached, used = self.walk(topic, steps, choice, k)
            if reached & gold:
                return True
            if not used:
                return False  # the graph alone decides: no choice changes anything
        return False


def _plan_counts(answers: set[str], gold: set[str], k: int) -> bool:
    """A plan can put a gold answer first among at most `k` candidates: it reaches one, and fewer
    than `k` of its answers are not gold (``k = 1``: all of them are)."""
    return bool(answers & gold) and len(answers - gold) < k


def evidence_ceiling(
    ws: Workspace,
    questions: Sequence[Question],
    planner: Planner | None = None,
    predictors: Mapping[str, LinkPredictor] | None = None,
    hits: Mapping[str, bool] | None = None,
    plans: int = 5,
) -> Ceiling:
    """The Hits@1 ceiling of `questions` over workspace `ws` (see the module).

    Args:
        ws: the workspace the agent answered over (its graph is the incomplete one).
        questions: questions with gold paths (others are skipped); each needs a topic.
        planner: whose plans count (``None``: plans do not count).
        predictors: link predictors besides the workspace's own (e.g. from `extra_predictors`).
        hits: question id -> whether the agent answered it.
        plans: how many of the planner's plans count per question.

    Raises:
        InputError: no question has a gold path and a topic.
    """
    t0 = time.perf_counter()
    qs = [q for q in questions if q.topic and (q.path or q.triples)]
    if not qs:
        raise InputError("the ceiling needs questions with a topic entity and a gold path (e.g. PathQuestion)")
    preds = {**ws.predictors, **(predictors or {})}
    g = ws.graph
    walker = _Walker(ws, preds)
    intact = lost = by_pred = by_plan = by_agent = reach1 = reach3 = fused = 0
    unreachable: list[str] = []
    for q in qs:
        topic, steps, gold = str(q.topic), _steps(q), set(q.answers)
        holds = bool(set(g.follow([topic], steps)) & gold)
        intact += holds
        lost += not g.has_entity(topic)
        p1 = holds or walker.reaches(topic, steps, gold, 1)
        by_pred += p1 and not holds
        offered = [set(g.follow([topic], list(p.steps))) for p in planner.plan(q.text, topic, limit=plans)] \
            if planner is not None and g.has_entity(topic) else []
        alt1 = any(_plan_counts(a, gold, 1) for a in offered)
        by_plan += alt1
        agent = bool(hits and hits.get(q.id))
        by_agent += agent
        reach1 += p1 or alt1 or agent
        r3 = p1 or alt1 or agent or any(_plan_counts(a, gold, 3) for a in offered) or walker.reaches(topic, steps, gold, 3)
        reach3 += r3
        if g.has_entity(topic):
            fused += holds or bool(walker.walk(topic, steps, [FUSED] * len(steps))[0] & gold)
        else:
            fused += walker.reaches(topic, steps, gold, 1)  # only the range prior's guess
        if not r3:
            unreachable.append(q.id)
    n = len(qs)
    return Ceiling(n, intact, lost, by_pred, by_plan, by_agent, reach1 / n, reach3 / n, sorted(preds),
                   unreachable, time.perf_counter() - t0, fused / n)


def extra_predictors(kg: TensorKG, names: Sequence[str], seed: int = 0,
                     nbfnet_seconds: float = 300.0) -> dict[str, LinkPredictor]:
    """Link predictors trained on `kg` for the ceiling's oracle to choose among: embedding models by
    registry name (`nesykg.agents.calibration.TRAIN_DEFAULTS`: seconds on a few thousand edges) and
    ``nbfnet`` (6 layers of 32, trained for at most `nbfnet_seconds`)."""
    import torch

    from nesykg.agents.calibration import TRAIN_DEFAULTS
    from nesykg.reasoners.config import TrainingConfig
    from nesykg.reasoners.training import train

    out: dict[str, LinkPredictor] = {}
    for name in names:
        if name == "nbfnet":
            from nesykg.reasoners.gnn.nbfnet import NBFNet, NBFNetConfig
            from nesykg.reasoners.gnn.training import GNNTrainingConfig, train_nbfnet

            net = NBFNet(kg.vocab, NBFNetConfig(dim=32, num_layers=6), kg.triples("train"),
                         generator=torch.Generator().manual_seed(seed))
            train_nbfnet(net, kg.triples("train"), None,
                         GNNTrainingConfig(epochs=20, batch_size=32, seed=seed, time_budget=nbfnet_seconds))
            out[f"{name}-ceiling"] = net
        else:
            model, _ = train(kg, TrainingConfig(model=name, **{**TRAIN_DEFAULTS, "seed": seed}))
            out[f"{name}-ceiling"] = model
    return out
