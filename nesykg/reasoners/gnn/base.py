"""`GraphReasoner`: what the GNN link predictors share -- a graph of facts they reason on.

An embedding model *is* its entity table; a GNN is a function of the graph it is run on.
So a GNN predictor holds its weights (tied to the relation vocabulary only) and a graph of
facts (``LongTensor[M, 3]`` over the predictor's `vocab`), and `on_graph` moves the same
weights onto another graph with other entities (inductive use).

Message edges: every fact ``(h, r, t)`` gives an edge ``h -> t`` of type ``r`` and an
edge ``t -> h`` of type ``r + R`` (the reciprocal convention of `LinkPredictor`); both
remember the fact's index, so training can remove the queried facts from the graph.

A checkpoint folder holds ``model.pt`` (the weights, a state dict) and ``facts.pt`` (the
graph, ``LongTensor[M, 3]``) beside ``vocab.json`` and ``config.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from nesykg.errors import InputError, VocabularyMismatchError
from nesykg.reasoners.base import LinkPredictor

if TYPE_CHECKING:  # pragma: no cover
    from nesykg.kg.vocab import Vocabulary

__all__ = ["GraphReasoner", "WEIGHTS_FILE", "FACTS_FILE", "check_facts"]

WEIGHTS_FILE = "model.pt"
FACTS_FILE = "facts.pt"


def check_facts(facts: Tensor, num_entities: int, num_relations: int, where: str) -> Tensor:
    """`facts` as a CPU ``LongTensor[M, 3]`` whose ids fit; an `InputError` naming `where` otherwise."""
    ok = isinstance(facts, Tensor) and facts.dtype == torch.long and facts.dim() == 2 and facts.shape[1] == 3
    if ok and len(facts):
        ok = bool((facts[:, [0, 2]] >= 0).all() and (facts[:, [0, 2]] < num_entities).all())
        ok = ok and bool((facts[:, 1] >= 0).all() and (facts[:, 1] < num_relations).all())
    if not ok:
        raise InputError(f"{where}: not a LongTensor[M, 3] of facts over {num_entities} entities, {num_relations} relations")
    return facts.cpu()


class GraphReasoner(LinkPredictor, nn.Module):
    """Base of the GNN predictors: weights over relations, run on a graph of facts.

    Args:
        vocab: entities and relations of the graph (relations fix the weights' shapes).
        facts: ``LongTensor[M, 3]`` the graph to reason on (``None``: no edges).
    """

    name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, vocab: Vocabulary, facts: Tensor | None = None):
        nn.Module.__init__(self)
        LinkPredictor.__init__(self, vocab)
        empty = torch.empty(0, 3, dtype=torch.long)
        self.facts = check_facts(empty if facts is None else facts, vocab.num_entities, vocab.num_relations, "facts")
        self._edge_cache: dict[str, tuple[Tensor, Tensor, Tensor]] = {}

    # ------------------------------------------------------------------ graph
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def config(self) -> Any:
        return self._config

    def edges(self, device: torch.device | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """``(edge_index [2, 2M], edge_type [2M], fact_id [2M])`` of the message graph."""
        dev = device or self.device
        key = str(dev)
        got = self._edge_cache.get(key)
        if got is None:
            f = self.facts
            R = self.num_relations
            src = torch.cat([f[:, 0], f[:, 2]])
            dst = torch.cat([f[:, 2], f[:, 0]])
            etype = torch.cat([f[:, 1], f[:, 1] + R])
            fid = torch.arange(len(f)).repeat(2)
            got = (torch.stack([src, dst]).to(dev), etype.to(dev), fid.to(dev))
            self._edge_cache[key] = got
        return got

    def on_graph(self, vocab: Vocabulary, facts: Tensor) -> GraphReasoner:
        """The same weights on another graph (inductive use): a new predictor over `vocab`.

        Args:
            vocab: the new graph's vocabulary; its relations must be this predictor's
                (same names, same order): the weights are tied to them.
            facts: ``LongTensor[M, 3]`` over `vocab`.

        Raises:
            VocabularyMismatchError: the relations differ.
        """
        if self.vocab is None:
            raise InputError(f"a {type(self).__name__} without a vocabulary cannot move to another graph")
        if tuple(vocab.relations) != tuple(self.vocab.relations):
            ours, theirs = set(self.vocab.relations), set(vocab.relations)
            extra = sorted(theirs - ours)[:3]
            raise VocabularyMismatchError(
                f"the graph's relations are not the model's ({len(vocab.relations)} vs {len(self.vocab.relations)}"
                + (f"; unknown to the model: {extra}" if extra else "; another order") + ")"
            )
        clone = type(self)(vocab, self.config, facts)
        clone.load_state_dict(self.state_dict())
        clone.train(self.training)
        return clone.to(self.device)

    def _check_queries(self, heads: Tensor, relations: Tensor) -> tuple[Tensor, Tensor]:
        h = heads.reshape(-1).long()
        r = relations.reshape(-1).long()
        if len(h) != len(r):
            raise InputError(f"heads and relations differ in length: {len(h)} vs {len(r)}")
        if len(r) and (int(r.min()) < 0 or int(r.max()) >= 2 * self.num_relations):
            raise InputError(f"relation ids must lie in [0, {2 * self.num_relations})")
        if len(h) and (int(h.min()) < 0 or int(h.max()) >= self.num_entities):
            raise InputError(f"entity ids must lie in [0, {self.num_entities})")
        return h, r

    # ------------------------------------------------------------ checkpoint
    def save_state(self, folder: Path) -> None:
        """Write ``model.pt`` (weights) and ``facts.pt`` (the graph, ``LongTensor[M, 3]``)."""
        from nesykg.reasoners.checkpoint import atomic_save

        folder = Path(folder)
        atomic_save({k: v.detach().cpu() for k, v in self.state_dict().items()}, folder / WEIGHTS_FILE)
        atomic_save(self.facts.clone(), folder / FACTS_FILE)

    @classmethod
    def from_checkpoint(
        cls, folder: Path, vocab: Vocabulary, meta: dict[str, Any], device: str = "cpu"
    ) -> GraphReasoner:
        """The predictor saved in `folder`, in eval mode on `device`."""
        from nesykg.reasoners.checkpoint import read_tensors

        folder = Path(folder)
        config = cls.config_class.from_dict(meta.get("model_config", {}), where=str(folder / "config.json"))  # type: ignore[attr-defined]
        for f in (WEIGHTS_FILE, FACTS_FILE):
            if not (folder / f).is_file():
                raise InputError(f"{folder}: no {f} in the {cls.name} checkpoint")
        facts = check_facts(read_tensors(folder / FACTS_FILE), vocab.num_entities, vocab.num_relations, str(folder / FACTS_FILE))
        state = read_tensors(folder / WEIGHTS_FILE)
        model = cls(vocab, config, facts)  # type: ignore[call-arg]
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise InputError(f"{folder / WEIGHTS_FILE}: the weights do not fit a {cls.name} model: {first}") from None
        model.eval()
        return model.to(device)
