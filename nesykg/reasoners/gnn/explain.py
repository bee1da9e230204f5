"""Path explanations of an NBFNet prediction by edge gradients (NBFNet's interpretation).

Every message of the pass is multiplied by an edge weight of 1; the gradient of the score
of ``(h, q, t)`` with respect to those weights is each edge's importance. The most
important paths are the paths ``h -> ... -> t`` of at most ``num_layers`` edges with the
largest sum of importances, found by a beam search (no node visited twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from nesykg.errors import InputError
from nesykg.reasoners.gnn.nbfnet import NBFNet

__all__ = ["PathExplanation", "explain_paths"]


@dataclass(frozen=True)
class PathExplanation:
    """One path that supports a prediction.

    Attributes:
        importance: the sum of its edges' gradient importances.
        edges: ``(head, relation, tail)`` names along the path, in walking order
            (``inv:REL`` for an edge walked against a fact).
    """

    importance: float
    edges: tuple[tuple[str, str, str], ...]

    def __str__(self) -> str:
        return " -> ".join(f"({h}, {r}, {t})" for h, r, t in self.edges)

    def as_dict(self) -> dict[str, Any]:
        return {"importance": self.importance, "path": [list(e) for e in self.edges]}


def explain_paths(
    model: NBFNet, head: int | str, relation: int | str, tail: int | str, top: int = 5, beam: int = 20
) -> list[PathExplanation]:
    """The `top` most important paths for the prediction ``(head, relation, tail)``.

    Args:
        model: a (trained) NBFNet with its graph.
        head, tail: entity ids or names.
        relation: id in ``[0, 2R)`` or a name (``inv:NAME`` for the reciprocal).
        top: paths returned, best first.
        beam: partial paths kept per length.
    """
    v = model.vocab
    if v is None:
        raise InputError("explanations need the model's vocabulary")
    h = v.entity_id(head) if isinstance(head, str) else int(head)
    t = v.entity_id(tail) if isinstance(tail, str) else int(tail)
    R = model.num_relations
    if isinstance(relation, str):
        q = v.relation_id(relation[4:]) + R if relation.startswith("inv:") else v.relation_id(relation)
    else:
        q = int(relation)
    dev = model.device
    edge_index, edge_type, _ = model.edges(dev)
    weight = torch.ones(edge_index.shape[1], device=dev, requires_grad=True)
    onehot = torch.zeros(1, model.num_entities, device=dev)
    onehot[0, h] = 1.0
    was = model.training
    model.eval()
    try:
        with torch.enable_grad():
            score = model.forward_sets(onehot, torch.tensor([q], device=dev), edge_weight=weight)[0, t]
            (grad,) = torch.autograd.grad(score, weight)
    finally:
        model.train(was)
    src, dst = edge_index.cpu().tolist()
    types, g = edge_type.cpu().tolist(), grad.cpu().tolist()
    out_edges: dict[int, list[int]] = {}
    for e, s in enumerate(src):
        out_edges.setdefault(s, []).append(e)
    found: list[tuple[float, tuple[int, ...]]] = []
    frontier: list[tuple[float, int, tuple[int, ...], frozenset[int]]] = [(0.0, h, (), frozenset([h]))]
    for _ in range(len(model.layers)):
        cand = []
        for total, node, path, seen in frontier:
            for e in out_edges.get(node, ()):
                nxt = dst[e]
                if nxt in seen:
                    continue
                item = (total + g[e], nxt, path + (e,), seen | {nxt})
                if nxt == t:
                    found.append((item[0], item[2]))
                else:
                    cand.append(item)
        cand.sort(key=lambda x: -x[0])
        frontier = cand[:beam]
    found.sort(key=lambda x: -x[0])

    def name(e: int) -> tuple[str, str, str]:
        r = types[e]
        rel = v.relations[r] if r < R else "inv:" + v.relations[r - R]
        return (v.entities[src[e]], rel, v.entities[dst[e]])

    return [PathExplanation(float(s), tuple(name(e) for e in p)) for s, p in found[:top]]
