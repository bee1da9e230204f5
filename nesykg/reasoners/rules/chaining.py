"""Forward chaining into the ``inferred`` graph, and expert rules kept in the store.

`infer` applies rules to a `TensorKG` until nothing new follows (or `max_rounds`); each
round sees the conclusions of the rounds before. `apply_rules` does the same on a
store and writes the new triples to the ``inferred`` graph in one atomic change set, each
with `Provenance`:

* ``confidence``: the aggregated confidence of the rules that conclude it (``max`` by
  default, or ``noisy-or``), kept only when at least `min_confidence`;
* ``method``: ``"rule"``;
* ``evidence``: the best rule's text and its number of groundings, e.g.
  ``locatedin(X,Y) <= neighbor(X,A), locatedin(A,Y) [groundings: 3; rules: 2]``;
* ``run_id``: one fresh id per call (``rules-...``): ``nesykg kg undo RUN_ID`` removes
  exactly that call's triples.

A conclusion that a later round derives from inferred facts carries the confidence of its
own rules only (confidences are not multiplied along chains); its round is in `Conclusion`.

Idempotence: triples already in the graphs read (by default ``domain``, ``expert`` and
``inferred``) are never concluded again, so a second run with the same rules adds nothing.

Expert rules live in the ``expert`` graph as two triples per rule::

    <urn:nesykg:rule:KEY> <urn:nesykg:ns:ruleText>       "locatedin(X,Y) <= ..." .
    <urn:nesykg:rule:KEY> <urn:nesykg:ns:ruleConfidence> "0.9"^^xsd:double .

``KEY`` is a hash of the rule text, so storing a rule again replaces its confidence.
Their objects are literals, so `TensorKG.from_store` never mistakes them for edges.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from nesykg.errors import InputError, ParseError, UnknownNameError
from nesykg.kg.provenance import Provenance, new_run_id
from nesykg.kg.tensor import TensorKG
from nesykg.kg.terms import DOMAIN, EXPERT, INFERRED, NS, XSD, Literal as RdfLiteral, mint
from nesykg.reasoners.rules.graph import DirectedGraph
from nesykg.reasoners.rules.syntax import Rule, compile_rules, format_rule, parse_rule, with_confidence

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.store import GraphSelection, GraphStore
    from nesykg.progress import Progress

__all__ = [
    "Conclusion",
    "ApplyResult",
    "infer",
    "apply_rules",
    "save_expert_rules",
    "load_expert_rules",
    "RULE_NS",
    "RULE_TEXT",
    "RULE_CONFIDENCE",
]

RULE_NS = "urn:nesykg:rule:"
RULE_TEXT = NS + "ruleText"
RULE_CONFIDENCE = NS + "ruleConfidence"
READ_GRAPHS: tuple[str, ...] = (DOMAIN, EXPERT, INFERRED)


@dataclass(frozen=True)
class Conclusion:
    """A new triple and why it follows.

    Attributes:
        triple: ``(head, relation, tail)`` names (as in the graph's vocabulary).
        ids: the same as ids.
        confidence: aggregated confidence.
        rule: the most confident rule that concludes it.
        groundings: that rule's number of groundings for it.
        num_rules: how many rules conclude it.
        round: the round (1-based) that first derived it.
    """

    triple: tuple[str, str, str]
    ids: tuple[int, int, int]
    confidence: float
    rule: Rule
    groundings: int
    num_rules: int
    round: int

    @property
    def evidence(self) -> str:
        extra = f"; rules: {self.num_rules}" if self.num_rules > 1 else ""
        return f"{self.rule.text} [groundings: {self.groundings}{extra}]"


def _conclusions_of(g: DirectedGraph, cr, R: int):  # noqa: ANN001, ANN202
    """``(heads, relation, tails, groundings)`` arrays concluded by one compiled rule."""
    if cr.kind == "path":
        m = g.chain_counts(cr.chain).tocoo()
        return m.row.astype(np.int64), cr.head, m.col.astype(np.int64), m.data.astype(np.int64)
    d = cr.chain[0]
    if cr.body_constant >= 0:
        col = g.csc(d)
        xs = col.indices[col.indptr[cr.body_constant] : col.indptr[cr.body_constant + 1]].astype(np.int64)
        counts = np.ones(len(xs), dtype=np.int64)
    else:
        deg = np.diff(g.mat(d).indptr)
        xs = np.flatnonzero(deg)
        counts = deg[xs].astype(np.int64)
    cs = np.full(len(xs), cr.constant, dtype=np.int64)
    if cr.head < R:  # head(X, c)
        return xs, cr.head, cs, counts
    return cs, cr.head - R, xs, counts  # inv-head(X, c) is head(c, X)


def infer(
    kg: TensorKG,
    rules: Iterable[Rule],
    min_confidence: float = 0.0,
    aggregation: Literal["max", "noisy-or"] = "max",
    max_rounds: int = 10,
    split: str = "train",
    progress: Progress | None = None,
) -> list[Conclusion]:
    """New triples that `rules` conclude from one split of `kg`, chained to a fixpoint.

    Args:
        kg: the facts.
        rules: the rules (unknown relations or constants raise `UnknownNameError`).
        min_confidence: keep conclusions at least this confident.
        aggregation: ``"max"`` or ``"noisy-or"`` over the rules that conclude a triple.
        max_rounds: stop after this many rounds even if more would follow.
        split: the split of `kg` holding the facts.
        progress: called as ``progress("chaining, round N", rules done, rules)``.

    Returns:
        The conclusions in a deterministic order (round, then ids).
    """
    if aggregation not in ("max", "noisy-or"):
        raise InputError(f"forward chaining aggregates with 'max' or 'noisy-or', not {aggregation!r}")
    if max_rounds < 1:
        raise InputError(f"max_rounds must be at least 1, got {max_rounds}")
    rules = list(rules)
    if aggregation == "max":  # a rule below the threshold can never matter
        rules = [r for r in rules if r.confidence >= min_confidence]
    compiled = [cr for cr in compile_rules(rules, kg.vocab) if cr.kind != "const_head" and (cr.kind != "path" or cr.head < kg.num_relations)]
    R, N = kg.num_relations, kg.num_entities
    v = kg.vocab
    new: list[Conclusion] = []
    extra = np.zeros((0, 3), dtype=np.int64)
    for rnd in range(1, max_rounds + 1):
        g = DirectedGraph(kg, split, extra=extra)
        known = np.unique((g.triples[:, 0] * R + g.triples[:, 1]) * N + g.triples[:, 2])
        parts_k, parts_c, parts_n, parts_i = [], [], [], []
        for i, cr in enumerate(compiled):
            if progress is not None:
                progress(f"chaining, round {rnd}", i, len(compiled))
            hs, r, ts, counts = _conclusions_of(g, cr, R)
            if len(hs) == 0:
                continue
            keys = (hs * R + r) * N + ts
            pos = np.minimum(np.searchsorted(known, keys), max(len(known) - 1, 0))
            fresh = known[pos] != keys if len(known) else np.ones(len(keys), dtype=bool)
            if not fresh.any():
                continue
            parts_k.append(keys[fresh])
            parts_c.append(np.full(int(fresh.sum()), cr.confidence))
            parts_n.append(counts[fresh])
            parts_i.append(np.full(int(fresh.sum()), i))
        if progress is not None:
            progress(f"chaining, round {rnd}", len(compiled), len(compiled))
        if not parts_k:
            break
        keys, conf, cnt, idx = (np.concatenate(x) for x in (parts_k, parts_c, parts_n, parts_i))
        order = np.lexsort((idx, -cnt, -conf, keys))  # per key: best rule first
        keys, conf, cnt, idx = keys[order], conf[order], cnt[order], idx[order]
        first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
        n_rules = np.diff(np.concatenate([first, [len(keys)]]))
        agg = conf[first]
        if aggregation == "noisy-or":
            agg = -np.expm1(np.add.reduceat(np.log1p(-np.minimum(conf, 1.0 - 1e-12)), first))
        keep = agg >= min_confidence
        added = []
        for j, k, c, nr in zip(first[keep].tolist(), keys[first][keep].tolist(), agg[keep].tolist(), n_rules[keep].tolist()):
            h, rest = divmod(k, R * N)
            r, t = divmod(rest, N)
            added.append((h, r, t))
            rule = compiled[int(idx[j])].rule
            new.append(Conclusion((v.entities[h], v.relations[r], v.entities[t]), (h, r, t), min(c, 1.0), rule, int(cnt[j]), nr, rnd))
        if not added:
            break
        extra = np.concatenate([extra, np.array(added, dtype=np.int64)])
    return new


@dataclass
class ApplyResult:
    """What `apply_rules` did.

    Attributes:
        run_id: the run that wrote the triples (``None`` when nothing was new).
        conclusions: the triples written, with their reasons.
        rules: how many rules were applied.
    """

    run_id: str | None
    conclusions: list[Conclusion]
    rules: int

    @property
    def added(self) -> int:
        return len(self.conclusions)


def apply_rules(
    store: GraphStore,
    rules: Iterable[Rule] = (),
    min_confidence: float = 0.8,
    graphs: GraphSelection = READ_GRAPHS,
    aggregation: Literal["max", "noisy-or"] = "max",
    expert: bool = True,
    max_rounds: int = 10,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> ApplyResult:
    """Materialise what `rules` (and the store's expert rules) conclude into ``inferred``.

    Args:
        store: read from `graphs`, written to ``inferred`` atomically.
        rules: rules to apply besides the expert ones.
        min_confidence: only conclusions at least this confident are written.
        graphs: the graphs whose union holds the facts.
        aggregation: ``"max"`` or ``"noisy-or"``.
        expert: also apply the rules kept in the ``expert`` graph.
            A rule may conclude a relation the store does not hold yet; the relations
            of its body and its constants must be in the store (`UnknownNameError`).
        max_rounds: chaining rounds at most.
        run_id: the run id to write under (default: a fresh ``rules-...`` id).
        progress: called per chaining round with rules done of all (see `infer`).
    """
    rules = list(rules)
    if expert:
        rules += load_expert_rules(store)
    if not rules:
        raise InputError("no rules to apply: give a rules file or store expert rules first (nesykg rules import)")
    kg = TensorKG.from_store(store, graphs=graphs)
    if kg.num_entities == 0:
        raise InputError(f"the store has no triples in {graphs!r} to apply rules to")
    kg = _with_head_relations(kg, rules)
    conclusions = infer(kg, rules, min_confidence, aggregation, max_rounds, progress=progress)
    if not conclusions:
        return ApplyResult(None, [], len(rules))
    run = run_id or new_run_id("rules")
    ns = kg.vocab.namespace

    def iri(name: str) -> str:
        return mint(ns, name) if ns else name

    records = [
        ((iri(c.triple[0]), iri(c.triple[1]), iri(c.triple[2])), Provenance(c.confidence, "rule", c.evidence, run))
        for c in conclusions
    ]
    store.add_inferred(records)
    return ApplyResult(run, conclusions, len(rules))


def _with_head_relations(kg: TensorKG, rules: list[Rule]) -> TensorKG:
    """`kg` with the rules' head relations added to its vocabulary (a rule may conclude a
    relation the store does not hold yet; other body relations and constants must be known)."""
    heads = {r.head.relation for r in rules}
    for rule in rules:  # UnknownNameError with the rule (and its file and line) and close matches
        for name in sorted({a.relation for a in rule.body} - heads):
            try:
                kg.vocab.relation_id(name)
            except UnknownNameError as err:
                err.args = (f"{rule.where()}: {err}",)
                raise
    new = {r.head.relation for r in rules} - set(kg.vocab.relations)
    if not new:
        return kg
    from nesykg.kg.vocab import Vocabulary

    old = kg.vocab
    vocab = Vocabulary.from_names(old.entities, (*old.relations, *new), old.namespace)
    remap = torch.tensor([vocab.relation_to_id[r] for r in old.relations], dtype=torch.long)
    splits = {}
    for name, t in kg.splits.items():
        t = t.clone()
        if len(t):
            t[:, 1] = remap[t[:, 1]]
        splits[name] = t
    return TensorKG(vocab, splits, kg.name)


# ------------------------------------------------------------------ expert rules
def _rule_iri(rule: Rule) -> str:
    return RULE_NS + hashlib.sha1(format_rule(rule).encode()).hexdigest()[:16]


def save_expert_rules(store: GraphStore, rules: Sequence[Rule], graph: str = EXPERT) -> int:
    """Keep `rules` (with their confidences) in the ``expert`` graph; returns how many.

    A rule already stored gets the new confidence.
    """
    with store.transaction():
        for rule in rules:
            s = _rule_iri(rule)
            old = list(store.triples((s, RULE_CONFIDENCE, None), graphs=graph))
            if old:
                store.remove_many(old, graph)
            store.add_many(
                [
                    (s, RULE_TEXT, RdfLiteral(format_rule(rule))),
                    (s, RULE_CONFIDENCE, RdfLiteral(repr(float(rule.confidence)), XSD + "double")),
                ],
                graph,
            )
    return len(rules)


def load_expert_rules(store: GraphStore, graph: str = EXPERT) -> list[Rule]:
    """The rules kept in the ``expert`` graph, ordered by text.

    Raises:
        ParseError: a stored rule text is malformed (the source names its IRI).
    """
    out = []
    for s, _, o in sorted(store.triples((None, RULE_TEXT, None), graphs=graph), key=lambda t: str(t[2])):
        source = f"expert rule <{s}>"
        if not isinstance(o, RdfLiteral):
            raise ParseError(source, None, "the rule text is not a literal")
        rule = parse_rule(o.value, source=source)
        confs = [c for _, _, c in store.triples((s, RULE_CONFIDENCE, None), graphs=graph)]
        conf = 1.0
        if confs:
            try:
                conf = float(str(confs[0]))
            except ValueError:
                raise ParseError(source, None, f"confidence {confs[0]!s} is not a number") from None
            if not 0.0 <= conf <= 1.0:
                raise ParseError(source, None, f"confidence must lie in [0, 1], got {conf}")
        out.append(with_confidence(rule, conf))
    return out
