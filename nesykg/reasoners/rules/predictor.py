"""Rule-based link prediction with explanations (AnyBURL-style application).

A query ``(e, q, ?)`` with ``q`` a relation id in ``[0, 2R)`` (``q >= R``: head prediction
through the reciprocal relation) is answered by every rule that concludes ``q(e, y)``:

* a path rule ``h(X,Y) <= b1, b2, b3`` predicts every ``y`` its body reaches from ``e``
  (``X = e`` when ``q = h``; ``Y = e`` along the reversed body when ``q = h + R``), under
  object identity: the entities of one grounding are pairwise distinct (so ``y != e``);
* a constant rule ``h(X,c) <= b(X,d)`` predicts ``c`` for ``e`` when ``b(e,d)`` holds, and
  for the reciprocal query ``(c, h + R, ?)`` every ``X`` with ``b(X,d)``.

A candidate's score aggregates the confidences ``c_i`` of the rules that predict it:

* ``"max"``: the best rule's confidence (AnyBURL's maximum; ties stay ties);
* ``"noisy-or"``: ``1 - prod_i (1 - c_i)`` over the rules;
* ``"max+noisy-or"``: the best confidence, ties broken by the evidence of *all* groundings
  of all rules, ``E = sum_i n_i * -log(1 - c_i)`` (``n_i`` groundings of rule ``i``; the
  log-odds of their noisy-or, which does not saturate), added as
  ``TIE_WEIGHT * E / (1 + E)`` so that it never outweighs a confidence difference larger
  than `TIE_WEIGHT`. A constant rule counts as one grounding.

Candidates no rule predicts score 0. Scores are confidences, so the truth values of
`RuleLinkPredictor.truth_tails` are the scores themselves (capped below 1, observed edges 1).

A rule predictor is a checkpoint (`nesykg.reasoners.checkpoint.load_predictor`): its
`RuleConfig`, the rules (``rules.txt``, numbers kept exactly) and the facts they apply to
(``facts.pt``, ``LongTensor[M, 3]``), beside ``vocab.json`` and ``config.json``.

Confidence used: `Rule.confidence`, or with ``smoothing = k > 0`` and known stats,
AnyBURL's pessimistic ``support / (body_size + k)``, which ranks a rule seen 100 times
above one seen once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from nesykg.errors import InputError
from nesykg.kg.tensor import TensorKG
from nesykg.reasoners.base import TRUTH_EPSILON, LinkPredictor
from nesykg.reasoners.config import config_from_dict
from nesykg.reasoners.known import ObservedGraph
from nesykg.reasoners.rules.graph import DirectedGraph
from nesykg.reasoners.rules.syntax import Atom, CompiledRule, Const, Rule, Var, compile_rules, path_variables

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = [
    "Aggregation", "Grounding", "RuleEvidence", "Explanation", "RuleConfig", "RuleLinkPredictor", "TIE_WEIGHT"
]

RULES_FILE = "rules.txt"
FACTS_FILE = "facts.pt"

Aggregation = Literal["max", "noisy-or", "max+noisy-or"]
AGGREGATIONS: tuple[str, ...] = ("max", "noisy-or", "max+noisy-or")
TIE_WEIGHT = 1e-3


@dataclass(frozen=True)
class Grounding:
    """One substitution of a rule's variables: the ground body atoms, as names."""

    atoms: tuple[Atom, ...]

    def __str__(self) -> str:
        return ", ".join(str(a) for a in self.atoms)


@dataclass(frozen=True)
class RuleEvidence:
    """One rule that predicts a candidate.

    Attributes:
        rule: the rule.
        confidence: the confidence it was applied with.
        num_groundings: how many body groundings conclude this candidate.
        groundings: up to ``max_groundings`` of them.
    """

    rule: Rule
    confidence: float
    num_groundings: int
    groundings: tuple[Grounding, ...]


@dataclass(frozen=True)
class Explanation:
    """Why a candidate answers ``(head, relation, ?)``: its score and its rules, best first."""

    head: str
    relation: str
    candidate: str
    score: float
    rules: tuple[RuleEvidence, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "relation": self.relation,
            "candidate": self.candidate,
            "score": self.score,
            "rules": [
                {
                    "rule": ev.rule.text,
                    "confidence": ev.confidence,
                    "groundings": ev.num_groundings,
                    "examples": [str(g) for g in ev.groundings],
                }
                for ev in self.rules
            ],
        }


@dataclass(frozen=True)
class RuleConfig:
    """How a `RuleLinkPredictor` applies its rules (see its arguments)."""

    aggregation: str = "max"
    smoothing: float = 0.0
    min_confidence: float = 0.0
    confidence: str = "rule"

    def __post_init__(self) -> None:
        if self.confidence not in ("rule", "pca"):
            raise InputError(f"unknown confidence {self.confidence!r}; choose 'rule' or 'pca'")
        if self.aggregation not in AGGREGATIONS:
            choices = ", ".join(AGGREGATIONS)
            raise InputError(f"unknown aggregation {self.aggregation!r}; choose one of {choices}")
        for name in ("smoothing", "min_confidence"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise InputError(f"rule config: {name} must be a number >= 0, got {v!r}")

    @classmethod
    def from_dict(cls, data: Any, where: str = "rule config") -> RuleConfig:
        """Build from a mapping; unknown keys are an `InputError` naming them."""
        return config_from_dict(cls, data, where)


_CLIP = 1.0 - 1e-9


class _Agg:
    """Accumulates rule confidences into a dense ``[B, N]`` score block.

    Keeps the best confidence, the noisy-or over rules (as ``sum log(1 - c)``) and the
    evidence over groundings (``sum n * -log(1 - c)``, the tie-breaker of ``max+noisy-or``).
    """

    def __init__(self, shape: tuple[int, int], aggregation: str):
        self.agg = aggregation
        self.best = np.zeros(shape)
        self.log_miss = np.zeros(shape) if aggregation == "noisy-or" else None
        self.evidence = np.zeros(shape) if aggregation == "max+noisy-or" else None

    def add(self, rows: np.ndarray, cols: np.ndarray, conf: np.ndarray | float, counts: np.ndarray | None = None, unique: bool = False) -> None:
        """Add confidences at ``(rows, cols)`` from `counts` groundings each (default 1).

        With ``unique=True`` the pairs are known to be distinct (faster).
        """
        if len(rows) == 0:
            return
        conf = np.broadcast_to(np.asarray(conf, dtype=float), rows.shape)
        lm = np.log1p(-np.minimum(conf, _CLIP))
        if unique:
            self.best[rows, cols] = np.maximum(self.best[rows, cols], conf)
            if self.log_miss is not None:
                self.log_miss[rows, cols] += lm
            if self.evidence is not None:
                self.evidence[rows, cols] -= lm if counts is None else lm * counts
        else:
            np.maximum.at(self.best, (rows, cols), conf)
            if self.log_miss is not None:
                np.add.at(self.log_miss, (rows, cols), lm)
            if self.evidence is not None:
                np.add.at(self.evidence, (rows, cols), -lm if counts is None else -lm * counts)

    def result(self) -> np.ndarray:
        if self.agg == "max":
            return self.best
        if self.agg == "noisy-or":
            return -np.expm1(self.log_miss)  # 1 - prod(1 - c)
        ev = self.evidence
        return self.best + TIE_WEIGHT * ev / (1.0 + ev)


class RuleLinkPredictor(LinkPredictor):
    """A `LinkPredictor` that applies Horn rules to a graph.

    Args:
        kg: the graph the rules are applied to (its vocabulary fixes the ids).
        rules: the rules; unknown relations or entities raise `UnknownNameError`.
        aggregation: ``"max"``, ``"noisy-or"`` or ``"max+noisy-or"``.
        split: the split of `kg` whose triples are the facts.
        smoothing: ``k`` of the pessimistic confidence ``support / (body_size + k)``
            (0: use `Rule.confidence`).
        min_confidence: rules applied with less confidence are dropped.
        graph: the facts as a `DirectedGraph` (built from `split` when not given).
        confidence: ``"rule"`` applies `Rule.confidence`; ``"pca"`` applies the mined
            PCA confidence where the rule has stats (suits graphs where whole entities
            lack the head relation, such as Countries' test countries).
    """

    name: ClassVar[str] = "rules"
    config_class: ClassVar[type] = RuleConfig

    def __init__(
        self,
        kg: TensorKG,
        rules: Iterable[Rule],
        aggregation: Aggregation = "max",
        split: str = "train",
        smoothing: float = 0.0,
        min_confidence: float = 0.0,
        graph: DirectedGraph | None = None,
        confidence: Literal["rule", "pca"] = "rule",
    ):
        self._config = RuleConfig(aggregation, smoothing, min_confidence, confidence)
        super().__init__(kg.vocab)
        self.kg = kg
        self.aggregation = aggregation
        self.graph = graph or DirectedGraph(kg, split)
        self.rules = list(rules)
        compiled = compile_rules(self.rules, kg.vocab)
        self.compiled: list[CompiledRule] = []
        for cr in compiled:
            c = cr.confidence
            st = cr.rule.stats
            if confidence == "pca" and st is not None and st.pca_confidence == st.pca_confidence:
                c = st.pca_confidence
                if smoothing > 0 and st.pca_confidence > 0:
                    c = st.support / (st.support / st.pca_confidence + smoothing)
            elif smoothing > 0 and st is not None:
                c = st.support / (st.body_size + smoothing)
            if c < min_confidence or c <= 0:
                continue
            self.compiled.append(CompiledRule(cr.rule, cr.head, cr.kind, cr.chain, cr.constant, cr.body_constant, c))
        self._paths: dict[int, list[CompiledRule]] = defaultdict(list)
        self._ctail: dict[int, list[CompiledRule]] = defaultdict(list)
        self._chead: dict[int, list[CompiledRule]] = defaultdict(list)
        for cr in self.compiled:
            {"path": self._paths, "const_tail": self._ctail, "const_head": self._chead}[cr.kind][cr.head].append(cr)
        self._const_cache: dict[int, tuple[Any, np.ndarray, np.ndarray]] = {}
        self._body_cache: dict[tuple[int, int], np.ndarray] = {}

    # --------------------------------------------------------------- helpers
    def body_entities(self, cr: CompiledRule) -> np.ndarray:
        """``bool[N]``: entities ``x`` satisfying a constant rule's body as its variable."""
        key = (cr.chain[0], cr.body_constant)
        v = self._body_cache.get(key)
        if v is None:
            d = cr.chain[0]
            if cr.body_constant < 0:
                v = self.graph.has_out(d)
            else:
                col = self.graph.csc(d)
                v = np.zeros(self.num_entities, dtype=bool)
                v[col.indices[col.indptr[cr.body_constant] : col.indptr[cr.body_constant + 1]]] = True
            self._body_cache[key] = v
        return v

    def _const_tail_index(self, q: int) -> tuple[Any, np.ndarray, np.ndarray]:
        """For relation `q`: ``(M [K, N] bool CSR of bodies, constants[K], confidences[K])``."""
        got = self._const_cache.get(q)
        if got is None:
            crs = self._ctail[q]
            rows = [np.flatnonzero(self.body_entities(cr)) for cr in crs]
            indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
            idx = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
            m = sp.csr_array((np.ones(len(idx), dtype=np.int32), idx, indptr), shape=(len(crs), self.num_entities))
            got = (m.T.tocsr(), np.array([cr.constant for cr in crs], dtype=np.int64), np.array([cr.confidence for cr in crs]))
            self._const_cache[q] = got
        return got

    # --------------------------------------------------------------- scoring
    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        h = heads.detach().cpu().numpy().astype(np.int64).reshape(-1)
        r = relations.detach().cpu().numpy().astype(np.int64).reshape(-1)
        if len(h) != len(r):
            raise InputError(f"heads and relations differ in length: {len(h)} vs {len(r)}")
        if len(r) and (r.min() < 0 or r.max() >= 2 * self.num_relations):
            raise InputError(f"relation ids must lie in [0, {2 * self.num_relations})")
        if len(h) and (h.min() < 0 or h.max() >= self.num_entities):
            raise InputError(f"entity ids must lie in [0, {self.num_entities})")
        out = np.zeros((len(h), self.num_entities), dtype=np.float32)
        for q in np.unique(r).tolist():
            idx = np.flatnonzero(r == q)
            out[idx] = self._score_relation(h[idx], q)
        return torch.from_numpy(out)

    def _score_relation(self, e: np.ndarray, q: int) -> np.ndarray:
        B, N = len(e), self.num_entities
        acc = _Agg((B, N), self.aggregation)
        prefixes: dict[tuple[int, ...], Any] = {}  # rules of one head share body prefixes
        for cr in self._paths.get(q, ()):
            pre = None
            if len(cr.chain) == 3:
                pre = prefixes.get(cr.chain[:2])
                if pre is None:
                    pre = prefixes[cr.chain[:2]] = self.graph.prefix_counts(cr.chain[:2], rows=e)
            m = self.graph.chain_counts(cr.chain, rows=e, prefix=pre)
            m.sum_duplicates()
            coo = m.tocoo()
            acc.add(coo.row, coo.col, cr.confidence, counts=coo.data.astype(float), unique=True)
        if self._ctail.get(q):
            mt, consts, confs = self._const_tail_index(q)
            fired = sp.csr_array(mt[e]).tocoo()  # [B, K]
            acc.add(fired.row, consts[fired.col], confs[fired.col])
        for cr in self._chead.get(q, ()):
            rows = np.flatnonzero(e == cr.constant)
            if len(rows) == 0:
                continue
            ys = np.flatnonzero(self.body_entities(cr))
            acc.add(np.repeat(rows, len(ys)), np.tile(ys, len(rows)), cr.confidence, unique=True)
        return acc.result()

    # ------------------------------------------------------------ truth values
    @torch.no_grad()
    def truth_tails(self, heads: Tensor, relations: Tensor, graph: ObservedGraph | None = None) -> Tensor:
        """Truth values ``[B, N]``: the scores, which are rule confidences in ``[0, 1]``, capped
        at ``1 - TRUTH_EPSILON``; with `graph`, its observed edges are 1 (as in FIT)."""
        t = self.score_tails(heads, relations).clamp_(0.0, 1.0 - TRUTH_EPSILON)
        if graph is not None:
            rows, cols = self._known(heads, relations, graph, t.device)
            t[rows, cols] = 1.0
        return t

    # ------------------------------------------------------------ checkpoint
    @property
    def config(self) -> RuleConfig:
        """How the rules are applied."""
        return self._config

    def save_state(self, folder: Path) -> None:
        """Write ``rules.txt`` (exact numbers) and ``facts.pt`` (the facts, ``LongTensor[M, 3]``)."""
        from nesykg.reasoners.checkpoint import atomic_save
        from nesykg.reasoners.rules.syntax import write_rules

        folder = Path(folder)
        tmp = write_rules(self.rules, folder / (RULES_FILE + ".tmp"), exact=True)
        tmp.replace(folder / RULES_FILE)
        facts = torch.from_numpy(np.ascontiguousarray(self.graph.triples, dtype=np.int64))  # (M, 3)
        atomic_save(facts, folder / FACTS_FILE)

    @classmethod
    def from_checkpoint(
        cls, folder: Path, vocab: Vocabulary, meta: dict[str, Any], device: str = "cpu"
    ) -> RuleLinkPredictor:
        """The rule predictor saved in `folder` (it computes on the CPU whatever `device`)."""
        from nesykg.reasoners.checkpoint import read_tensors
        from nesykg.reasoners.rules.syntax import read_rules

        folder = Path(folder)
        config = RuleConfig.from_dict(meta.get("model_config", {}), where=str(folder / "config.json"))
        if not (folder / RULES_FILE).is_file():
            raise InputError(f"{folder}: the rule checkpoint has no {RULES_FILE}")
        rules = read_rules(folder / RULES_FILE)
        facts = read_tensors(folder / FACTS_FILE)
        ok = isinstance(facts, Tensor) and facts.dtype == torch.long and facts.dim() == 2
        ok = ok and facts.shape[1] == 3
        if ok and len(facts):
            ok = bool((facts[:, [0, 2]] >= 0).all() and (facts[:, [0, 2]] < vocab.num_entities).all())
            ok = ok and bool((facts[:, 1] >= 0).all() and (facts[:, 1] < vocab.num_relations).all())
        if not ok:
            raise InputError(f"{folder / FACTS_FILE}: not a LongTensor[M, 3] of facts over the checkpoint's ids")
        kg = TensorKG(vocab, {"train": facts}, name=str(meta.get("dataset") or folder.name))
        return cls(
            kg, rules, config.aggregation, "train", config.smoothing, config.min_confidence,  # type: ignore[arg-type]
            confidence=config.confidence,  # type: ignore[arg-type]
        )

    # ------------------------------------------------------------ explaining
    def _ids(self, head: int | str, relation: int | str) -> tuple[int, int]:
        v = self.vocab
        h = v.entity_id(head) if isinstance(head, str) else int(head)
        if isinstance(relation, str):
            if relation.startswith("inv:"):
                q = v.relation_id(relation[4:]) + self.num_relations
            else:
                q = v.relation_id(relation)
        else:
            q = int(relation)
        return h, q

    def _rel_name(self, q: int) -> str:
        R = self.num_relations
        return self.vocab.relations[q] if q < R else "inv:" + self.vocab.relations[q - R]

    def _path_groundings(self, cr: CompiledRule, x: int, y: int, limit: int) -> tuple[int, list[Grounding]]:
        """Count the body paths of a path rule from `x` to `y` (in query orientation) and
        list up to `limit` of them as ground atoms of the rule's own variables."""
        g = self.graph
        chain = cr.chain
        # backward reachability to y, to prune the walk
        need: list[np.ndarray] = [np.zeros(0)] * (len(chain) + 1)
        target = np.zeros(self.num_entities, dtype=bool)
        target[y] = True
        need[len(chain)] = target
        for i in range(len(chain) - 1, -1, -1):
            m = g.mat(chain[i])
            need[i] = (m @ need[i + 1].astype(np.int32)) > 0
        paths: list[list[int]] = []
        total = 0

        def walk(node: int, i: int, path: list[int]) -> None:
            nonlocal total
            if i == len(chain):
                total += 1
                if len(paths) < limit:
                    paths.append(path)
                return
            for nb in g.neighbours(chain[i], node).tolist():
                if need[i + 1][nb] and nb not in path:  # object identity
                    walk(nb, i + 1, path + [nb])

        if need[0][x]:
            walk(x, 0, [x])
        rule = cr.rule
        vars_ = path_variables(rule)
        forward = cr.head < self.num_relations
        out = []
        for p in paths:
            nodes = p if forward else p[::-1]
            sub = {v: self.vocab.entities[n] for v, n in zip(vars_, nodes)}
            out.append(Grounding(tuple(_ground(a, sub) for a in rule.body)))
        return total, out

    def _const_groundings(self, cr: CompiledRule, x: int, limit: int) -> tuple[int, list[Grounding]]:
        """Groundings of a constant rule's body with its variable bound to `x`."""
        rule = cr.rule
        head = rule.head
        var = head.subject if isinstance(head.subject, Var) else head.object
        ents = self.vocab.entities
        body = rule.body[0]
        if cr.body_constant >= 0:
            return 1, [Grounding((_ground(body, {var: ents[x]}),))]
        nbs = self.graph.neighbours(cr.chain[0], x)
        other = body.object if body.subject == var else body.subject
        gs = [Grounding((_ground(body, {var: ents[x], other: ents[a]}),)) for a in nbs[:limit].tolist()]
        return len(nbs), gs

    def explain(
        self, head: int | str, relation: int | str, candidates: Sequence[int | str] | None = None, top: int = 10, max_groundings: int = 3
    ) -> list[Explanation]:
        """Explanations of the best candidates of ``(head, relation, ?)``, best first.

        Args:
            head: entity id or name.
            relation: id in ``[0, 2R)``, or a name (``inv:NAME`` for the reciprocal).
            candidates: explain these (ids or names) instead of the `top` best.
            top: how many of the best candidates (with a positive score).
            max_groundings: groundings listed per rule.
        """
        h, q = self._ids(head, relation)
        scores = self.score_tails(torch.tensor([h]), torch.tensor([q]))[0].numpy()
        if candidates is None:
            order = np.argsort(-scores, kind="stable")
            cands = [int(c) for c in order[:top] if scores[c] > 0]
        else:
            cands = [self.vocab.entity_id(c) if isinstance(c, str) else int(c) for c in candidates]
        ents = self.vocab.entities
        result = []
        for c in cands:
            evs = []
            for cr in self._paths.get(q, ()):
                n, gs = self._path_groundings(cr, h, c, max_groundings)
                if n:
                    evs.append(RuleEvidence(cr.rule, cr.confidence, n, tuple(gs)))
            for cr in self._ctail.get(q, ()):
                if cr.constant == c and self.body_entities(cr)[h]:
                    n, gs = self._const_groundings(cr, h, max_groundings)
                    evs.append(RuleEvidence(cr.rule, cr.confidence, n, tuple(gs)))
            for cr in self._chead.get(q, ()):
                if cr.constant == h and self.body_entities(cr)[c]:
                    n, gs = self._const_groundings(cr, c, max_groundings)
                    evs.append(RuleEvidence(cr.rule, cr.confidence, n, tuple(gs)))
            evs.sort(key=lambda ev: (-ev.confidence, -ev.num_groundings, ev.rule.text))
            result.append(Explanation(ents[h], self._rel_name(q), ents[c], float(scores[c]), tuple(evs)))
        return result


def _ground(atom: Atom, sub: dict[Var | Const, str]) -> Atom:
    def term(t: Var | Const) -> Const:
        return t if isinstance(t, Const) else Const(sub[t])

    return Atom(atom.relation, term(atom.subject), term(atom.object))
