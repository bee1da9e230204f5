"""CQD-beam (Arakelyan, Daza, Minervini & Cochez, "Complex Query Answering with Neural Link
Predictors", ICLR 2021, https://arxiv.org/abs/2011.03459), the baseline FIT is measured against.

CQD-beam answers a tree-shaped query by beam search from its anchors: every atom's truth is
the link predictor's normalised score (``sigmoid`` by default, as in the paper; ``minmax``
rescales each row to [0, 1]; ``softmax``), conjunction a t-norm (product by default), and
each existential variable keeps only its ``k`` best candidates (the beam) when it is
projected onward; the free variable's candidates are all entities. It uses no observed
edges. Negated atoms are ``1 - x`` (as in the FIT paper's CQD runs); disjunctions the max.

**Supported:** tree-shaped conjunctions in which every existential variable is reachable
from an anchor: ``1p 2p 3p 2i 3i pi ip 2in 3in inp pin pni 2u up pni_fit 2m 2nm 3mp 3pm im``.
**Refused** (`UnsupportedCapabilityError`): cycles (``3c``, ``3cm``: a beam has no order to
follow round a cycle), existential variables with no anchor (``2il``, ``3il``: nothing to
start a beam from) and self-loops ``r(x, x)``.

Memory: the same bound as FIT (`nesykg.reasoners.logic.fit`): a byte-bounded cache of rows
(dense here: CQD keeps every value) plus ``(V + k) x N`` floats per query.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from nesykg.errors import InputError, UnsupportedCapabilityError
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.logic.formula import Formula
from nesykg.reasoners.logic.fuzzy import Edge, FuzzyEngine, Grounding, Query, resolve
from nesykg.reasoners.logic.structures import structure_of
from nesykg.reasoners.logic.tnorms import get_tnorm
from nesykg.reasoners.logic.truth import TruthCache

__all__ = ["CQDBeam", "CQDConfig", "NORMALIZATIONS", "unsupported_reason"]

NORMALIZATIONS = ("sigmoid", "minmax", "softmax")


@dataclass(frozen=True)
class CQDConfig:
    """CQD-beam's settings: beam size `k`, t-norm, score normalisation, cache budget."""

    k: int = 16
    tnorm: str = "product"
    normalize: str = "sigmoid"
    cache_bytes: int = 256 << 20
    max_floats: int = 1 << 22


def _tree_reason(atoms: tuple[Edge, ...], root: str) -> str | None:
    """Why the conjunction of `atoms` rooted at `root` is not a beam-searchable tree, or None."""
    adj: dict[str, set[str]] = {}
    anchored: set[str] = set()
    for a in atoms:
        s_var, o_var = isinstance(a.s, str), isinstance(a.o, str)
        if s_var and o_var:
            if a.s == a.o:
                return "self-loops r(x, x)"
            adj.setdefault(a.s, set()).add(a.o)  # type: ignore[arg-type]
            adj.setdefault(a.o, set()).add(a.s)  # type: ignore[arg-type]
        elif (s_var or o_var) and not a.neg:
            anchored.add(a.s if s_var else a.o)  # type: ignore[arg-type]
    parent: dict[str, str | None] = {root: None}
    order, stack = [], [root]
    while stack:
        v = stack.pop()
        order.append(v)
        for u in adj.get(v, ()):
            if u == parent[v]:
                continue
            if u in parent:
                return "cyclic queries"
            parent[u] = v
            stack.append(u)
    for v in reversed(order):  # children before parents: anchoring flows toward the root
        p = parent[v]
        if v != root and v not in anchored:
            return "existential variables with no anchor"
        if p is not None and v in anchored:
            anchored.add(p)
    return None


def unsupported_reason(q: Query) -> str | None:
    """What CQD-beam cannot answer in `q` (``"cyclic queries"``...), or None when it can."""
    for c in q.disjuncts:
        why = _tree_reason(c.atoms, q.free)
        if why:
            return why
        for b in c.blocks:
            if isinstance(b.outer, str):
                why = _tree_reason(b.atoms, b.outer)
                if why:
                    return why
    return None


class CQDBeam:
    """CQD-beam over a link predictor (see the module doc).

    Args:
        predictor: any `LinkPredictor` with a vocabulary.
        graph: accepted for a uniform signature and ignored: CQD uses the predictor alone.
        config: settings; keyword `overrides` replace single fields.
    """

    name = "cqd"

    def __init__(self, predictor: LinkPredictor, graph: Any = None, config: CQDConfig | None = None, **overrides: Any):
        cfg = replace(config or CQDConfig(), **overrides)
        if cfg.normalize not in NORMALIZATIONS:
            raise InputError(f"CQD normalize must be one of {', '.join(NORMALIZATIONS)}, got {cfg.normalize!r}")
        self.config = cfg
        self.predictor = predictor

        def rows(heads: Tensor, relations: Tensor) -> Tensor:
            s = predictor.score_tails(heads, relations).float()
            if cfg.normalize == "sigmoid":
                return torch.sigmoid(s)
            if cfg.normalize == "softmax":
                return torch.softmax(s, dim=1)
            lo, hi = s.min(1, keepdim=True).values, s.max(1, keepdim=True).values
            return (s - lo) / (hi - lo).clamp_min(1e-12)

        n = predictor.num_entities
        self.cache = TruthCache(rows, n, threshold=0.0, row_k=n, max_bytes=cfg.cache_bytes, max_floats=cfg.max_floats)
        self.engine = FuzzyEngine(
            self.cache, predictor.num_relations, get_tnorm(cfg.tnorm), k=cfg.k, beam_only=True,
            max_floats=cfg.max_floats,
        )

    def resolve(self, formula: Formula) -> Query:
        if self.predictor.vocab is None:
            raise InputError(f"the {type(self.predictor).__name__} has no vocabulary, so it cannot answer by names")
        return resolve(formula, self.predictor.vocab)

    def check(self, q: Query) -> None:
        """Raise `UnsupportedCapabilityError` for a query CQD-beam does not answer."""
        why = unsupported_reason(q)
        if why:
            name = structure_of(q.formula)
            raise UnsupportedCapabilityError("cqd", why + (f" ({name})" if name else ""), kind="reasoner")

    @torch.no_grad()
    def scores(self, formula: Formula | Query) -> Tensor:
        """Truth of every entity as the answer: ``FloatTensor[N]``."""
        q = formula if isinstance(formula, Query) else self.resolve(formula)
        self.check(q)
        return self.engine.answer(q)

    @torch.no_grad()
    def explain(self, formula: Formula | Query, answer: int) -> Grounding:
        q = formula if isinstance(formula, Query) else self.resolve(formula)
        self.check(q)
        return self.engine.explain(q, answer)

