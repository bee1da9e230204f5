"""The executor: a ReAct loop (thought, action, observation) with a step budget and a full trace.

>>> agent = Executor(ws, Planner(ws, exemplars))                 # symbolic policy by default
>>> result = agent.ask("which nationality is X 's couple ?")
>>> result.answers, result.written, result.run_id, result.trace[0]

Every tool call is one step of the budget (`AgentConfig.max_steps`, default 10); the policy
(`nesykg.agents.policies`) chooses the actions, the executor runs them through `call_tool`
and records each as ``{"step", "thought", "action", "arguments", "ok", "observation"}``.
Where a step of a path finds no edge, `Executor.fallback` tries the rules, then the other
link predictors, then the documents. When the question is done, the accepted proposals are
committed with provenance (`nesykg.agents.writeback`) unless it is a dry run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nesykg.agents.kgview import split_step
from nesykg.agents.planner import Planner
from nesykg.agents.tools import Episode, call_tool
from nesykg.agents.tools.base import Support
from nesykg.agents.workspace import Workspace
from nesykg.agents.writeback import DEFAULT_MIN_CONFIDENCE, commit

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.agents.memory import Memory

__all__ = ["AgentConfig", "AgentResult", "Executor", "DOCUMENT_CONFIDENCE"]

RESERVE = 2
"""Steps a policy keeps for proposing triples and finishing."""
DOCUMENT_CONFIDENCE = 0.5
"""The most confidence a triple found only in a document gets (below the write threshold)."""
WEAK = 0.5
"""A fallback asks its next source while its best candidate's confidence is below this."""


@dataclass(frozen=True)
class AgentConfig:
    """How the agent runs.

    Attributes:
        max_steps: tool calls per question.
        min_confidence: least confidence of a triple written back.
        dry_run: propose and validate, write nothing.
        fallback_k: candidates taken per fallback.
        max_plans: plans a symbolic policy tries.
        typed_fallback: a fallback candidate (and a rule plan's answer) must fit the type of
            its step as the graph shows it (`KGView.fits_range`: one of its observed classes
            shares a member with the step's observed range, after the local closed-world type
            constraint of Krompass et al., ISWC 2015), so a model's guess of another type (a
            person as a cause of death, ``male`` as an heir) never becomes an answer or a write.
    """

    max_steps: int = 10
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    dry_run: bool = False
    fallback_k: int = 3
    max_plans: int = 3
    typed_fallback: bool = True


@dataclass
class AgentResult:
    """The outcome of one question: answers, the trace and what was written."""

    question: str
    answers: list[str]
    trace: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    written: list[tuple[str, str, str]]
    run_id: str
    steps: int
    seconds: float
    policy: str
    finished: bool
    plans: list[dict[str, Any]] = field(default_factory=list)
    topic: str | None = None
    plan: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answers": self.answers,
            "policy": self.policy,
            "finished": self.finished,
            "steps": self.steps,
            "seconds": round(self.seconds, 4),
            "run_id": self.run_id,
            "topic": self.topic,
            "plan": self.plan,
            "plans": self.plans,
            "written": [list(t) for t in self.written],
            "proposals": self.proposals,
            "trace": self.trace,
        }


def _rank_score(item: dict[str, Any]) -> float:
    """How a fallback ranks a predicted candidate: its confidence, or for a calibrated model the
    larger of that and its own truth value up to `WEAK` (a model's ranking is informative even
    where its calibrated confidence is low; what is written keeps the calibrated confidence)."""
    if "truth" in item:
        return max(float(item["confidence"]), min(float(item["truth"]), WEAK))
    return float(item["confidence"])


class BudgetExhausted(Exception):
    """The step budget is spent (internal: ends a policy's run)."""


class Executor:
    """Runs a policy over a workspace, one question at a time.

    Args:
        ws: the workspace.
        planner: the planner (one without exemplars when ``None``).
        policy: a policy name (``symbolic``, ``llm``) or instance (`nesykg.agents.policies`).
        config: budgets, threshold, dry run.
        memory: where every answered question is recorded (`nesykg.agents.memory`), with its gold
            answers when `ask` is given them or `labels` knows the question.
        labels: gold answers by question text (e.g. of an evaluation set), for the memory.
        learnable: whether what is recorded may be learned from (``False`` for an evaluation).
        **policy_options: passed to the policy's constructor (``model=`` for ``llm``).
    """

    def __init__(
        self,
        ws: Workspace,
        planner: Planner | None = None,
        policy: str | Any = "symbolic",
        config: AgentConfig | None = None,
        memory: Memory | None = None,
        labels: Mapping[str, Sequence[str]] | None = None,
        learnable: bool = True,
        **policy_options: Any,
    ):
        from nesykg.agents.policies import make_policy

        self.ws = ws
        self.planner = planner or Planner(ws)
        self.config = config or AgentConfig()
        self.policy = make_policy(policy, **policy_options) if isinstance(policy, str) else policy
        self.ep: Episode = Episode(ws)
        self.trace: list[dict[str, Any]] = []
        self.memory = memory
        self.labels = dict(labels or {})
        self.learnable = learnable
        self._step_plans: list[str] = []

    # ------------------------------------------------------------------ acting
    @property
    def steps_left(self) -> int:
        return self.config.max_steps - len(self.trace)

    def act(self, thought: str, action: str, arguments: Any) -> tuple[bool, dict[str, Any]]:
        """Run one tool call as one step; `BudgetExhausted` when no step is left."""
        if self.steps_left <= 0:
            raise BudgetExhausted
        ok, obs = call_tool(self.ep, action, arguments)
        self._step_plans.append(str(self.ep.notes.get("plan", "")))
        self.trace.append(
            {"step": len(self.trace) + 1, "thought": thought, "action": action, "arguments": arguments, "ok": ok, "observation": obs}
        )
        return ok, obs

    def record(self, thought: str, action: str, arguments: Any, observation: dict[str, Any]) -> None:
        """Record a step that ran no tool (a model's malformed call, an answer without an action);
        it counts against the budget like any other."""
        if self.steps_left <= 0:
            raise BudgetExhausted
        self._step_plans.append(str(self.ep.notes.get("plan", "")))
        self.trace.append(
            {"step": len(self.trace) + 1, "thought": thought, "action": action, "arguments": arguments, "ok": False,
             "observation": observation}
        )

    def fallback(self, entities: list[str], step: str) -> list[tuple[str, str, float, str]]:
        """Candidates ``(from, entity, confidence, method)`` for a `step` the graph lacks from `entities`:
        the rules first, then the other link predictors, then the documents, then the relation-range
        prior (`nesykg.agents.prior`), each source asked only while the best candidate so far is below
        `WEAK`; a candidate several sources give ranks by their noisy-or; best first. A candidate
        equal to its head is dropped unless the graph has such self-loops (`KGView.reflexive`)."""
        models = [m for m in self.ws.predictors if m != "prior"]
        sources = [[m] for m in (["rules"] if "rules" in models else []) + sorted(m for m in models if m != "rules")]
        best: dict[str, tuple[str, str, float, str]] = {}
        typed = self.config.typed_fallback
        for src in [*sources, "documents", ["prior"]]:
            if best and max(x[2] for x in best.values()) >= WEAK:
                break
            if src == "documents":
                found = self._from_documents(entities, step)
            elif src == ["prior"] and not self._prior_covers(step):
                continue
            else:
                found = self._from_models(entities, step, list(src), typed)
            for h, e, c, m in found:  # the noisy-or ranks; a write still trusts each tool's own confidence
                if not self._admissible(h, e, step, typed):
                    continue
                best[e] = (best[e][0], e, 1 - (1 - best[e][2]) * (1 - c), best[e][3]) if e in best else (h, e, c, m)
        return sorted(best.values(), key=lambda x: (-x[2], x[1]))[: self.config.fallback_k]

    def _admissible(self, head: str, candidate: str, step: str, typed: bool) -> bool:
        """Whether `candidate` may stand at the far end of `step` from `head`: of the step's type when
        `typed` (not a person as a cause of death), and not `head` itself unless the graph has such
        self-loops (not a person as their own parent)."""
        g = self.ws.graph
        if typed and not g.fits_range(candidate, step):
            return False
        return candidate != head or g.reflexive(step)

    def _prior_covers(self, step: str) -> bool:
        prior = self.ws.predictors.get("prior")
        if prior is None or not hasattr(prior, "covers") or prior.vocab is None:
            return prior is not None
        rel, inv = split_step(step)
        if not self.ws.graph.has_relation(rel):
            return False
        return bool(prior.covers(prior.vocab.relation_id(rel) + (prior.num_relations if inv else 0)))

    def _from_models(
        self, entities: list[str], step: str, names: list[str], typed: bool = False
    ) -> list[tuple[str, str, float, str]]:
        k = self.config.fallback_k
        models = (["rules"] if "rules" in names else []) + sorted(m for m in names if m != "rules")
        for model in models:
            found: dict[str, tuple[str, float]] = {}
            for e in entities[:2]:
                if self.steps_left <= RESERVE:
                    break
                ok, obs = self.act(f"No edge {step!r} from {e!r}: ask the {model} predictor.", "predict_links",
                                   {"head": e, "relation": step, "top_k": 4 * k if typed else k, "model": model})
                for item in obs.get("items", []) if ok else []:
                    if not self._admissible(e, item["entity"], step, typed):
                        continue
                    if not item["known"] and item["entity"] not in found:
                        found[item["entity"]] = (e, _rank_score(item))
            if found:
                return sorted(((h, e, c, model) for e, (h, c) in found.items()), key=lambda x: -x[2])[:k]
        return []

    def _from_documents(self, entities: list[str], step: str) -> list[tuple[str, str, float, str]]:
        if not len(self.ws.documents) or self.steps_left <= RESERVE or not entities:
            return []
        rel, inv = split_step(step)
        e = entities[0]
        ok, obs = self.act(f"Neither rules nor models know {step!r} of {e!r}: read the documents.",
                           "search_documents", {"text": f"{e} {rel}", "k": 3})
        if not ok:
            return []
        from nesykg.agents.tools.base import ToolError
        from nesykg.agents.tools.graph import search_entities

        range_ = self.ws.graph.step_range(rel) if not inv else frozenset()
        out: dict[str, float] = {}
        top = obs["items"][0]["score"] or 1.0
        for item in obs["items"]:
            if e.replace("_", " ").lower() not in item["text"].replace("_", " ").lower():
                continue
            try:
                names = [x["entity"] for x in search_entities(self.ep, item["text"], 20)["items"] if x["match"] != "fuzzy"]
            except ToolError:
                continue
            for cand in names:
                if cand != e and (not range_ or cand in range_) and cand not in out:
                    conf = DOCUMENT_CONFIDENCE * item["score"] / top
                    out[cand] = conf
                    triple = (cand, rel, e) if inv else (e, rel, cand)
                    self.ep.believe(triple, Support(conf, "documents", item["source"]))
        return sorted(((e, c, s, "documents") for c, s in out.items()), key=lambda x: -x[2])[: self.config.fallback_k]

    # ------------------------------------------------------------------ running
    def ask(self, question: str, topic: str | None = None, gold: Sequence[str] | None = None) -> AgentResult:
        """Answer one question; commits accepted proposals unless `AgentConfig.dry_run`; records the
        trajectory (with `gold`, else the `labels` entry of the question) when there is a memory."""
        from nesykg.kg.provenance import new_run_id

        t0 = time.perf_counter()
        self.ep = Episode(self.ws, question, min_confidence=self.config.min_confidence)
        if topic:
            self.ep.notes["topic"] = topic
        self.trace = []
        self._step_plans = []
        try:
            self.policy.run(self, question)
        except BudgetExhausted:
            pass
        run_id = new_run_id("agent")
        written = commit(self.ws, self.ep.proposals, run_id, question, self.policy.name, self.config.dry_run)
        res = AgentResult(
            question,
            list(self.ep.answers),
            self.trace,
            [p.as_dict() for p in self.ep.proposals],
            written,
            run_id if written else "",
            len(self.trace),
            time.perf_counter() - t0,
            self.policy.name,
            self.ep.finished,
            list(self.ep.notes.get("plans", [])),
            topic or self._topic(),
        )
        res.plan = self._plan_of(res.answers[0]) if res.answers else ""
        if self.memory is not None:
            self.memory.record(res, gold if gold is not None else self.labels.get(question), self.learnable)
        return res

    def _topic(self) -> str | None:
        """The topic the policy settled on, else the first entity found in the question."""
        if self.ep.notes.get("topic"):
            return str(self.ep.notes["topic"])
        for s in self.trace:
            if s["action"] == "search_entities" and s["ok"] and s["observation"].get("items"):
                return str(s["observation"]["items"][0]["entity"])
        return None

    def _plan_of(self, answer: str) -> str:
        """The plan being followed (the policy's ``notes["plan"]``) at the first step reaching `answer`."""
        for s, plan in zip(self.trace, self._step_plans):
            obs = s["observation"] if s["ok"] else {}
            reached = obs.get("answers", []) if s["action"] == "follow_path" else (
                [i.get("entity") for i in obs.get("items", [])] if s["action"] == "predict_links" else [])
            if plan and answer in reached:
                return plan
        return ""
