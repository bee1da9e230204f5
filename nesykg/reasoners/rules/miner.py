"""Horn-rule mining over a `TensorKG`: path sampling proposes, sparse products count.

Two stages, in the spirit of AnyBURL (Meilicke et al. 2019) and AMIE (Galárraga et al.
2013):

1. **Proposal.** For every head relation ``h``, up to `MinerConfig.samples_per_relation`
   of its triples ``h(x, y)`` are drawn (all of them when there are fewer; seeded). Every
   body path of length 1 and 2 from ``x`` to ``y`` is enumerated exactly, meeting in the
   middle (out-edges of ``x`` against in-edges of ``y``); length-3 paths are enumerated
   for `MinerConfig.samples3_per_relation` of those triples, with at most
   `MinerConfig.max_branch` neighbours drawn per side. Each path proposes the closed path
   rule ``h(X,Y) <= path``; per head and body length, the `MinerConfig.beam` most often
   proposed go on to be counted (the beam is what keeps length 3 cheap on dense graphs).
2. **Counting.** Every such proposal is scored exactly on the whole graph with sparse products
   of boolean adjacency matrices (`DirectedGraph`): with ``P`` the boolean matrix of the
   ``(X, Y)`` pairs the body grounds (``A_d1 @ A_d2 @ A_d3`` corrected for object
   identity) and ``A_h`` the head's adjacency,

   * support ``= nnz(P ∘ A_h)`` (distinct ``(X, Y)`` pairs both predicted and true),
   * body size ``= nnz(P)``, standard confidence ``= support / body size``,
   * PCA body size ``= nnz(P[rows with some h edge])``, PCA confidence ``= support / that``,
   * head coverage ``= support / |h|``.

   Constant rules ``h(X,c) <= b(X,d)`` / ``h(X,c) <= b(X,A)`` (and the mirrored
   ``h(c,X)`` heads) are counted exhaustively, for *all* constants at once:
   ``A_h^T @ A_b`` holds the support of every ``(c, d)`` pair; the
   `MinerConfig.constant_rules_per_head` best are kept per head atom ``h(X,c)``.

With the sampling caps above the graph's sizes (and ``beam=None``) mining is exhaustive:
every path rule that meets the thresholds is found, with exact statistics (the tests
check both against brute force). With sampling, a rule may be missed, never miscounted.

Semantics. Path rules follow AnyBURL's *object identity*: the variables of one grounding
bind pairwise distinct entities (``X``, ``A``, ``B``, ``Y`` of a length-3 path are four
different entities), which keeps a rule from being supported by walking back and forth
over the head triple itself; `DirectedGraph.chain_counts` counts exactly these paths.
Constant rules use plain Horn semantics. A rule whose body is its own head
(``h(X,Y) <= h(X,Y)``, ``h(X,c) <= h(X,c)``, ``h(X,c) <= h(X,A)``) is never produced.

Determinism: the result depends only on the graph, the config and the seed, unless the
time budget cuts the run short (then `MiningResult.truncated` is set; proposals are
counted in a fixed order, length 1 first, then by how often they were proposed).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from nesykg.errors import InputError
from nesykg.kg.tensor import TensorKG
from nesykg.progress import Progress
from nesykg.reasoners.rules.graph import DirectedGraph, binarize
from nesykg.reasoners.rules.syntax import MAX_PATH_LENGTH, Atom, Const, Rule, RuleStats, Var, path_rule

__all__ = ["MinerConfig", "MiningResult", "mine_rules", "path_stats"]



@dataclass(frozen=True)
class MinerConfig:
    """What to mine and how hard to look.

    Attributes:
        max_length: longest body of a path rule (1-3).
        min_support: least support a rule needs.
        min_confidence: least standard confidence.
        min_head_coverage: least head coverage.
        constants: also mine constant rules.
        samples_per_relation: head triples sampled per relation to propose rules of
            length 1 and 2.
        samples3_per_relation: head triples sampled per relation to propose length-3
            rules (their enumeration costs more).
        max_branch: neighbours per side drawn when enumerating length-3 paths.
        beam: per head relation and body length (2 and 3), count only this many of the
            proposals, the most often proposed first (``None``: all).
        time_budget: seconds for the whole run (``None``: no limit).
        seed: seed of every random draw.
        constant_rules_per_head: keep at most this many constant rules per head atom
            ``h(X,c)`` or ``h(c,X)`` (``None``: all).
        max_rules_per_head: keep at most this many rules per head relation (best
            confidence first; ``None``: all).
    """

    max_length: int = 3
    min_support: int = 2
    min_confidence: float = 0.1
    min_head_coverage: float = 0.0
    constants: bool = True
    samples_per_relation: int = 1000
    samples3_per_relation: int = 300
    max_branch: int = 16
    beam: int | None = 200
    time_budget: float | None = None
    seed: int = 0
    max_rules_per_head: int | None = None
    constant_rules_per_head: int | None = 20

    def __post_init__(self) -> None:
        if not 1 <= self.max_length <= MAX_PATH_LENGTH:
            raise InputError(f"max_length must lie in [1, {MAX_PATH_LENGTH}], got {self.max_length}")
        if self.min_support < 1:
            raise InputError(f"min_support must be at least 1, got {self.min_support}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"min_confidence must lie in [0, 1], got {self.min_confidence}")
        if self.time_budget is not None and self.time_budget <= 0:
            raise InputError(f"time_budget must be positive, got {self.time_budget}")


@dataclass
class MiningResult:
    """Mined rules, best first, with what the run did.

    Attributes:
        rules: by confidence, then support, descending (then by text).
        seconds: wall time.
        proposals: path rules proposed by sampling.
        counted: path rules counted exactly.
        truncated: whether the time budget stopped the run early.
    """

    rules: list[Rule]
    seconds: float
    proposals: int
    counted: int
    truncated: bool
    config: MinerConfig = field(default_factory=MinerConfig)


def path_stats(g: DirectedGraph, head: int, body: Any, row_nnz: np.ndarray | None = None) -> RuleStats:
    """Exact statistics of ``head(X,Y) <= body`` with `body` the boolean CSR of the path.

    `row_nnz` (``diff(body.indptr)``) may be passed when several heads share a body.
    """
    e = g.edges(head)
    support = int(np.count_nonzero(body[e[:, 0], e[:, 1]])) if len(e) else 0
    size = int(body.nnz)
    if row_nnz is None:
        row_nnz = np.diff(body.indptr)
    pca_size = int(row_nnz[g.has_out(head)].sum())
    nh = len(e)
    return RuleStats(
        support,
        size,
        support / size if size else 0.0,
        support / pca_size if pca_size else 0.0,
        support / nh if nh else 0.0,
    )


class _Deadline:
    def __init__(self, budget: float | None):
        self.start = time.perf_counter()
        self.end = None if budget is None else self.start + budget
        self.hit = False

    def over(self) -> bool:
        if self.end is not None and time.perf_counter() > self.end:
            self.hit = True
        return self.hit


def _propose(g: DirectedGraph, cfg: MinerConfig, rng: np.random.Generator, deadline: _Deadline, progress: Progress | None) -> dict[tuple[int, tuple[int, ...]], int]:
    """``(head, chain) -> number of sampled head triples the chain connects``."""
    R, n = g.num_relations, g.num_entities
    # every directed edge (a, d, b), d in [0, 2R): out-lists and a pair -> labels map
    t = g.triples
    src = np.concatenate([t[:, 0], t[:, 2]])
    lab = np.concatenate([t[:, 1], t[:, 1] + R])
    dst = np.concatenate([t[:, 2], t[:, 0]])
    order = np.lexsort((lab, dst, src))
    src, lab, dst = src[order], lab[order], dst[order]
    ptr = np.searchsorted(src, np.arange(n + 1))
    pair_labels: dict[tuple[int, int], tuple[int, ...]] = {}
    keys = src * n + dst
    bounds = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate([[0], bounds]) if len(keys) else np.zeros(0, dtype=np.int64)
    ends = np.concatenate([bounds, [len(keys)]]) if len(keys) else np.zeros(0, dtype=np.int64)
    lab_list = lab.tolist()
    for s, e, a, b in zip(starts.tolist(), ends.tolist(), src[starts].tolist(), dst[starts].tolist()):
        pair_labels[(a, b)] = tuple(lab_list[s:e])
    out_nb: list[np.ndarray] = [np.unique(dst[ptr[x] : ptr[x + 1]]) for x in range(n)]
    # in-neighbours of y are out-neighbours of y over the inverse edges: same sets
    counts: Counter[tuple[int, tuple[int, ...]]] = Counter()
    L = cfg.max_length
    total = sum(min(g.size(r), cfg.samples_per_relation) for r in range(R))
    done = 0
    for h in range(R):
        edges = g.edges(h)
        if len(edges) == 0:
            continue
        if len(edges) > cfg.samples_per_relation:
            idx = np.sort(rng.choice(len(edges), cfg.samples_per_relation, replace=False))
            edges = edges[idx]
        long_ok = np.zeros(len(edges), dtype=bool)
        long_ok[rng.permutation(len(edges))[: cfg.samples3_per_relation]] = True
        for (x, y), long in zip(edges.tolist(), long_ok.tolist()):
            done += 1
            if deadline.over():
                return dict(counts)
            found: set[tuple[int, ...]] = set()
            for d in pair_labels.get((x, y), ()):
                if d != h:
                    found.add((d,))
            if L >= 2:
                ox, oy = out_nb[x], out_nb[y]
                mids = np.intersect1d(ox, oy, assume_unique=True).tolist()
                for a in mids:
                    for d1 in pair_labels[(x, a)]:
                        for d2 in pair_labels[(a, y)]:
                            found.add((d1, d2))
            if L >= 3 and long:
                ox, oy = out_nb[x], out_nb[y]
                if len(ox) > cfg.max_branch:
                    ox = np.sort(rng.choice(ox, cfg.max_branch, replace=False))
                if len(oy) > cfg.max_branch:
                    oy = np.sort(rng.choice(oy, cfg.max_branch, replace=False))
                oyset = oy.tolist()
                for a in ox.tolist():
                    la = pair_labels[(x, a)]
                    for b in oyset:
                        mid = pair_labels.get((a, b))
                        if mid is None:
                            continue
                        lb = pair_labels[(b, y)]
                        for d1 in la:
                            for d2 in mid:
                                for d3 in lb:
                                    found.add((d1, d2, d3))
            for chain in found:
                counts[(h, chain)] += 1
            if progress is not None and done % 256 == 0:
                progress("sampling paths", done, total)
    if progress is not None:
        progress("sampling paths", total, total)
    return dict(counts)


def _keep(stats: RuleStats, cfg: MinerConfig) -> bool:
    return (
        stats.support >= cfg.min_support
        and stats.confidence >= cfg.min_confidence
        and stats.head_coverage >= cfg.min_head_coverage
    )


def _count_paths(
    g: DirectedGraph,
    names: tuple[str, ...],
    proposals: dict[tuple[int, tuple[int, ...]], int],
    cfg: MinerConfig,
    deadline: _Deadline,
    progress: Progress | None,
) -> tuple[list[Rule], int]:
    R = g.num_relations
    # group by body chain (a body matrix serves every head), then by 2-prefix for length 3
    per_head: dict[tuple[int, int], list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for (h, chain), c in proposals.items():
        per_head[(h, len(chain))].append((c, chain))
    by_chain: dict[tuple[int, ...], list[tuple[int, int]]] = defaultdict(list)
    for (h, length), cands in per_head.items():
        cands.sort(key=lambda cc: (-cc[0], cc[1]))
        if cfg.beam is not None and length > 1:
            cands = cands[: cfg.beam]
        for c, chain in cands:
            by_chain[chain].append((h, c))
    best = {ch: max(c for _, c in hs) for ch, hs in by_chain.items()}
    group: dict[tuple[int, ...], int] = defaultdict(int)
    for ch, c in best.items():
        if len(ch) == 3:
            group[ch[:2]] = max(group[ch[:2]], c)

    def order(ch: tuple[int, ...]) -> tuple[Any, ...]:
        if len(ch) < 3:
            return (len(ch), -best[ch], ch)
        return (3, -group[ch[:2]], ch[:2], -best[ch], ch)  # length 3: one prefix product per group

    chains = sorted(by_chain, key=order)
    rules: list[Rule] = []
    counted = 0
    prefix: dict[tuple[int, ...], Any] = {}
    total = len(chains)
    for i, chain in enumerate(chains):
        if deadline.over():
            break
        if len(chain) < 3:
            body = binarize(g.chain_counts(chain))
        else:
            key = chain[:2]
            pm = prefix.get(key)
            if pm is None:
                prefix.clear()  # length-3 chains come grouped by prefix
                pm = g.prefix_counts(key)
                prefix[key] = pm
            body = binarize(g.chain_counts(chain, prefix=pm))
        row_nnz = np.diff(body.indptr)
        for h, _ in sorted(by_chain[chain]):
            counted += 1
            stats = path_stats(g, h, body, row_nnz)
            if _keep(stats, cfg):
                steps = [(names[d % R], d >= R) for d in chain]
                rules.append(path_rule(names[h], steps, stats.confidence, stats))
        if progress is not None and (i % 64 == 0 or i == total - 1):
            progress("counting path rules", i + 1, total)
    return rules, counted


def _constant_rules(
    g: DirectedGraph, rel_names: tuple[str, ...], ent_names: tuple[str, ...], cfg: MinerConfig, deadline: _Deadline, progress: Progress | None
) -> list[Rule]:
    """``h(X,c) <= b(X,d)``, ``h(X,c) <= b(X,A)`` and mirrored heads, counted exactly.

    For each head ``h(X,c)`` (and ``h(c,X)``) only the `MinerConfig.constant_rules_per_head`
    best bodies are kept (by confidence, then support).
    """
    R = g.num_relations
    X, A = Var("X"), Var("A")
    out: list[Rule] = []

    def atom(d: int, var: Var, other: Var | Const) -> Atom:
        name = rel_names[d % R]
        return Atom(name, var, other) if d < R else Atom(name, other, var)

    col_size = {}
    for hd in range(2 * R):
        if deadline.over():
            break
        h = hd % R
        nh = g.size(h)
        if nh < cfg.min_support:
            continue
        mh = g.mat(hd)  # hd(X, c): rows X, cols c
        mht = sp.csr_array(mh.T)
        has_h = g.has_out(hd)
        head_counts = np.asarray(mh.sum(axis=0)).ravel()  # X with hd(X, c), per c
        cands = np.flatnonzero(head_counts >= cfg.min_support)
        if len(cands) == 0:
            continue
        sub = mht[cands]
        # columns: c, body step d, body constant e (-1: dangling), support, body size, PCA size
        parts: list[np.ndarray] = []
        for d in range(2 * R):
            b = g.mat(d)
            if d not in col_size:
                col_size[d] = np.asarray(b.sum(axis=0)).ravel()
            body_size = col_size[d]
            pca_size = np.asarray(b[has_h].sum(axis=0)).ravel()
            supp = sp.csr_array(sub @ b).tocoo()  # supp[c, e] = #X with hd(X,c) and d(X,e)
            keep = supp.data >= cfg.min_support
            ci, ei, si = cands[supp.row[keep]], supp.col[keep], supp.data[keep]
            if d == hd:
                nontriv = ci != ei
                ci, ei, si = ci[nontriv], ei[nontriv], si[nontriv]
            parts.append(np.stack([ci, np.full(len(ci), d), ei, si, body_size[ei], pca_size[ei]], 1).astype(np.int64))
            if d == hd:
                continue
            has_d = g.has_out(d)
            bsize = int(has_d.sum())
            if bsize == 0:
                continue
            psize = int((has_d & has_h).sum())
            s2 = np.asarray(sub @ has_d.astype(np.int64)).ravel()
            ok = s2 >= cfg.min_support
            k = int(ok.sum())
            parts.append(
                np.stack([cands[ok], np.full(k, d), np.full(k, -1), s2[ok], np.full(k, bsize), np.full(k, psize)], 1).astype(np.int64)
            )
        allc = np.concatenate(parts) if parts else np.zeros((0, 6), dtype=np.int64)
        if len(allc) == 0:
            continue
        supp_, body_, pca_ = allc[:, 3].astype(float), allc[:, 4].astype(float), allc[:, 5].astype(float)
        conf = supp_ / np.maximum(body_, 1)
        hc = supp_ / nh
        ok = (conf >= cfg.min_confidence) & (hc >= cfg.min_head_coverage)
        allc, conf, hc, pca_conf = allc[ok], conf[ok], hc[ok], np.where(pca_ > 0, supp_ / np.maximum(pca_, 1), 0.0)[ok]
        # per constant c: best first (confidence, support), then a stable key
        order = np.lexsort((allc[:, 2], allc[:, 1], -allc[:, 3], -conf, allc[:, 0]))
        allc, conf, hc, pca_conf = allc[order], conf[order], hc[order], pca_conf[order]
        starts = np.searchsorted(allc[:, 0], allc[:, 0], side="left")
        rank = np.arange(len(allc)) - starts
        if cfg.constant_rules_per_head is not None:
            top = rank < cfg.constant_rules_per_head
            allc, conf, hc, pca_conf = allc[top], conf[top], hc[top], pca_conf[top]
        for (c, d, e, s, bs, _), cf, pc, hcv in zip(allc.tolist(), conf.tolist(), pca_conf.tolist(), hc.tolist()):
            st = RuleStats(s, bs, cf, pc, hcv)
            other = A if e < 0 else Const(ent_names[e])
            out.append(Rule(atom(hd, X, Const(ent_names[c])), (atom(d, X, other),), cf, st))
        if progress is not None:
            progress("counting constant rules", hd + 1, 2 * R)
    return out


def _order(rules: list[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (-r.confidence, -(r.stats.support if r.stats else 0), r.text))


def mine_rules(kg: TensorKG, config: MinerConfig | None = None, split: str = "train", progress: Progress | None = None) -> MiningResult:
    """Mine closed path rules (and constant rules) from one split of `kg`.

    Args:
        kg: the graph; rules name its relations and entities.
        config: thresholds, budget and seed.
        split: the split to mine.
        progress: `nesykg.progress.Progress`, called as ``progress(stage, done, total)``
            (cumulative) for the stages "sampling paths", "counting path rules" and
            "counting constant rules".
    """
    cfg = config or MinerConfig()
    deadline = _Deadline(cfg.time_budget)
    g = DirectedGraph(kg, split)
    rng = np.random.default_rng(cfg.seed)
    proposals = _propose(g, cfg, rng, deadline, progress)
    rules, counted = _count_paths(g, kg.vocab.relations, proposals, cfg, deadline, progress)
    if cfg.constants:
        rules += _constant_rules(g, kg.vocab.relations, kg.vocab.entities, cfg, deadline, progress)
    rules = _order(rules)
    if cfg.max_rules_per_head is not None:
        per: Counter[str] = Counter()
        kept = []
        for r in rules:
            if per[r.head.relation] < cfg.max_rules_per_head:
                per[r.head.relation] += 1
                kept.append(r)
        rules = kept
    return MiningResult(rules, time.perf_counter() - deadline.start, len(proposals), counted, deadline.hit, cfg)
