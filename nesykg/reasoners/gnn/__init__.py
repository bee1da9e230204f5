"""GNN reasoners on torch-geometric: NBFNet (path GNN link predictor, transductive and
inductive) and EpiGNN (systematic relational reasoning).

Imported on first use (torch-geometric loads only when a model is built)::

    from nesykg.reasoners.gnn import NBFNet, train_nbfnet
    model = NBFNet(kg.vocab, NBFNetConfig(dim=32), facts=kg.triples("train"))
    train_nbfnet(model, kg.triples("train"), kg.triples("valid"))
    inductive = model.on_graph(other.vocab, other.triples("train"))  # new entities

* `NBFNet`, `NBFNetConfig`; `EpiGNN`, `EpiGNNConfig`, `RelationQuery`;
* `GNNTrainingConfig`, `train_nbfnet`, `train_epignn`;
* `explain_paths` (edge-gradient path explanations);
* inductive protocols: `grail_sampled_ranks`, `inductive_metrics` (``gnn.evaluation``).
"""

from __future__ import annotations

import importlib

__all__ = [
    "NBFNet",
    "NBFNetConfig",
    "EpiGNN",
    "EpiGNNConfig",
    "RelationQuery",
    "GraphReasoner",
    "GNNTrainingConfig",
    "GNNTrainingResult",
    "train_nbfnet",
    "train_epignn",
    "explain_paths",
    "PathExplanation",
    "grail_sampled_ranks",
    "sample_negatives",
    "inductive_metrics",
]

_LAZY = {
    "NBFNet": "nbfnet",
    "NBFNetConfig": "nbfnet",
    "EpiGNN": "epignn",
    "EpiGNNConfig": "epignn",
    "RelationQuery": "epignn",
    "GraphReasoner": "base",
    "GNNTrainingConfig": "training",
    "GNNTrainingResult": "training",
    "train_nbfnet": "training",
    "train_epignn": "training",
    "explain_paths": "explain",
    "PathExplanation": "explain",
    "grail_sampled_ranks": "evaluation",
    "sample_negatives": "evaluation",
    "inductive_metrics": "evaluation",
}


def __getattr__(name: str) -> object:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
