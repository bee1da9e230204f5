"""EpiGNN: epistemic GNN for systematic relational reasoning (Khalid & Schockaert,
"Systematic Relational Reasoning With Epistemic Graph Neural Networks", ICLR 2025,
https://openreview.net/forum?id=qNp86ByQlN; code: github.com/erg0dic/gnn-sg).

A node's state is *epistemic*: ``F`` facets, each a probability vector over ``D``
primitive relations (``FloatTensor[F, D]``), read as "what the source node knows about
its relation to this node". Primitive 0 is the identity: the source starts as the
one-hot ``e_0`` in every facet, every other node as the uniform vector (knows nothing).

* message along ``u -> v`` of type ``r``: ``compose(x_u, p_r)`` with ``p_r =
  softmax(theta_r)`` the relation's own facet vectors and the *constrained bilinear*
  composition ``compose(a, b)_p = sum_ij a_i A_pij b_j``, where every ``A[:, i, j]`` is
  a probability vector over ``p`` (so a composition of probabilities is one) and
  ``A_p0j = [p = j]``, ``A_pi0 = [p = i]`` (the identity composes neutrally);
* aggregation over the incoming messages: their product (computed in log space, then
  renormalised: evidence from every path must agree) or their minimum;
* the source is reset to ``e_0`` after every step (one shared layer, iterated).

Relation prediction between ``s`` and ``t`` (`relation_logits`): a forward pass from ``s``
and a backward pass from ``t`` (messages against the edges, ``compose(p_r, x_v)``); on
every node of a shortest ``s -> t`` path the two halves are composed,
``compose(fwd_v, bwd_v)``, and the product over those nodes is the answer state. Its
logits are ``log cos(answer, p_r)`` for every relation ``r``.

As a `LinkPredictor` on a knowledge graph (`score_tails`), a forward pass from each head
(``num_layers`` steps over the facts and their reciprocals) scores every tail ``t`` by
``log cos(x_t, p_q)``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nesykg.errors import InputError
from nesykg.reasoners.base import MAX_FLOATS
from nesykg.reasoners.config import config_from_dict
from nesykg.reasoners.gnn.base import GraphReasoner

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = ["EpiGNN", "EpiGNNConfig", "RelationQuery"]

AGGREGATIONS = ("product", "min")
COMPOSITIONS = ("normalised", "softmax-p")
_PREPARED = 200_000  # queries whose preprocessing a model remembers
_TINY = 1e-18


@dataclass(frozen=True)
class RelationQuery:
    """A small graph and the question: which relation holds from ``query[0]`` to ``query[1]``?

    Attributes:
        edges: ``(i, j)`` node pairs; an edge of type ``r`` says ``j`` is the ``r`` of ``i``.
        edge_types: one relation name per edge.
        query: the ``(source, target)`` node pair.
        target: the answer's relation name (``None`` when unknown).
        k: the chain length, when known (CLUTRR's task ``1.k``).
    """

    edges: tuple[tuple[int, int], ...]
    edge_types: tuple[str, ...]
    query: tuple[int, int]
    target: str | None = None
    k: int | None = None

    @property
    def num_nodes(self) -> int:
        return 1 + max([self.query[0], self.query[1], *(x for e in self.edges for x in e)])


@dataclass(frozen=True)
class EpiGNNConfig:
    """Hyperparameters of `EpiGNN`.

    Attributes:
        facets: independent probability vectors per node state.
        dim: primitive relations per facet (primitive 0 is the identity).
        aggregation: ``product`` or ``min``.
        backward: also run the backward pass and compose on shortest paths (relation
            prediction); ``False`` reads the forward state at the target.
        num_layers: steps of a knowledge-graph pass (`score_tails`).
        max_iterations: steps of a relation-graph pass at most (else nodes - 1).
        max_floats: message floats a knowledge-graph batch may hold.
        composition: how the free entries of the composition tensor are parameterised:
            ``normalised`` (positive weights, a softmax over the right argument, each
            ``A[:, i, j]`` divided by its sum, as the authors' code does; trains to better
            systematic generalisation on CLUTRR) or ``softmax-p`` (a softmax over ``p``;
            checkpoints written before the option existed use it).
    """

    facets: int = 8
    dim: int = 32
    aggregation: str = "product"
    backward: bool = True
    num_layers: int = 3
    max_iterations: int = 16
    max_floats: int = MAX_FLOATS
    composition: str = "normalised"

    def __post_init__(self) -> None:
        for name in ("facets", "num_layers", "max_iterations", "max_floats"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise InputError(f"epignn config: {name} must be a positive integer, got {v!r}")
        if not isinstance(self.dim, int) or self.dim < 2:
            raise InputError(f"epignn config: dim must be an integer >= 2, got {self.dim!r}")
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"epignn config: aggregation must be one of {', '.join(AGGREGATIONS)}, got {self.aggregation!r}")
        if self.composition not in COMPOSITIONS:
            raise InputError(f"epignn config: composition must be one of {', '.join(COMPOSITIONS)}, got {self.composition!r}")

    @classmethod
    def from_dict(cls, data: Any, where: str = "epignn config") -> EpiGNNConfig:
        """Build from a mapping; unknown keys are an `InputError` naming them."""
        return config_from_dict(cls, data, where)


class EpiGNN(GraphReasoner):
    """EpiGNN (see the module docstring).

    Args:
        vocab: relations (edge types and answers); entities only for knowledge-graph use.
        config: hyperparameters (default `EpiGNNConfig()`).
        facts: ``LongTensor[M, 3]`` a knowledge graph for `score_tails` (may be empty).
        generator: seeds the initialisation.
    """

    name: ClassVar[str] = "epignn"
    config_class: ClassVar[type] = EpiGNNConfig

    def __init__(
        self, vocab: Vocabulary, config: EpiGNNConfig | None = None, facts: Tensor | None = None,
        generator: torch.Generator | None = None,
    ):
        super().__init__(vocab, facts)
        self._config = c = config if config is not None else EpiGNNConfig()
        R2, Fc, D = max(1, 2 * vocab.num_relations), c.facets, c.dim
        theta = torch.empty(R2, Fc, D)
        a = torch.empty(Fc, D, D - 1, D - 1)
        bound = (6.0 / (Fc * D + D)) ** 0.5
        theta.uniform_(-bound, bound, generator=generator)
        a.uniform_(-bound, bound, generator=generator)
        self.theta = nn.Parameter(theta)  # relation facet logits
        self.a_logits = nn.Parameter(a)  # composition logits over p for i, j >= 1
        self._prep_cache: dict[RelationQuery, tuple[int, list[int], list[int]]] = {}

    @classmethod
    def from_checkpoint(cls, folder: Path, vocab: Vocabulary, meta: dict[str, Any], device: str = "cpu") -> GraphReasoner:
        """The model saved in `folder`; a checkpoint written before ``composition`` existed
        used ``softmax-p`` and is read so."""
        mc = meta.get("model_config")
        if isinstance(mc, dict) and "composition" not in mc:
            meta = {**meta, "model_config": {**mc, "composition": "softmax-p"}}
        return super().from_checkpoint(folder, vocab, meta, device)

    # -------------------------------------------------------------- algebra
    def composition(self) -> Tensor:
        """The constrained composition tensor ``A[F, D(p), D(i), D(j)]``."""
        Fc, D = self._config.facets, self._config.dim
        eye = torch.eye(D, device=self.theta.device)
        A = torch.zeros(Fc, D, D, D, device=self.theta.device)
        if self._config.composition == "softmax-p":
            A[:, :, 1:, 1:] = torch.softmax(self.a_logits, dim=1)
        else:  # "normalised": positive weights (a softmax over j), each A[:, i, j] scaled to sum to one
            w = torch.softmax(self.a_logits, dim=-1)
            A[:, :, 1:, 1:] = w / w.sum(dim=1, keepdim=True)
        A[:, :, 0, :] = eye  # A[f, p, 0, j] = [p = j]
        A[:, :, :, 0] = eye  # A[f, p, i, 0] = [p = i]
        return A

    @staticmethod
    def compose(a: Tensor, b: Tensor, A: Tensor) -> Tensor:
        """``compose(a, b)_p = sum_ij a_i A_pij b_j`` per facet: ``[..., F, D] x [..., F, D]``."""
        return torch.einsum("...fi,fpij,...fj->...fp", a, A, b)

    def prototypes(self) -> Tensor:
        """Each relation's facet vectors ``softmax(theta)``: ``[2R, F, D]``."""
        return torch.softmax(self.theta, -1)

    def _aggregate(self, msgs: Tensor, index: Tensor, n: int) -> Tensor:
        """Product (log space) or min of messages ``[E, ..., F, D]`` per node, renormalised."""
        if self._config.aggregation == "product":
            logs = torch.zeros((n, *msgs.shape[1:]), device=msgs.device, dtype=msgs.dtype)
            logs = logs.index_add(0, index, torch.log(msgs + _TINY))
            return torch.softmax(logs, -1)  # no message: uniform
        idx = index.view(-1, *([1] * (msgs.dim() - 1))).expand_as(msgs)
        out = torch.ones((n, *msgs.shape[1:]), device=msgs.device, dtype=msgs.dtype)
        out = out.scatter_reduce(0, idx, msgs, "amin", include_self=True) + _TINY
        return out / out.sum(-1, keepdim=True)

    def _pass(
        self, n: int, edge_index: Tensor, edge_type: Tensor, sources: Tensor, steps: int, forward: bool, A: Tensor
    ) -> Tensor:
        """States ``[n, B, F, D]`` after `steps`; column ``b`` has its source at ``sources[b]``."""
        Fc, D = self._config.facets, self._config.dim
        B = len(sources)
        dev = self.theta.device
        cols = torch.arange(B, device=dev)
        ident = torch.zeros(Fc, D, device=dev)
        ident[:, 0] = 1.0
        x = torch.full((n, B, Fc, D), 1.0 / D, device=dev)
        x = x.index_put((sources, cols), ident.expand(B, Fc, D))
        rel = self.prototypes()[edge_type].unsqueeze(1)  # (E, 1, F, D)
        src, dst = edge_index
        for _ in range(steps):
            if forward:
                msgs, index = self.compose(x[src], rel.expand(-1, B, -1, -1), A), dst
            else:
                msgs, index = self.compose(rel.expand(-1, B, -1, -1), x[dst], A), src
            x = self._aggregate(msgs, index, n)
            x = x.index_put((sources, cols), ident.expand(B, Fc, D))
        return x

    def _logits(self, states: Tensor, relations: Tensor | None = None) -> Tensor:
        """``log cos(state, p_r)``: ``[..., F, D] -> [..., R']`` (``relations`` ids or the first R)."""
        protos = self.prototypes()
        protos = protos[: self.num_relations] if relations is None else protos[relations]
        s = F.normalize(states.flatten(-2), dim=-1)
        p = F.normalize(protos.flatten(-2), dim=-1)
        return torch.log(s @ p.t() + 1e-16)

    # ------------------------------------------------------ relation graphs
    def _relation_ids(self, names: Sequence[str]) -> list[int]:
        if self.vocab is None:
            raise InputError("an EpiGNN without a vocabulary cannot read relation names")
        return [self.vocab.relation_id(n) for n in names]

    def target_ids(self, queries: Sequence[RelationQuery]) -> Tensor:
        """``LongTensor[Q]`` relation ids of the queries' targets."""
        if any(q.target is None for q in queries):
            raise InputError("every training graph needs a target relation")
        return torch.tensor(self._relation_ids([q.target for q in queries]), dtype=torch.long)  # type: ignore[misc]

    def _prepared(self, q: RelationQuery) -> tuple[int, list[int], list[int]]:
        """``(nodes, edge type ids, nodes on a shortest path)`` of a query, remembered per
        query (training revisits the same graphs every epoch; at most `_PREPARED` kept)."""
        got = self._prep_cache.get(q)
        if got is None:
            if len(self._prep_cache) >= _PREPARED:
                self._prep_cache.clear()
            got = (q.num_nodes, self._relation_ids(q.edge_types), _shortest_path_nodes(q.num_nodes, q.edges, q.query))
            self._prep_cache[q] = got
        return got

    def relation_logits(self, queries: Sequence[RelationQuery]) -> Tensor:
        """Logits ``[Q, R]`` of every relation between each query's two nodes (one batch)."""
        dev = self.theta.device
        offsets, src, dst, types, s_nodes, t_nodes = [], [], [], [], [], []
        path_nodes, path_owner = [], []
        base, longest = 0, 1
        for qi, q in enumerate(queries):
            n, ids, on_path = self._prepared(q)
            offsets.append(base)
            src += [base + i for i, _ in q.edges]
            dst += [base + j for _, j in q.edges]
            types += ids
            s_nodes.append(base + q.query[0])
            t_nodes.append(base + q.query[1])
            path_nodes += [base + v for v in on_path]
            path_owner += [qi] * len(on_path)
            base += n
            longest = max(longest, n - 1)
        steps = min(longest, self._config.max_iterations)
        ei = torch.tensor([src, dst], dtype=torch.long, device=dev).view(2, -1)
        et = torch.tensor(types, dtype=torch.long, device=dev)
        A = self.composition()
        s_t = torch.tensor(s_nodes, device=dev)
        # all of a batch's graphs share one column: they are disjoint, each with its own source
        fwd = self._shared_pass(base, ei, et, s_t, steps, True, A)
        if not self._config.backward:
            return self._logits(fwd[s_t.new_tensor(t_nodes)])
        bwd = self._shared_pass(base, ei, et, torch.tensor(t_nodes, device=dev), steps, False, A)
        pn = torch.tensor(path_nodes, device=dev)
        both = self.compose(fwd[pn], bwd[pn], A)  # (P, F, D)
        answer = self._aggregate(both, torch.tensor(path_owner, device=dev), len(queries))
        return self._logits(answer)

    def _shared_pass(
        self, n: int, edge_index: Tensor, edge_type: Tensor, sources: Tensor, steps: int, forward: bool, A: Tensor
    ) -> Tensor:
        """Like `_pass` with all sources in one column (disjoint graphs): ``[n, F, D]``."""
        Fc, D = self._config.facets, self._config.dim
        dev = self.theta.device
        ident = torch.zeros(Fc, D, device=dev)
        ident[:, 0] = 1.0
        x = torch.full((n, Fc, D), 1.0 / D, device=dev)
        x = x.index_put((sources,), ident.expand(len(sources), Fc, D))
        rel = self.prototypes()[edge_type]  # (E, F, D)
        src, dst = edge_index
        for _ in range(steps):
            if forward:
                msgs, index = self.compose(x[src], rel, A), dst
            else:
                msgs, index = self.compose(rel, x[dst], A), src
            x = self._aggregate(msgs, index, n).index_put((sources,), ident.expand(len(sources), Fc, D))
        return x

    @torch.no_grad()
    def predict_relations(self, queries: Sequence[RelationQuery], batch_size: int = 256) -> list[str]:
        """The most likely relation name of each query."""
        if self.vocab is None:
            raise InputError("an EpiGNN without a vocabulary cannot name relations")
        out: list[str] = []
        for i in range(0, len(queries), batch_size):
            ids = self.relation_logits(queries[i : i + batch_size]).argmax(1).tolist()
            out += [self.vocab.relations[j] for j in ids]
        return out

    def accuracy(self, queries: Sequence[RelationQuery], batch_size: int = 256) -> float:
        """Share of `queries` whose target is the predicted relation."""
        if not queries:
            return 0.0
        was = self.training
        self.eval()
        try:
            pred = self.predict_relations(queries, batch_size)
        finally:
            self.train(was)
        return sum(p == q.target for p, q in zip(pred, queries)) / len(queries)

    # --------------------------------------------------------- LinkPredictor
    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        """``log cos(x_t, p_q)`` of every tail after a forward pass from each head: ``[B, N]``."""
        h, r = self._check_queries(heads, relations)
        dev = self.device
        edge_index, edge_type, _ = self.edges(dev)
        c = self._config
        width = (len(edge_type) + self.num_entities) * c.facets * c.dim * 2
        bs = max(1, c.max_floats // max(1, width))
        A = self.composition()
        parts = []
        for i in range(0, len(h), bs):
            hb, rb = h[i : i + bs].to(dev), r[i : i + bs].to(dev)
            x = self._pass(self.num_entities, edge_index, edge_type, hb, c.num_layers, True, A)  # (N, B, F, D)
            s = F.normalize(x.flatten(-2), dim=-1)  # (N, B, FD)
            p = F.normalize(self.prototypes()[rb].flatten(-2), dim=-1)  # (B, FD)
            parts.append(torch.log((s * p.unsqueeze(0)).sum(-1).t() + 1e-16))
        return torch.cat(parts) if parts else torch.empty(0, self.num_entities, device=dev)


def _shortest_path_nodes(n: int, edges: Sequence[tuple[int, int]], query: tuple[int, int]) -> list[int]:
    """Nodes on a shortest directed path from ``query[0]`` to ``query[1]`` (both ends
    when the target is unreachable)."""
    out_adj: list[list[int]] = [[] for _ in range(n)]
    in_adj: list[list[int]] = [[] for _ in range(n)]
    for i, j in edges:
        out_adj[i].append(j)
        in_adj[j].append(i)

    def bfs(start: int, adj: list[list[int]]) -> list[int]:
        dist = [-1] * n
        dist[start] = 0
        todo = deque([start])
        while todo:
            u = todo.popleft()
            for v in adj[u]:
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    todo.append(v)
        return dist

    s, t = query
    df, db = bfs(s, out_adj), bfs(t, in_adj)
    if df[t] < 0:
        return sorted({s, t})
    return [v for v in range(n) if df[v] >= 0 and db[v] >= 0 and df[v] + db[v] == df[t]]
