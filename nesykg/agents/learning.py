"""Self-learning: the planner learns offline from the outcomes of recorded trajectories.

>>> with Memory("agent.db") as mem:
...     agent = Executor(ws, planner, memory=mem)
...     for q in training: agent.ask(q.text, gold=q.answers)      # trajectories with outcomes
...     state = learn(mem, planner)                                # planner updated, state saved
>>> Planner(ws, exemplars).apply_learned(Memory("agent.db").load_state())   # a later session

`learn` reads every trajectory with gold answers and a topic entity:

* a **success** (top answer gold) credits the plan the top answer came from, and is kept as an
  exemplar (question, topic, gold answers, that plan as its path);
* a **failure** blames the plan that gave the wrong top answer; the best-ranked of the plans
  the planner offered then that reaches a gold answer in the graph is credited instead and
  becomes the exemplar's path (with ``corrections``; when none does, the question is kept
  with its gold answers and the planner samples the paths linking its topic to them);
* each plan's weight is ``2 (credits + 1) / (credits + blames + 2)`` clipped to
  [`MIN_WEIGHT`, `MAX_WEIGHT`] (1 without evidence); a rule-body plan's counts also weigh
  its rule (`Planner.rule_weights`).

The state (weights, counts, exemplars) is recomputed from the whole memory each time, saved in
it as JSON, and applied to the planner (`Planner.apply_learned`). `learn_and_evaluate` runs
the protocol of ``nesykg agent learn``: validation Hits@1, passes over the training
questions (recorded, then learned from), validation Hits@1 again. Learning never writes to
the store: its passes are dry runs.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from nesykg.agents.memory import Memory, Trajectory
from nesykg.agents.planner import Planner

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.evaluation import AgentReport
    from nesykg.agents.executor import AgentConfig
    from nesykg.agents.kgview import KGView
    from nesykg.agents.questions import Question
    from nesykg.agents.workspace import Workspace
    from nesykg.progress import Progress

__all__ = [
    "learn",
    "load_learned",
    "learn_and_evaluate",
    "run_learning_eval",
    "evaluate_with_memory",
    "plan_weight",
    "LearningReport",
    "MIN_WEIGHT",
    "MAX_WEIGHT",
]

MIN_WEIGHT = 0.25
"""Least multiplier of a plan that always failed."""
MAX_WEIGHT = 2.0
"""Largest multiplier of a plan that always succeeded."""


def plan_weight(credits: int, blames: int) -> float:
    """``2 (c + 1) / (c + b + 2)``, clipped: 1 without evidence, towards 2 (0) with successes (failures)."""
    return min(MAX_WEIGHT, max(MIN_WEIGHT, 2.0 * (credits + 1) / (credits + blames + 2)))


def _steps(t: Trajectory, key: str, graph: KGView) -> tuple[str, ...] | None:
    """The relation steps of plan `key`: as the trajectory followed them, else split at ``/``."""
    for a in t.actions:
        rels = a["arguments"].get("relations") if isinstance(a.get("arguments"), dict) else None
        if a["action"] == "follow_path" and isinstance(rels, list) and "/".join(map(str, rels)) == key:
            return tuple(map(str, rels))
    parts = tuple(key.split("/"))
    return parts if all(graph.has_relation(p.removeprefix("inv:")) for p in parts) else None


def _outcome(t: Trajectory, graph: KGView, corrections: bool) -> tuple[str, str, dict[str, Any] | None]:
    """(credited plan, blamed plan, exemplar) of one trajectory with gold and topic."""
    assert t.gold is not None and t.topic
    exemplar = {
        "text": t.question,
        "topic": t.topic,
        "answers": list(t.gold),
        "path": [],
        "id": f"memory:{t.id}",
    }
    if t.success:
        steps = _steps(t, t.plan, graph) if t.plan else None
        return t.plan, "", {**exemplar, "path": list(steps or ())}
    gold = set(t.gold)
    if corrections and graph.has_entity(t.topic):
        for p in t.plans:
            if p["plan"] == t.plan:  # the plan that answered wrong
                continue
            steps = _steps(t, p["plan"], graph)
            if steps and gold & set(graph.follow([t.topic], steps)):
                return p["plan"], t.plan, {**exemplar, "path": list(steps)}
    return "", t.plan, exemplar if corrections else None


def learn(memory: Memory, planner: Planner, corrections: bool = True, save: bool = True) -> dict[str, Any]:
    """Recompute the learned state from every learnable trajectory in `memory` with gold answers and a
    topic (an evaluation's are not learnable), apply it to `planner` and (with `save`) store it in the
    memory; returns the state (JSON-able)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rule_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    exemplars: dict[tuple[str, str], dict[str, Any]] = {}
    used = 0
    g = planner.ws.graph
    for t in memory.trajectories():
        if t.gold is None or not t.topic or not t.learnable:
            continue
        used += 1
        credit, blame, ex = _outcome(t, g, corrections)
        rules = {p["plan"]: p.get("rule", "") for p in t.plans}
        for key, i in ((credit, 0), (blame, 1)):
            if key:
                counts[key][i] += 1
                if rules.get(key):
                    rule_counts[rules[key]][i] += 1
        key2 = (t.question, t.topic)
        if ex is not None and (key2 not in exemplars or (ex["path"] and not exemplars[key2]["path"])):
            exemplars[key2] = ex
    state = {
        "version": 1,
        "trajectories": used,
        "learned_at": time.time(),
        "counts": {k: v for k, v in sorted(counts.items())},
        "weights": {k: plan_weight(*v) for k, v in sorted(counts.items())},
        "rule_weights": {k: plan_weight(*v) for k, v in sorted(rule_counts.items())},
        "exemplars": list(exemplars.values()),
    }
    planner.apply_learned(state)
    if save:
        memory.save_state(state)
    return state


def load_learned(memory: Memory, planner: Planner) -> dict[str, Any] | None:
    """Apply the state the memory holds to `planner` (nothing before the first `learn`); returns it."""
    state = memory.load_state()
    if state is not None:
        planner.apply_learned(state)
    return state


@dataclass
class LearningReport:
    """Validation before and after learning, and each training pass."""

    before: AgentReport
    after: AgentReport
    passes: list[dict[str, Any]] = field(default_factory=list)
    trajectories: int = 0
    exemplars_learned: int = 0
    weights: int = 0
    seed_exemplars: int = 0
    training: int = 0
    dropped: int = 0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("before", "after"):
            out[k].pop("scored_ids", None)
        return out


def learn_and_evaluate(
    ws: Workspace,
    train: Sequence[Question],
    valid: Sequence[Question],
    memory: Memory,
    exemplars: Sequence[Question] = (),
    passes: int = 1,
    policy: str = "symbolic",
    config: AgentConfig | None = None,
    corrections: bool = True,
    progress: Progress | None = None,
    **policy_options: Any,
) -> LearningReport:
    """Validation Hits@1 with the planner as the memory left it, then `passes` times: answer every
    training question (recorded with its gold answers) and `learn`; then validation Hits@1 again.
    Validation questions are not recorded; nothing is written to the store (dry runs)."""
    from nesykg.agents.evaluation import evaluate_agent
    from nesykg.agents.executor import AgentConfig, Executor

    cfg = replace(config or AgentConfig(), dry_run=True)
    planner = Planner(ws, exemplars)
    load_learned(memory, planner)
    judge = Executor(ws, planner, policy, cfg, **policy_options)
    before = evaluate_agent(judge, valid, progress=progress)
    agent = Executor(ws, planner, policy, cfg, memory=memory, **policy_options)
    rows, state = [], None
    for i in range(passes):
        hits = 0
        for j, q in enumerate(train):
            res = agent.ask(q.text, gold=q.answers)
            hits += bool(res.answers) and res.answers[0] in q.answers
            if progress is not None:
                progress(f"training pass {i + 1}", j + 1, len(train))
        state = learn(memory, planner, corrections)
        rows.append(
            {
                "pass": i + 1,
                "train_hits_at_1": hits / max(1, len(train)),
                "exemplars": len(state["exemplars"]),
                "weights": len(state["weights"]),
            }
        )
    after = evaluate_agent(judge, valid, progress=progress)
    return LearningReport(
        before,
        after,
        rows,
        len(memory),
        len(state["exemplars"]) if state else 0,
        len(state["weights"]) if state else 0,
    )


def run_learning_eval(
    questions: Sequence[Question],
    kb: Sequence[tuple[str, str, str]] | None,
    memory: Memory,
    valid: Sequence[Question] | None = None,
    exemplars: Sequence[Question] = (),
    seed_share: float = 0.0,
    limit: int | None = None,
    drop: float = 0.0,
    seed: int = 0,
    passes: int = 1,
    ws: Workspace | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> LearningReport:
    """The protocol of ``nesykg agent learn`` and ``bench_agent.py --learn``: validation questions
    are `valid`, else a seeded grouped 20% of `questions` (`split_exemplars`); `seed_share` of the
    training questions (grouped, seeded) go to the planner directly as exemplars, beside
    `exemplars`; `limit` samples the validation questions; `drop` removes that share of their gold
    path triples from `kb` before the workspace is built (over `ws` when no `kb` is given).
    `options` go to `learn_and_evaluate`."""
    from nesykg.agents.questions import drop_path_triples, sample, split_exemplars
    from nesykg.agents.workspace import Workspace

    train, val = (list(questions), list(valid)) if valid is not None else split_exemplars(questions, seed)
    scored = sample(val, limit, seed)
    given = list(exemplars)
    if seed_share > 0:
        more, train = split_exemplars(train, seed, seed_share)
        given += more
    removed: list[tuple[str, str, str]] = []
    if kb is not None:
        kept, removed = drop_path_triples(kb, scored, drop, seed) if drop else (list(kb), [])
        ws = Workspace.from_triples(kept, "kb")
    if ws is None:
        raise ValueError("run_learning_eval needs a kb or a workspace")
    rep = learn_and_evaluate(ws, train, scored, memory, given, passes, progress=progress, **options)
    rep.seed_exemplars, rep.training, rep.dropped = len(given), len(train), len(removed)
    return rep


def evaluate_with_memory(
    questions: Sequence[Question],
    kb: Sequence[tuple[str, str, str]],
    memory: Memory,
    exemplars: Sequence[Question] | None = None,
    limit: int | None = None,
    drop: float = 0.0,
    seed: int = 0,
    policy: str = "symbolic",
    config: AgentConfig | None = None,
    progress: Progress | None = None,
    workspace_options: dict[str, Any] | None = None,
    **policy_options: Any,
) -> AgentReport:
    """`run_agent_eval`'s protocol with a memory: the planner starts from the memory's learned
    state, and every scored question is recorded in it with its gold answers as an evaluation's
    (not learnable: a later `learn` leaves them out, so evaluation questions never become training
    data)."""
    from nesykg.agents.evaluation import evaluate_agent
    from nesykg.agents.executor import Executor
    from nesykg.agents.questions import drop_path_triples, sample, split_exemplars
    from nesykg.agents.workspace import Workspace

    t0 = time.perf_counter()
    if exemplars is None:
        exemplars, questions = split_exemplars(questions, seed)
    scored = sample(questions, limit, seed)
    kept, removed = drop_path_triples(kb, scored, drop, seed) if drop else (list(kb), [])
    ws = Workspace.from_triples(kept, "kb", **(workspace_options or {}))
    planner = Planner(ws, exemplars)
    load_learned(memory, planner)
    labels = {q.text: q.answers for q in scored}
    agent = Executor(ws, planner, policy, config, memory=memory, labels=labels, learnable=False, **policy_options)
    setup = time.perf_counter() - t0
    report = evaluate_agent(agent, scored, removed, progress)
    report.setup_seconds, report.dropped, report.exemplars = setup, len(removed), len(exemplars)
    return report
