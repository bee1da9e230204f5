"""End to end on a Neo4j-backed workspace: load a dataset into Neo4j, snapshot it, train a
link predictor and mine rules on the snapshot, write rule conclusions back into Neo4j with
provenance, and undo them; and the agent on the same kind of store: it answers a question whose
fact Neo4j lacks, writes the fact back into Neo4j with provenance, `undo` removes exactly its run,
and its `cypher` tool reads and refuses a write."""

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


def test_agent_on_a_neo4j_workspace(tmp_path):
    from nesykg.agents import AgentConfig, Executor, Planner, Question, Workspace
    from nesykg.agents.memory import Memory
    from nesykg.agents.tools import call_tool

    ds = load_dataset("countries_s1")
    store = neo4j_store()
    try:
        import_files(store, [ds.path / "train.txt"], namespace=ds.namespace)
        tests = [(h, t) for h, r, t in ds.splits["test"] if r == "locatedin"][:4]
        # where the asked countries lie is not in Neo4j: the agent must infer it
        store.remove_many([(ds.iri(h), ds.iri("locatedin"), o) for h, _ in tests
                           for _, _, o in store.triples((ds.iri(h), ds.iri("locatedin"), None))])
        before = sorted(store.triples())
        ws = Workspace.open(store)
        assert ws.namespace == ds.namespace
        assert not any(ws.graph.follow([h], ["locatedin"]) for h, _ in tests)
        valid = ds.splits["valid"][:20]
        exemplars = [Question(f"what is the locatedin of [{a}] ?", (b,), a) for a, _, b in valid]
        with Memory(tmp_path / "agent.db") as mem:
            agent = Executor(ws, Planner(ws, exemplars), config=AgentConfig(min_confidence=0.6), memory=mem)
            results = [agent.ask(f"what is the locatedin of [{h}] ?", gold=[t]) for h, t in tests]
            trajectories = mem.trajectories()
        assert [x.topic for x in trajectories] == [h for h, _ in tests]
        assert sum(x.success for x in trajectories) >= 3
        res = next(x for x in results if x.written)
        h = res.written[0][0]
        assert res.answers[0] == dict(tests)[h] and all(x[0] == h for x in res.written) and res.run_id
        triple = tuple(ws.iri(x) for x in res.written[0])
        assert triple in set(store.triples(graphs=["inferred"]))
        [prov] = store.provenance(triple)
        assert prov.run_id == res.run_id and prov.method.startswith("agent:symbolic:")
        assert prov.confidence >= 0.6 and f"[{h}]" in prov.evidence

        # the cypher tool reads Neo4j and refuses to write
        ok, obs = call_tool(agent.ep, "cypher", {"query": "MATCH (n) RETURN count(n) AS n"})
        assert ok and obs["items"][0]["n"] > 0
        ok, obs = call_tool(agent.ep, "cypher", {"query": "CREATE (n:Intruder {name: 'x'}) RETURN n"})
        assert not ok and "refused" in obs["error"]
        ok, obs = call_tool(agent.ep, "cypher", {"query": "MATCH (n:Intruder) RETURN count(n) AS n"})
        assert ok and obs["items"][0]["n"] == 0

        # undo removes exactly one run: the other runs' triples stay
        others = {tuple(ws.iri(x) for x in w) for x in results if x is not res for w in x.written}
        assert store.undo(res.run_id) == len(res.written)
        assert sorted(store.triples()) == sorted(set(before) | others)
        for x in results:
            if x is not res and x.written:
                store.undo(x.run_id)
        assert sorted(store.triples()) == before
    finally:
        store.clear()
        store.close()
