"""`evaluate_agent`: Hits@1, F1, write-back precision, steps and latency over a question set.

>>> report = run_agent_eval(questions, kb, drop_path_triples=0.3, limit=200)
>>> report.hits_at_1, report.writeback_precision, report.p95_seconds

Protocol (`run_agent_eval`): exemplars are the given ones or a seeded 80/20 split of the
questions (paraphrases of one path on one side); `limit` scores a seeded sample of the
rest; `drop_path_triples` removes a seeded fraction of the distinct triples on the scored
questions' gold paths from the KB before anything is built (the incomplete-KG protocol).
Write-back precision is the share of written triples that are removed (held-out) facts.
The store is fresh per run; triples written while answering stay in it, but the snapshot the
tools read is the one opened, so every question sees the same graph.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from nesykg.agents.executor import AgentConfig, Executor
from nesykg.agents.planner import Planner
from nesykg.agents.questions import Question, drop_path_triples, sample, split_exemplars
from nesykg.agents.workspace import Workspace
from nesykg.progress import Progress

__all__ = ["AgentReport", "evaluate_agent", "run_agent_eval", "f1"]


def f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    """F1 of an answer set against the gold set (0 when either is empty)."""
    p, g = set(predicted), set(gold)
    hit = len(p & g)
    return 0.0 if not hit else 2 * hit / (len(p) + len(g))


@dataclass
class AgentReport:
    """What an evaluation measured, and on which questions.

    `records` has one entry per scored question: ``id``, ``hops``, ``hit``, ``steps``,
    ``removed_share`` (of its gold-path triples), each ``written`` triple's confidence and
    correctness (a held-out fact), and ``f1``, ``seconds``, ``answer``; `writes` one per
    *proposed* triple (``id``, ``triple``, ``confidence``, ``method``, ``written``,
    ``correct``), so write-back calibration can be read at any threshold (with a low one and a
    dry run); `failures` the first 20 misses.

    `written_entailed` counts written triples that are not removed facts but follow from the
    *whole* KB (before removal) by the certain (confidence 1) expert rules given to the
    workspace: true facts the KB never held, which the precision counts as wrong.
    `writeback_truth` is the share of written triples that are either. `certain_added` counts
    the facts those certain rules add to the graph the agent sees (all true by the expert's
    semantics), `certain_heldout_share` the share of them that are removed facts: the
    removed-facts precision of a writer that wrote every one of them and nothing false.
    `ceiling` is `nesykg.agents.ceiling.Ceiling.as_dict` when it was asked for.
    """

    questions: int
    hits_at_1: float
    f1: float
    written: int
    written_true: int
    writeback_precision: float | None
    mean_steps: float
    p50_seconds: float
    p95_seconds: float
    setup_seconds: float
    policy: str
    dropped: int = 0
    exemplars: int = 0
    written_entailed: int = 0
    writeback_truth: float | None = None
    certain_added: int = 0
    certain_heldout_share: float | None = None
    ceiling: dict[str, Any] | None = None
    scored_ids: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)

    def hits_by_hops(self) -> dict[int, tuple[int, float]]:
        """Hits@1 by gold path length: ``hops -> (questions, Hits@1)`` (0: path unknown)."""
        by: dict[int, list[bool]] = {}
        for r in self.records:
            by.setdefault(int(r["hops"] or 0), []).append(bool(r["hit"]))
        return {h: (len(x), sum(x) / len(x)) for h, x in sorted(by.items())}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def evaluate_agent(
    agent: Executor, questions: Sequence[Question], held_out: Sequence[tuple[str, str, str]] = (),
    progress: Progress | None = None, use_topic: bool = False, entailed: set[tuple[str, str, str]] | None = None,
) -> AgentReport:
    """Ask every question: Hits@1 (the top answer is gold), F1 of the top answer against the gold
    set, write-back precision against `held_out` (``None`` when nothing was written).

    `use_topic` gives the agent each question's topic entity instead of letting it search;
    `entailed` (true facts outside the KB, see `AgentReport`) makes `writeback_truth`."""
    hits = f1s = 0.0
    steps, lat = [], []
    written: list[tuple[str, str, str]] = []
    failures: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    writes: list[dict[str, Any]] = []
    truth = set(held_out)
    for i, q in enumerate(questions):
        res = agent.ask(q.text, q.topic if use_topic else None)
        top = res.answers[:1]
        hit = bool(top) and top[0] in q.answers
        hits += hit
        f1s += f1(top, q.answers)
        steps.append(res.steps)
        lat.append(res.seconds)
        written.extend(res.written)
        wrote = set(res.written)
        for p in res.proposals:
            t = tuple(p["triple"])
            writes.append({"id": q.id, "triple": list(t), "confidence": p["confidence"], "method": p["method"],
                           "written": t in wrote, "correct": t in truth})
        records.append({
            "id": q.id, "hops": len(q.path) or len(q.triples) or None, "hit": hit, "steps": res.steps,
            "removed_share": sum(t in truth for t in q.triples) / len(q.triples) if q.triples else None,
            "written": [{"triple": list(p["triple"]), "confidence": p["confidence"], "correct": tuple(p["triple"]) in truth}
                        for p in res.proposals if tuple(p["triple"]) in wrote],
            "f1": round(f1(top, q.answers), 4), "seconds": round(res.seconds, 5), "answer": top[0] if top else None,
        })
        if not hit and len(failures) < 20:
            failures.append({"id": q.id, "question": q.text, "gold": list(q.answers), "answers": res.answers[:3]})
        if progress is not None:
            progress("answering", i + 1, len(questions))
    n = max(1, len(questions))
    true = sum(1 for t in written if t in truth)
    also = sum(1 for t in written if t not in truth and t in (entailed or ()))
    return AgentReport(
        len(questions), hits / n, f1s / n, len(written), true, true / len(written) if written else None,
        sum(steps) / n, _pct(lat, 0.5), _pct(lat, 0.95), 0.0, agent.policy.name,
        scored_ids=[q.id for q in questions], failures=failures, records=records, writes=writes,
        written_entailed=also, writeback_truth=(true + also) / len(written) if written and entailed is not None else None,
    )


def entailed_facts(kb: Sequence[tuple[str, str, str]], rule_files: Any) -> set[tuple[str, str, str]]:
    """Triples outside `kb` that its certain (confidence 1) rules in `rule_files` (a path or
    paths) conclude, chained to a fixpoint: what the expert's knowledge makes true of the
    whole KB."""
    return _conclusions(kb, _certain_rules(rule_files))


def _certain_rules(rule_files: Any) -> list[Any]:
    """The confidence-1 rules of `rule_files` (a path or paths)."""
    from pathlib import Path

    from nesykg.reasoners.rules.syntax import read_rules

    paths = [rule_files] if isinstance(rule_files, (str, Path)) else list(rule_files or ())
    return [r for p in paths for r in read_rules(p) if r.confidence >= 1.0]


def _conclusions(kb: Sequence[tuple[str, str, str]], rules: list[Any]) -> set[tuple[str, str, str]]:
    """Triples outside `kb` that `rules` conclude from it, chained to a fixpoint."""
    from nesykg.kg.tensor import TensorKG
    from nesykg.reasoners.rules.chaining import infer

    kg = TensorKG.from_triples({"train": kb}, "kb")
    known = set(kg.vocab.relations)
    rules = [r for r in rules if r.relations() <= known]
    return {c.triple for c in infer(kg, rules, min_confidence=1.0)} if rules else set()


def run_agent_eval(
    questions: Sequence[Question],
    kb: Sequence[tuple[str, str, str]],
    exemplars: Sequence[Question] | None = None,
    limit: int | None = None,
    drop: float = 0.0,
    seed: int = 0,
    policy: str = "symbolic",
    config: AgentConfig | None = None,
    workspace_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    ceiling: Sequence[str] | None = None,
    **policy_options: Any,
) -> AgentReport:
    """The whole protocol (see the module): split, sample, drop, build, ask, measure.

    `ceiling` (link predictor names, possibly none) also measures the evidence ceiling
    (`nesykg.agents.ceiling`) over the workspace's predictors and these, trained on the same graph."""
    t0 = time.perf_counter()
    if exemplars is None:
        exemplars, questions = split_exemplars(questions, seed)
    scored = sample(questions, limit, seed)
    kept, removed = drop_path_triples(kb, scored, drop, seed) if drop else (list(kb), [])
    ws = Workspace.from_triples(kept, "kb", **(workspace_options or {}))
    planner = Planner(ws, exemplars)
    agent = Executor(ws, planner, policy, config, **policy_options)
    setup = time.perf_counter() - t0
    expert = (workspace_options or {}).get("rules")
    certain = _certain_rules(expert) if expert else None
    entailed = _conclusions(kb, certain) if certain is not None else None
    report = evaluate_agent(agent, scored, removed, progress, entailed=entailed)
    if certain is not None:
        added = _conclusions(kept, certain)
        report.certain_added = len(added)
        report.certain_heldout_share = len(added & set(removed)) / len(added) if added else None
    if ceiling is not None:
        from nesykg.agents.ceiling import evidence_ceiling, extra_predictors

        extra = extra_predictors(ws.kg, list(ceiling), seed)
        hits = {r["id"]: bool(r["hit"]) for r in report.records}
        report.ceiling = evidence_ceiling(ws, scored, planner, extra, hits).as_dict()
    report.setup_seconds = setup
    report.dropped = len(removed)
    report.exemplars = len(exemplars)
    return report
