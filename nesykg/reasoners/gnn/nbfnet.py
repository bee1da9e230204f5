"""NBFNet: a path GNN link predictor (Zhu, Zhang, Xhonneux, Tang, "Neural Bellman-Ford
Networks: A General Graph Neural Network Framework for Link Prediction", NeurIPS 2021,
https://arxiv.org/abs/2106.06935).

For a query ``(h, q, ?)`` every node ``v`` gets a representation of the paths from ``h``
to ``v``, computed by a generalised Bellman-Ford iteration on torch-geometric's
`MessagePassing`:

* boundary condition: ``x_v^0 = [v = h] * e_q`` (the query relation's embedding at the
  head, zero elsewhere); for a fuzzy *set* of heads ``x_v^0 = w_v * e_q`` (GNN-QE's
  set-conditioned projection, one pass for the whole set);
* message along an edge ``u -> v`` of type ``r``: ``x_u * w_r(q)`` (DistMult), with
  relation vectors ``w_r(q) = W_l e_q`` conditioned on the query relation, so no weight
  is tied to an entity and the model runs on graphs with unseen entities;
* aggregation: sum, or PNA (mean, max, min, std with degree scalers) over the messages
  and the boundary;
* update ``x^l = x^{l-1} + ReLU(LayerNorm(Linear([x^{l-1}, agg])))``;
* readout: ``score(h, q, t) = MLP([x_t^L, e_q])``.

Exactly local: after layer ``l`` only nodes within ``l`` hops of the boundary carry a
non-zero representation (the others are masked to 0), so running on the
``num_layers``-hop subgraph around the heads gives the same scores as the full graph.

Memory bound: scoring runs ``B'`` queries at a time with ``B' = max(1, max_floats //
((E + N) * dim))`` for a graph (or subgraph) of ``N`` nodes and ``E`` message edges, so a
layer holds about ``max_floats`` message floats (default ``2^25``, 128 MiB) whatever the
number of queries; a graph with more than ``subgraph_nodes`` nodes is cut, per batch, to
the ``num_layers``-hop subgraph of the batch's heads.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from nesykg.errors import InputError
from nesykg.reasoners.base import MAX_FLOATS, TRUTH_EPSILON
from nesykg.reasoners.config import config_from_dict
from nesykg.reasoners.gnn.base import GraphReasoner
from nesykg.reasoners.known import ObservedGraph

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = ["NBFNet", "NBFNetConfig"]

AGGREGATIONS = ("sum", "pna")


@dataclass(frozen=True)
class NBFNetConfig:
    """Hyperparameters of `NBFNet`.

    Attributes:
        dim: width of the node and relation representations.
        num_layers: Bellman-Ford iterations (the longest path seen).
        aggregation: ``sum`` or ``pna``.
        layer_norm: layer norm in each update.
        short_cut: add each layer's input to its output.
        subgraph_nodes: graphs with more nodes are cut to the ``num_layers``-hop subgraph
            around each batch's heads (exact: the model is local).
        max_floats: message floats a scoring batch may hold (sets the batch size).
    """

    dim: int = 32
    num_layers: int = 6
    aggregation: str = "sum"
    layer_norm: bool = True
    short_cut: bool = True
    subgraph_nodes: int = 100_000
    max_floats: int = MAX_FLOATS

    def __post_init__(self) -> None:
        for name in ("dim", "num_layers", "subgraph_nodes", "max_floats"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise InputError(f"nbfnet config: {name} must be a positive integer, got {v!r}")
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"nbfnet config: aggregation must be one of {', '.join(AGGREGATIONS)}, got {self.aggregation!r}")

    @classmethod
    def from_dict(cls, data: Any, where: str = "nbfnet config") -> NBFNetConfig:
        """Build from a mapping; unknown keys are an `InputError` naming them."""
        return config_from_dict(cls, data, where)


def _conv_class() -> type:
    """The message-passing layer; torch-geometric is imported only when a model is built."""
    global _PathConv
    if _PathConv is not None:
        return _PathConv
    from torch_geometric.nn import MessagePassing
    from torch_geometric.utils import scatter

    class PathConv(MessagePassing):
        """One generalised Bellman-Ford step (DistMult messages, query-conditioned relations)."""

        def __init__(self, dim: int, num_relations: int, aggregation: str, layer_norm: bool):
            super().__init__(aggr="sum", node_dim=0)
            self.dim, self.num_relations, self.aggregation = dim, num_relations, aggregation
            self.relation = nn.Linear(dim, num_relations * dim)
            width = dim if aggregation == "sum" else 12 * dim
            self.linear = nn.Linear(width + dim, dim)
            self.norm = nn.LayerNorm(dim) if layer_norm else nn.Identity()

        def forward(
            self, x: Tensor, query: Tensor, boundary: Tensor, edge_index: Tensor, edge_type: Tensor,
            edge_weight: Tensor | None = None, pairs: _Pairs | None = None,
        ) -> Tensor:
            B, N = query.shape[0], x.shape[0]
            rel = self.relation(query).view(B, self.num_relations, self.dim).transpose(0, 1)  # (2R, B, d)
            if pairs is not None and self.aggregation == "sum" and edge_weight is None:
                agg = self.message_and_aggregate(pairs, x, rel) + boundary
            else:
                agg = self.propagate(
                    edge_index, x=x, rel=rel, edge_type=edge_type, edge_weight=edge_weight, boundary=boundary,
                    size=(N, N),
                )
            return torch.relu(self.norm(self.linear(torch.cat([x, agg], -1))))  # (N, B, d)

        def message_and_aggregate(self, pairs: _Pairs, x: Tensor, rel: Tensor) -> Tensor:  # type: ignore[override]
            """The sum of all messages at once: one ``x_u * w_r`` per distinct (source,
            relation) pair, then a sparse ``[N, P]`` matrix counts each pair's edges into
            their targets (no ``[E, B, d]`` message tensor)."""
            N, B, d = x.shape
            z = x.index_select(0, pairs.node) * rel.index_select(0, pairs.relation)  # (P, B, d)
            return torch.sparse.mm(pairs.adjacency, z.reshape(len(pairs.node), B * d)).view(N, B, d)

        def message(self, x_j: Tensor, rel: Tensor, edge_type: Tensor, edge_weight: Tensor | None) -> Tensor:
            m = x_j * rel[edge_type]  # (E, B, d)
            return m if edge_weight is None else m * edge_weight.view(-1, 1, 1)

        def aggregate(self, inputs: Tensor, index: Tensor, dim_size: int | None, boundary: Tensor) -> Tensor:
            N = boundary.shape[0]
            if self.aggregation == "sum":
                return scatter(inputs, index, 0, N, "sum") + boundary
            # PNA over the messages and the boundary (a self message)
            ones = torch.ones(len(index), device=index.device)
            deg = scatter(ones, index, 0, N, "sum") + 1  # (N,)
            total = scatter(inputs, index, 0, N, "sum") + boundary
            sq = scatter(inputs * inputs, index, 0, N, "sum") + boundary * boundary
            mean = total / deg.view(-1, 1, 1)
            std = (sq / deg.view(-1, 1, 1) - mean * mean).clamp_min(1e-6).sqrt()
            mx = torch.maximum(scatter(inputs, index, 0, N, "max"), boundary)
            mn = torch.minimum(scatter(inputs, index, 0, N, "min"), boundary)
            feats = torch.cat([mean, mx, mn, std], -1)  # (N, B, 4d)
            logd = torch.log(deg + 1).view(-1, 1, 1)
            scale = logd / logd.mean()
            return torch.cat([feats, feats * scale, feats / scale], -1)  # (N, B, 12d)

    _PathConv = PathConv
    return PathConv


_PathConv: Any = None


@dataclass(frozen=True)
class _Pairs:
    """A message graph grouped by (source, relation) pair: message ``p`` is ``x_{node[p]}
    * w_{relation[p]}``; ``adjacency[v, p]`` counts the (kept) edges carrying it to ``v``."""

    node: Tensor  # (P,)
    relation: Tensor  # (P,)
    adjacency: Tensor  # sparse COO (N, P)


class _PairIndex:
    """The pair grouping of a fixed edge list; `pairs` weighs its edges (1, or 0 when masked out)."""

    def __init__(self, edge_index: Tensor, edge_type: Tensor, num_nodes: int):
        src, dst = edge_index
        uk, inv = torch.unique(edge_type * num_nodes + src, return_inverse=True)
        self.node, self.relation = uk % num_nodes, uk // num_nodes
        P = max(1, len(uk))
        entries, self.slot = torch.unique(dst * P + inv, return_inverse=True)  # sorted: coalesced order
        self.indices = torch.stack([entries // P, entries % P])
        self.shape = (num_nodes, P)

    def pairs(self, keep: Tensor | None = None) -> _Pairs:
        weight = torch.ones(len(self.slot), device=self.slot.device) if keep is None else keep.float()
        values = torch.zeros(self.indices.shape[1], device=weight.device).index_add_(0, self.slot, weight)
        adj = torch.sparse_coo_tensor(self.indices, values, self.shape, is_coalesced=True, check_invariants=False)
        return _Pairs(self.node, self.relation, adj)


class NBFNet(GraphReasoner):
    """NBFNet link predictor over a graph of facts (see the module docstring).

    Args:
        vocab: the graph's vocabulary (the weights depend only on its relations).
        config: hyperparameters (default `NBFNetConfig()`).
        facts: ``LongTensor[M, 3]`` the graph messages run on.
        generator: seeds the initialisation.
    """

    name: ClassVar[str] = "nbfnet"
    config_class: ClassVar[type] = NBFNetConfig
    #: `project` runs once over the whole fuzzy set (not max over members)
    one_pass_projection: ClassVar[bool] = True

    def __init__(
        self, vocab: Vocabulary, config: NBFNetConfig | None = None, facts: Tensor | None = None,
        generator: torch.Generator | None = None,
    ):
        super().__init__(vocab, facts)
        self._config = config if config is not None else NBFNetConfig()
        c, R2 = self._config, 2 * vocab.num_relations
        conv = _conv_class()
        rng = torch.random.fork_rng() if generator is not None else contextlib.nullcontext()
        with rng:
            if generator is not None:
                torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            self.query = nn.Embedding(max(R2, 1), c.dim)
            self.layers = nn.ModuleList(conv(c.dim, max(R2, 1), c.aggregation, c.layer_norm) for _ in range(c.num_layers))
            self.mlp = nn.Sequential(nn.Linear(2 * c.dim, 2 * c.dim), nn.ReLU(), nn.Linear(2 * c.dim, 1))
        self._pair_cache: dict[str, _PairIndex] = {}

    # ------------------------------------------------------------- the pass
    def _propagate(
        self, boundary: Tensor, query: Tensor, edge_index: Tensor, edge_type: Tensor, edge_weight: Tensor | None,
        pairs: _Pairs | None = None,
    ) -> Tensor:
        """Node representations ``[N, B, d]`` after all layers, zero beyond each layer's reach.

        With `pairs` (sum aggregation, no edge weights) each layer sums its messages with one
        sparse product over (source, relation) pairs; otherwise messages run edge by edge."""
        reach = boundary.abs().sum(-1) > 0  # (N, B)
        src, dst = edge_index
        hidden = boundary
        for layer in self.layers:
            if pairs is not None:
                nxt = torch.sparse.mm(pairs.adjacency, reach.index_select(0, pairs.node).float())
            else:
                nxt = torch.zeros_like(reach, dtype=torch.float).index_add_(0, dst, reach[src].float())
            reach = reach | (nxt > 0)
            out = layer(hidden, query, boundary, edge_index, edge_type, edge_weight, pairs)
            if self._config.short_cut:
                out = out + hidden
            hidden = out * reach.unsqueeze(-1)
        return hidden

    def _pairs(self, device: torch.device, edge_mask: Tensor | None) -> _Pairs:
        """The model graph's pair grouping (cached per device), masked edges weighted 0."""
        key = str(device)
        index = self._pair_cache.get(key)
        if index is None:
            edge_index, edge_type, _ = self.edges(device)
            index = self._pair_cache[key] = _PairIndex(edge_index, edge_type, self.num_entities)
        return index.pairs(edge_mask)

    def _readout(self, hidden: Tensor, query: Tensor) -> Tensor:
        q = query.unsqueeze(0).expand(hidden.shape[0], -1, -1)
        return self.mlp(torch.cat([hidden, q], -1)).squeeze(-1).t()  # (B, N)

    def forward_sets(
        self, weights: Tensor, relations: Tensor, edge_mask: Tensor | None = None, edge_weight: Tensor | None = None
    ) -> Tensor:
        """Scores ``[B, N]`` of every tail for fuzzy sets of heads, in one pass per batch.

        Args:
            weights: ``FloatTensor[B, N]`` membership of each node in the head set
                (one-hot rows for single heads).
            relations: ``LongTensor[B]`` in ``[0, 2R)``.
            edge_mask: ``BoolTensor[2M]`` message edges to keep (training removes the
                queried facts).
            edge_weight: ``FloatTensor[2M]`` multiplies each message (edge gradients
                for explanations).
        """
        dev = self.device
        weights, relations = weights.to(dev), relations.to(dev)
        edge_index, edge_type, _ = self.edges(dev)
        fast = edge_weight is None and self._config.aggregation == "sum"
        query = self.query(relations)  # (B, d)
        N = self.num_entities
        if N <= self._config.subgraph_nodes and fast:
            boundary = weights.t().unsqueeze(-1) * query.unsqueeze(0)  # (N, B, d)
            hidden = self._propagate(boundary, query, edge_index, edge_type, None, self._pairs(dev, edge_mask))
            return self._readout(hidden, query)
        if edge_mask is not None:
            edge_index, edge_type = edge_index[:, edge_mask], edge_type[edge_mask]
            edge_weight = None if edge_weight is None else edge_weight[edge_mask]
        if N <= self._config.subgraph_nodes:
            boundary = weights.t().unsqueeze(-1) * query.unsqueeze(0)  # (N, B, d)
            hidden = self._propagate(boundary, query, edge_index, edge_type, edge_weight)
            return self._readout(hidden, query)
        from torch_geometric.utils import k_hop_subgraph

        seeds = (weights != 0).any(0).nonzero().view(-1)
        subset, sub_index, _, kept = k_hop_subgraph(seeds, len(self.layers), edge_index, True, N)
        boundary = weights[:, subset].t().unsqueeze(-1) * query.unsqueeze(0)  # (n, B, d)
        sub_weight = None if edge_weight is None else edge_weight[kept]
        sub_type = edge_type[kept]
        pairs = _PairIndex(sub_index, sub_type, len(subset)).pairs() if fast else None
        hidden = self._propagate(boundary, query, sub_index, sub_type, sub_weight, pairs)
        sub_scores = self._readout(hidden, query)  # (B, n)
        far = self._readout(torch.zeros_like(hidden[:1]), query)  # (B, 1): a node no path reaches
        out = far.expand(-1, N).clone()
        out[:, subset] = sub_scores
        return out

    def forward(self, heads: Tensor, relations: Tensor, edge_mask: Tensor | None = None) -> Tensor:
        """Scores ``[B, N]`` of single-head queries (with gradients; training calls this)."""
        onehot = torch.zeros(len(heads), self.num_entities, device=self.device)
        onehot[torch.arange(len(heads), device=self.device), heads.to(self.device)] = 1.0
        return self.forward_sets(onehot, relations, edge_mask)

    def _batch_size(self) -> int:
        """Queries per pass: ``max_floats // ((E + n) * dim)``, ``n`` nodes at most in a pass."""
        width = (2 * len(self.facts) + min(self.num_entities, self._config.subgraph_nodes)) * self._config.dim
        return max(1, self._config.max_floats // max(1, width))

    # --------------------------------------------------------- LinkPredictor
    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Scores of every entity as tail, ``FloatTensor[B, N]``, in batches (see the memory bound)."""
        h, r = self._check_queries(heads, relations)
        bs = self._batch_size()
        parts = [self.forward(h[i : i + bs], r[i : i + bs]) for i in range(0, len(h), bs)]
        return torch.cat(parts) if parts else torch.empty(0, self.num_entities, device=self.device)

    @torch.no_grad()
    def truth_tails(self, heads: Tensor, relations: Tensor, graph: ObservedGraph | None = None) -> Tensor:
        """``sigmoid(score)`` (training is binary), capped at ``1 - TRUTH_EPSILON``; with
        `graph`, its observed edges are 1."""
        t = torch.sigmoid(self.score_tails(heads, relations)).clamp_(0.0, 1.0 - TRUTH_EPSILON)
        if graph is not None:
            rows, cols = self._known(heads.reshape(-1), relations.reshape(-1), graph, t.device)
            t[rows, cols] = 1.0
        return t

    @torch.no_grad()
    def project(
        self, weights: Tensor, relations: Tensor, k: int = 64, graph: ObservedGraph | None = None,
        max_floats: int = MAX_FLOATS,
    ) -> Tensor:
        """The fuzzy image of fuzzy head sets in one pass: ``sigmoid(score)`` with the set's
        membership degrees as the boundary condition (GNN-QE), ``FloatTensor[B, N]``.

        Only the `k` members with the highest positive weight enter the boundary. With
        `graph`, an observed edge ``(h, r, t)`` of a member raises ``t`` to at least
        ``w_h`` (so a one-hot set gives exactly `truth_tails`). `max_floats` bounds the
        scores held per batch (``max_floats // N`` sets at a time, at least one).
        """
        N = self.num_entities
        if weights.dim() != 2 or weights.shape[1] != N:
            raise InputError(f"weights must be [B, {N}], got {tuple(weights.shape)}")
        relations = relations.reshape(-1)
        if len(relations) != len(weights):
            raise InputError(f"weights and relations differ in length: {len(weights)} vs {len(relations)}")
        if k < 1:
            raise InputError(f"project needs k >= 1, got {k}")
        w, members = torch.topk(weights.float().cpu(), min(k, N), dim=1)
        w = w.clamp_min(0.0)
        sets = torch.zeros(len(weights), N).scatter_(1, members, w)
        bs = max(1, min(self._batch_size(), max_floats // max(1, N)))
        parts = []
        for i in range(0, len(sets), bs):
            parts.append(torch.sigmoid(self.forward_sets(sets[i : i + bs], relations[i : i + bs])))
        out = torch.cat(parts) if parts else torch.zeros(0, N, device=self.device)
        out.clamp_(0.0, 1.0 - TRUTH_EPSILON)
        if graph is not None:
            keep = w > 0
            rows = torch.arange(len(w)).unsqueeze(1).expand_as(w)[keep]
            mem, mw = members[keep], w[keep]
            krows, kcols = self._known(mem, relations.cpu()[rows], graph, torch.device("cpu"))
            idx = (rows[krows] * N + kcols).to(out.device)
            flat = out.view(-1)
            flat.scatter_reduce_(0, idx, mw[krows].to(out.device), "amax", include_self=True)
        return out
