"""FIT: Fuzzy Inference with Truth values, over any `LinkPredictor`.

Yin, Wang & Song, "Rethinking Complex Queries on Knowledge Graphs with Neural Link
Predictors", ICLR 2024 (https://arxiv.org/abs/2304.07063). FIT answers every EFO-1 query,
cycles and multi-edges included, by fuzzy logic on truth values from a link predictor:

* truth ``T(h, r, t)``: the predictor's `truth_tails` with the observed edges (softmax over
  tails, rescaled so that the head's observed tails average 1, capped at 0.999, observed
  edges exactly 1); values <= `FITConfig.threshold` (0.005) count as 0, as in FIT's code;
* "and" a t-norm (product by default), "exists" the maximum, "not" ``1 - x``, "or" the
  maximum over the DNF's conjunctions;
* tree-shaped parts by leaf elimination toward the free variable, cycles by enumerating the
  top ``cycle_k`` (10) candidates of one variable plus every candidate of truth 1
  (`nesykg.reasoners.logic.fuzzy` has the algorithm).

Where FIT precomputes a dense ``N x N`` matrix per relation, this engine asks the predictor
for the rows a query touches, lazily, and keeps them sparse.

**Memory bound.** At most ``cache_bytes`` (256 MiB by default) of sparse truth rows (each
at most ``row_k`` non-zeros, 8 bytes each), plus per query ``(V + 2) x N`` floats for the
fuzzy sets of its ``V`` variables, plus ``max_floats`` (4 Mi floats, 16 MiB) while rows or a
projection are computed: ``O(cache_bytes + (V + k) x N)``, never ``O(N^2)``. At 100,000
entities a dense truth matrix is 40 GB per relation; this engine stays under 0.5 GB.

**Approximations** (all exact when a fuzzy set has at most ``k`` non-zero members, as in the
oracle tests): a projection runs over the ``k`` best members of the fuzzy set; a stored row
keeps its ``row_k`` largest values; a cycle enumerates at most ``max_enumeration`` candidates.

A predictor that overrides `LinkPredictor.project` (a GNN's set projection) is used for every
single positive edge instead of the rows.

>>> fit = FIT(predictor, graph=kg)                 # doctest: +SKIP
>>> scores = fit.scores(parse_formula("?y : exists x . locatedin(x, europe) & neighbor(x, ?y)"))
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from nesykg.errors import InputError
from nesykg.reasoners.base import LinkPredictor
from nesykg.reasoners.known import KnownTails, ObservedGraph, as_known_tails
from nesykg.reasoners.logic.formula import Formula
from nesykg.reasoners.logic.fuzzy import FuzzyEngine, Grounding, Query, resolve
from nesykg.reasoners.logic.tnorms import get_tnorm
from nesykg.reasoners.logic.truth import TruthCache

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = ["FIT", "FITConfig"]


@dataclass(frozen=True)
class FITConfig:
    """FIT's settings.

    Attributes:
        tnorm: ``product`` (FIT's) or ``godel``; see `nesykg.reasoners.logic.tnorms`.
        k: members of a fuzzy set a projection runs over (exact below that).
        cycle_k: candidates enumerated on a cycle besides those of truth 1 (FIT: 10).
        max_enumeration: hard cap on enumerated candidates.
        threshold: truth values at or below it count as 0 (FIT: 0.005).
        row_k: non-zeros kept per truth row.
        cache_bytes: budget of the truth-row cache.
        max_floats: floats held while rows or a projection are computed.
    """

    tnorm: str = "product"
    k: int = 128
    cycle_k: int = 10
    max_enumeration: int = 256
    threshold: float = 0.005
    row_k: int = 2048
    cache_bytes: int = 256 << 20
    max_floats: int = 1 << 22

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: observed-edge indexes of the graphs FIT was last built over: ``id -> (weak reference, version, N, R,
#: index)``. Building the index sorts every observed edge (~0.1-0.4 s on CoDEx-S),
#: far more than an ad-hoc query; a fresh FIT over the same graph object reuses it. An
#: entry lives while its graph does (at most `_KNOWN_MAX`), O(edges) each.
_KNOWN: OrderedDict[int, tuple[weakref.ref, int, int, int, KnownTails]] = OrderedDict()
_KNOWN_MAX = 4


def _known_tails(graph: ObservedGraph, predictor: LinkPredictor) -> KnownTails:
    """`as_known_tails(graph)`, reused while `graph` is the same, unmodified object."""
    if isinstance(graph, KnownTails):
        return as_known_tails(graph, predictor.num_entities, predictor.num_relations, predictor.vocab)
    key = id(graph)

    def forget(r: weakref.ref, key: int = key) -> None:  # the graph is gone: so is its index
        if key in _KNOWN and _KNOWN[key][0] is r:
            del _KNOWN[key]

    try:
        ref = weakref.ref(graph, forget)
    except TypeError:  # pragma: no cover - every ObservedGraph type takes weak references
        return as_known_tails(graph, predictor.num_entities, predictor.num_relations, predictor.vocab)
    version = graph._version if isinstance(graph, Tensor) else 0  # bumped by in-place changes
    hit = _KNOWN.get(id(graph))
    n, r = predictor.num_entities, predictor.num_relations
    if hit is not None and hit[0]() is graph and hit[1:4] == (version, n, r):
        if not isinstance(graph, Tensor) and predictor.vocab is not None:  # a TensorKG: same checks
            graph.vocab.check_same(predictor.vocab, what="predictor")
        _KNOWN.move_to_end(id(graph))
        return hit[4]
    known = as_known_tails(graph, n, r, predictor.vocab)
    _KNOWN[id(graph)] = (ref, version, n, r, known)
    while len(_KNOWN) > _KNOWN_MAX:
        _KNOWN.popitem(last=False)
    return known


def _overrides_project(predictor: LinkPredictor) -> bool:
    return type(predictor).project is not LinkPredictor.project


class FIT:
    """FIT over a link predictor (see the module doc).

    Args:
        predictor: any `LinkPredictor` with a vocabulary.
        graph: the observed edges (a `KnownTails`, `TensorKG` or ``LongTensor[M, 3]``); their
            truth is 1 and they calibrate the rows. ``None``: the predictor alone.
        config: settings; keyword `overrides` replace single fields.
    """

    name = "fit"

    def __init__(
        self, predictor: LinkPredictor, graph: ObservedGraph | None = None, config: FITConfig | None = None,
        **overrides: Any,
    ):
        cfg = replace(config or FITConfig(), **overrides)
        self.config = cfg
        self.predictor = predictor
        self.known = _known_tails(graph, predictor) if graph is not None else None

        def rows(heads: Tensor, relations: Tensor) -> Tensor:
            return predictor.truth_tails(heads, relations, self.known)

        self.cache = TruthCache(
            rows, predictor.num_entities, threshold=cfg.threshold, row_k=cfg.row_k,
            max_bytes=cfg.cache_bytes, max_floats=cfg.max_floats,
        )
        project = self._gnn_project if _overrides_project(predictor) else None
        self.engine = FuzzyEngine(
            self.cache, predictor.num_relations, get_tnorm(cfg.tnorm), k=cfg.k, cycle_k=cfg.cycle_k,
            max_enumeration=cfg.max_enumeration, project=project, max_floats=cfg.max_floats,
        )

    @property
    def vocab(self) -> Vocabulary:
        if self.predictor.vocab is None:
            raise InputError(f"the {type(self.predictor).__name__} has no vocabulary, so it cannot answer by names")
        return self.predictor.vocab

    def _gnn_project(self, weights: Tensor, relation: int) -> Tensor:
        out = self.predictor.project(
            weights.unsqueeze(0), torch.tensor([relation]), k=self.config.k, graph=self.known,
            max_floats=self.config.max_floats,
        )
        return out[0]

    def resolve(self, formula: Formula) -> Query:
        """`formula` with ids; `UnknownNameError` for a name outside the predictor's vocabulary."""
        return resolve(formula, self.vocab)

    @torch.no_grad()
    def scores(self, formula: Formula | Query) -> Tensor:
        """Truth of every entity as the answer of `formula`: ``FloatTensor[N]`` in ``[0, 1]``."""
        q = formula if isinstance(formula, Query) else self.resolve(formula)
        return self.engine.answer(q)

    @torch.no_grad()
    def explain(self, formula: Formula | Query, answer: int) -> Grounding:
        """The best grounding of every variable for entity id `answer`, with each literal's truth."""
        q = formula if isinstance(formula, Query) else self.resolve(formula)
        return self.engine.explain(q, answer)
