"""`LinkPredictor`: the one contract every reasoner implements.

Relation ids follow the reciprocal convention of Lacroix et al. (2018): for a graph
with ``R`` relations, id ``r + R`` is the inverse of relation ``r``, so head
prediction ``(?, r, t)`` is tail prediction ``(t, r + R, ?)``. Embedding models,
GNNs and rule-based predictors all implement `score_tails`; the evaluator, the fuzzy
query engine and the agent work with any of them through what is built on it here:

* `top_tails`: the ``k`` best tails of a batch of queries, in bounded memory
  (``chunk`` entities at a time, through the `score_tails_range` hook);
* `truth_tails`: truth values in ``[0, 1]`` (FIT's mapping by default);
* `project`: the fuzzy image of a fuzzy *set* of heads (existential projection).

Scores are "higher is more plausible"; they need not be probabilities, truth values are.

Every predictor is also a checkpoint: it names its registry entry (`name`), its config
dataclass (`config_class`, the instance in `config`), and writes / reads its own state
files (`save_state`, `from_checkpoint`); `nesykg.reasoners.checkpoint` does the rest.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor

from nesykg.errors import InputError, UnsupportedCapabilityError
from nesykg.reasoners.known import ObservedGraph, as_known_tails

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = ["LinkPredictor", "DEFAULT_CHUNK", "MAX_FLOATS", "TRUTH_EPSILON"]

#: entities scored at a time by `LinkPredictor.top_tails`
DEFAULT_CHUNK = 65536
#: scores held at a time by the batched defaults (``2^25`` floats = 128 MiB)
MAX_FLOATS = 1 << 25
#: truth values of unobserved edges are capped at ``1 - TRUTH_EPSILON`` (FIT's epsilon)
TRUTH_EPSILON = 1e-3


class LinkPredictor(ABC):
    """Scores candidate tails for ``(head, relation)`` queries.

    Args:
        vocab: the vocabulary the predictor is built for; it fixes ``N`` and ``R``.

    Attributes:
        vocab: that vocabulary.
        num_entities: ``N``, the number of candidate entities.
        num_relations: ``R``, relations of the graph, *without* reciprocals.
        name: the predictor's registry name (``complex``, ``rules``).
        config_class: the dataclass of its hyperparameters (see `config`).
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type | None] = None
    num_entities: int
    num_relations: int
    vocab: Vocabulary | None = None

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab
        self.num_entities = vocab.num_entities
        self.num_relations = vocab.num_relations

    # ------------------------------------------------------------------ scoring
    @abstractmethod
    def score_tails(self, heads: Tensor, relations: Tensor) -> Tensor:
        """Scores of every entity as tail.

        Args:
            heads: ``LongTensor[B]`` head ids.
            relations: ``LongTensor[B]`` relation ids in ``[0, 2R)``; ``r + R`` is the
                inverse of ``r``.

        Returns:
            ``FloatTensor[B, N]`` (on the predictor's `device`).
        """

    def score_tails_range(self, heads: Tensor, relations: Tensor, start: int, end: int) -> Tensor:
        """Scores of entities ``[start, end)`` as tails: ``FloatTensor[B, end - start]``.

        The default slices `score_tails` (``B x N`` memory); predictors that can score a
        slice for less override it, and `top_tails` then holds ``B x chunk``.
        """
        return self.score_tails(heads, relations)[:, start:end]

    def score_heads(self, relations: Tensor, tails: Tensor) -> Tensor:
        """Scores of every entity as head of ``(?, r, t)``: ``FloatTensor[B, N]``."""
        return self.score_tails(tails, relations + self.num_relations)

    def score_triples(self, triples: Tensor) -> Tensor:
        """Scores of given triples, ``LongTensor[B, 3] -> FloatTensor[B]``.

        The default gathers from `score_tails`; models with a cheaper pointwise score
        override it.
        """
        scores = self.score_tails(triples[:, 0], triples[:, 1])
        return scores.gather(1, triples[:, 2:3].to(scores.device)).squeeze(1)

    @property
    def device(self) -> torch.device:
        """Where the predictor computes (its scores are returned there); the CPU by default."""
        return torch.device("cpu")

    # ------------------------------------------------------------------ top-k
    def _chunk_scorer(self, heads: Tensor, relations: Tensor) -> Callable[[int, int], Tensor]:
        """``(start, end) -> scores [B, end - start]`` for one batch of queries.

        Without a `score_tails_range` of its own, a predictor scores all entities once
        per batch and slices; embedding models override this to build their queries once.
        """
        if type(self).score_tails_range is LinkPredictor.score_tails_range:
            full = self.score_tails(heads, relations)
            return lambda start, end: full[:, start:end]
        return lambda start, end: self.score_tails_range(heads, relations, start, end)

    @torch.no_grad()
    def top_tails(
        self, heads: Tensor | int, relations: Tensor | int, k: int = 10, chunk: int = DEFAULT_CHUNK
    ) -> tuple[Tensor, Tensor]:
        """The `k` best tails of each query: ``(scores[B, k], entity_ids[B, k])``.

        Ties are broken by the smaller entity id, so the result equals the first `k`
        entries of a stable descending sort of `score_tails`. Entities are scored `chunk`
        at a time and queries in batches of ``MAX_FLOATS // chunk``: memory is
        ``B' x (chunk + k)`` scores (``B' x N`` for predictors without a
        `score_tails_range` hook). Results are on the predictor's `device`.

        A single query given as ints, ``top_tails(head, relation, k)``, returns
        ``(scores[k], entity_ids[k])`` on the CPU.
        """
        single = isinstance(heads, int) and isinstance(relations, int)
        h = torch.as_tensor(heads, dtype=torch.long).reshape(-1)
        r = torch.as_tensor(relations, dtype=torch.long).reshape(-1)
        if len(h) != len(r):
            raise InputError(f"heads and relations differ in length: {len(h)} vs {len(r)}")
        if chunk < 1 or k < 0:
            raise InputError(f"top_tails needs chunk >= 1 and k >= 0, got chunk={chunk}, k={k}")
        N = self.num_entities
        k = min(k, N)
        chunk = min(chunk, N) or 1
        batch = max(1, MAX_FLOATS // chunk)
        parts_s, parts_i = [], []
        for b in range(0, len(h), batch):
            score = self._chunk_scorer(h[b : b + batch], r[b : b + batch])
            best_s: Tensor | None = None
            best_i: Tensor | None = None
            for start in range(0, N, chunk):
                end = min(N, start + chunk)
                s = score(start, end)
                ids = torch.arange(start, end, device=s.device).expand(len(s), -1)
                if best_s is not None and best_i is not None:
                    s, ids = torch.cat([best_s, s], 1), torch.cat([best_i, ids], 1)
                # a stable sort keeps the earlier (smaller) id first among equal scores
                s, pos = torch.sort(s, dim=1, descending=True, stable=True)
                best_s, best_i = s[:, :k], ids.gather(1, pos[:, :k])
            if best_s is None or best_i is None:  # no entity at all
                best_s = torch.empty(len(h[b : b + batch]), 0, device=self.device)
                best_i = torch.empty(len(best_s), 0, dtype=torch.long, device=self.device)
            parts_s.append(best_s)
            parts_i.append(best_i)
        if not parts_s:
            out_s = torch.empty(0, k, device=self.device)
            out_i = torch.empty(0, k, dtype=torch.long, device=self.device)
        else:
            out_s, out_i = torch.cat(parts_s), torch.cat(parts_i)
        if single:
            return out_s[0].cpu(), out_i[0].cpu()
        return out_s, out_i

    # ------------------------------------------------------------ truth values
    @torch.no_grad()
    def truth_tails(self, heads: Tensor, relations: Tensor, graph: ObservedGraph | None = None) -> Tensor:
        """Truth values of every entity as tail, ``FloatTensor[B, N]`` in ``[0, 1]``.

        The default is the mapping of FIT (Yin, Wang, Song, "Rethinking Complex Queries on
        Knowledge Graphs with Neural Link Predictors", ICLR 2024,
        https://arxiv.org/abs/2304.07063, ``create_matrix.py`` of its code):

        1. ``p = softmax(score_tails(h, r))`` over all tails;
        2. with `graph`, when ``(h, r)`` has ``n > 0`` observed tails ``T``, ``p`` is
           scaled by ``n / sum(p[T])``, so that the observed tails average to 1;
        3. ``p`` is capped at ``1 - TRUTH_EPSILON`` (0.999) and the observed tails ``T``
           are set to exactly 1.

        Without `graph` step 2 and the ones are skipped, so truth is order-preserving in
        the scores. Predictors whose scores already are confidences override this.

        Args:
            heads: ``LongTensor[B]``.
            relations: ``LongTensor[B]`` in ``[0, 2R)``.
            graph: the observed edges (see `nesykg.reasoners.known.ObservedGraph`).
        """
        p = torch.softmax(self.score_tails(heads, relations).float(), dim=1)
        if graph is None:
            return p.clamp_(0.0, 1.0 - TRUTH_EPSILON)
        rows, cols = self._known(heads, relations, graph, p.device)
        n = torch.zeros(len(p), device=p.device).index_add_(0, rows, torch.ones(len(rows), device=p.device))
        mass = torch.zeros(len(p), device=p.device).index_add_(0, rows, p[rows, cols])
        scale = torch.where(n > 0, n / mass.clamp_min(torch.finfo(p.dtype).tiny), torch.ones_like(n))
        p.mul_(scale.unsqueeze(1)).clamp_(0.0, 1.0 - TRUTH_EPSILON)
        p[rows, cols] = 1.0
        return p

    def _known(
        self, heads: Tensor, relations: Tensor, graph: ObservedGraph, device: torch.device
    ) -> tuple[Tensor, Tensor]:
        """``(rows, cols)`` of the observed tails of each query, on `device`."""
        known = as_known_tails(graph, self.num_entities, self.num_relations, self.vocab)
        rows, cols = known.mask(heads.reshape(-1), relations.reshape(-1))
        return rows.to(device), cols.to(device)

    @torch.no_grad()
    def project(
        self,
        weights: Tensor,
        relations: Tensor,
        k: int = 64,
        graph: ObservedGraph | None = None,
        max_floats: int = MAX_FLOATS,
    ) -> Tensor:
        """The fuzzy image of fuzzy sets of heads under relations, ``FloatTensor[B, N]``.

        Existential projection under the product t-norm:
        ``out[b, t] = max_h weights[b, h] * truth_tails(h, relations[b])[t]``, the max
        taken over the `k` members of each set with the highest (positive) weight; the
        members beyond are dropped (FIT enumerates the same way). Memory: the
        ``B x k x N`` truth values are computed ``max_floats // N`` rows at a time, so
        peak memory is ``max_floats + B x N`` floats. GNNs override this with one pass.

        Args:
            weights: ``FloatTensor[B, N]`` membership degrees in ``[0, 1]``.
            relations: ``LongTensor[B]`` in ``[0, 2R)``.
            k: members of each set to project.
            graph: the observed edges, passed on to `truth_tails`.
            max_floats: truth values held at a time.
        """
        if weights.dim() != 2 or weights.shape[1] != self.num_entities:
            raise InputError(f"weights must be [B, {self.num_entities}], got {tuple(weights.shape)}")
        relations = relations.reshape(-1)
        if len(relations) != len(weights):
            raise InputError(f"weights and relations differ in length: {len(weights)} vs {len(relations)}")
        if k < 1:
            raise InputError(f"project needs k >= 1, got {k}")
        B, N = weights.shape
        w, members = torch.topk(weights.float(), min(k, N), dim=1)  # (B, k)
        w, members, relations = w.cpu(), members.cpu(), relations.cpu()
        keep = w > 0
        rows = torch.arange(B).unsqueeze(1).expand_as(w)[keep]  # (m,) the set of each member
        w, members = w[keep], members[keep]
        out: Tensor | None = None
        step = max(1, max_floats // max(1, N))
        for i in range(0, len(rows), step):
            t = self.truth_tails(members[i : i + step], relations[rows[i : i + step]], graph)
            t = t * w[i : i + step].to(t.device).unsqueeze(1)  # (m, N)
            if out is None:
                out = torch.zeros(B, N, device=t.device)
            idx = rows[i : i + step].to(t.device).unsqueeze(1).expand_as(t)
            out.scatter_reduce_(0, idx, t, "amax", include_self=True)
        return out if out is not None else torch.zeros(B, N, device=self.device)

    # -------------------------------------------------------------- checkpoints
    @property
    def config(self) -> Any:
        """The predictor's hyperparameters, an instance of `config_class`."""
        raise UnsupportedCapabilityError(type(self).__name__, "checkpoints (no config)", kind="predictor")

    def save_state(self, folder: Path) -> None:
        """Write the predictor's own state files (weights, rules...) into `folder`.

        `nesykg.reasoners.checkpoint.save_predictor` writes ``config.json`` and
        ``vocab.json`` beside them.
        """
        raise UnsupportedCapabilityError(type(self).__name__, "checkpoints", kind="predictor")

    @classmethod
    def from_checkpoint(
        cls, folder: Path, vocab: Vocabulary, meta: dict[str, Any], device: str = "cpu"
    ) -> LinkPredictor:
        """Rebuild a predictor from its checkpoint `folder`.

        Args:
            folder: the checkpoint folder.
            vocab: its vocabulary (already read and checked).
            meta: the parsed ``config.json``; the class reads its own ``config`` entry.
            device: where to put the predictor.

        Raises:
            InputError: a state file is missing, unreadable or does not fit.
        """
        raise UnsupportedCapabilityError(cls.__name__, "checkpoints", kind="predictor")
