"""End to end on a Neo4j-backed workspace: load a dataset into Neo4j, snapshot it, train a
link predictor and mine rules on the snapshot, write rule conclusions back into Neo4j with
provenance, and undo them. (The agent joins this test when it exists.)"""

from __future__ import annotations

import pytest
import torch

from nesykg.datasets import load_dataset
from nesykg.kg.io import import_files
from nesykg.kg.tensor import TensorKG
from nesykg.reasoners.config import TrainingConfig
from nesykg.reasoners.evaluation import evaluate
from nesykg.reasoners.rules.chaining import apply_rules
from nesykg.reasoners.rules.miner import MinerConfig, mine_rules
from nesykg.reasoners.training import train
from tests.conftest import neo4j_store

pytestmark = pytest.mark.neo4j


def test_reasoners_on_a_neo4j_workspace():
    torch.manual_seed(0)
    ds = load_dataset("countries_s1")
    store = neo4j_store()
    try:
        import_files(store, [ds.path / "train.txt"], namespace=ds.namespace)
        snapshot = TensorKG.from_store(store)
        assert snapshot.vocab.namespace == ds.namespace
        assert len(snapshot.triples()) == 1110  # the file repeats one triple
        assert snapshot.vocab.relations == ("locatedin", "neighbor")

        # neural: a link predictor trained on the Neo4j snapshot scores its own facts
        model, result = train(snapshot, TrainingConfig(model="complex", dim=16, epochs=15, seed=0, learning_rate=0.1))
        train_metrics = evaluate(model, snapshot.triples()[:200], [snapshot.triples()])
        assert train_metrics["mrr"] > 0.3

        # symbolic: rules mined from the snapshot, materialised back into Neo4j
        rules = mine_rules(snapshot, MinerConfig(max_length=2, min_confidence=0.5, constants=False, seed=0)).rules
        assert any(str(r).startswith("neighbor(X,Y) <= neighbor(Y,X)") for r in rules)
        before = sorted(store.triples())
        res = apply_rules(store, rules, min_confidence=0.8)
        assert res.added > 0
        triple, *_ = [(ds.iri(c.triple[0]), ds.iri(c.triple[1]), ds.iri(c.triple[2])) for c in res.conclusions]
        [prov] = store.provenance(triple)
        assert prov.run_id == res.run_id and prov.method == "rule" and prov.confidence >= 0.8
        assert apply_rules(store, rules, min_confidence=0.8).added == 0  # idempotent
        assert store.undo(res.run_id) == res.added
        assert sorted(store.triples()) == before
    finally:
        store.clear()
        store.close()
