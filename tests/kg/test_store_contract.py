"""The GraphStore contract, run against every backend."""

from __future__ import annotations

import pytest

from nesykg.errors import InputError, UnknownNameError, UnsupportedCapabilityError
from nesykg.kg import Capability, Literal, Provenance, Triple, new_run_id
from tests.conftest import ex, family_triples


def snapshot(store):
    return {g: set(store.triples(graphs=g)) for g in store.graphs()}


def test_add_and_match_patterns(store):
    store.add_many(family_triples())
    assert len(store) == 6
    homer_children = {t.object for t in store.triples((ex("homer"), ex("parent"), None))}
    assert homer_children == {ex("bart"), ex("lisa")}
    assert {t.subject for t in store.triples((None, None, ex("homer")))} == {ex("abe"), ex("mona")}
    assert store.count((None, ex("parent"), None)) == 5
    assert (ex("bart"), ex("likes"), ex("lisa")) in store
    assert (ex("lisa"), ex("likes"), ex("bart")) not in store


def test_add_is_set_semantics(store):
    store.add_many(family_triples())
    store.add_many(family_triples())
    assert len(store) == 6


def test_literals_round_trip(store):
    store.add((ex("bart"), ex("name"), Literal("Bart", language="en")), graph="expert")
    store.add((ex("bart"), ex("age"), Literal("10", datatype="http://www.w3.org/2001/XMLSchema#integer")))
    store.add((ex("bart"), ex("note"), Literal('says "ay caramba"\n')))
    objs = {t.object for t in store.triples((ex("bart"), None, None))}
    assert objs == {
        Literal("Bart", language="en"),
        Literal("10", datatype="http://www.w3.org/2001/XMLSchema#integer"),
        Literal('says "ay caramba"\n'),
    }


def test_named_graphs_and_unions(store):
    store.add_many(family_triples()[:3], graph="domain")
    store.add((ex("homer"), ex("parent"), ex("maggie")), graph="expert")
    store.add(family_triples()[0], graph="expert")  # in both graphs
    assert store.graphs() == ["domain", "expert"]
    assert store.count(graphs="domain") == 3
    assert store.count(graphs="expert") == 2
    union = list(store.triples(graphs=["domain", "expert"]))
    assert len(union) == len(set(union)) == 4  # each triple once
    assert store.count(graphs=["expert"]) == 2
    assert len(store) == 4
    assert store.count(graphs=["domain", "expert"]) == 4
    # inferred by two runs and stated in domain: still one triple of the union
    t = family_triples()[0]
    for run in (new_run_id("union"), new_run_id("union")):
        store.add_inferred([(t, Provenance(0.5, "rule", "u", run))])
    assert store.count(graphs="inferred") == 1
    assert len(store) == 4 and store.count((None, ex("parent"), None)) == 4
    assert store.count((ex("homer"), None, None), graphs=["domain", "expert"]) == 3


def test_remove_only_from_named_graph(store):
    t = family_triples()[0]
    store.add(t, graph="domain")
    store.add(t, graph="expert")
    store.remove(t, graph="domain")
    assert t not in set(store.triples(graphs="domain"))
    assert t in set(store.triples(graphs="expert"))
    store.remove(t, graph="domain")  # absent: no error
    assert store.graphs() == ["expert"]  # an emptied graph is no longer listed
    assert store.stats().triples == {"expert": 1}
    store.remove(t, graph="expert")
    assert store.graphs() == [] and len(store) == 0


def test_transaction_commits_atomically(store):
    with store.transaction():
        store.add_many(family_triples())
        store.remove(family_triples()[0])
        assert len(store) == 0  # reads see the state before the block
    # within one change set removals apply before additions: the removed triple was
    # absent before the block, so all six are there after it
    assert set(store.triples()) == {Triple(*t) for t in family_triples()}
    with store.transaction():
        store.remove(family_triples()[0])
        store.add((ex("lisa"), ex("likes"), ex("bart")))
    assert family_triples()[0] not in store
    assert len(store) == 6


def test_transaction_rolls_back_on_error(store):
    store.add_many(family_triples()[:2])
    before = snapshot(store)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_many(family_triples()[2:])
            store.remove(family_triples()[0])
            raise RuntimeError("boom")
    assert snapshot(store) == before


def test_invalid_terms_rejected_and_store_unchanged(store):
    store.add_many(family_triples()[:2])
    before = snapshot(store)
    with pytest.raises(InputError, match="invalid IRI 'not an iri'"):
        store.add_many([family_triples()[3], (ex("a"), "not an iri", ex("b"))])
    with pytest.raises(InputError, match="literal is only allowed as object"):
        store.add((Literal("x"), ex("p"), ex("b")))
    with pytest.raises(InputError, match="invalid graph name"):
        store.add(family_triples()[3], graph="bad graph")
    # a batch checks each distinct IRI once: a bad term late in a repetitive batch still fails
    repetitive = [(ex("a"), ex("p"), ex(f"b{i % 3}")) for i in range(50)]
    with pytest.raises(InputError, match="object: invalid IRI 'http://ex.org/b 7'"):
        store.add_many([*repetitive, (ex("a"), ex("p"), "http://ex.org/b 7"), *repetitive])
    assert snapshot(store) == before


def test_inferred_needs_provenance(store):
    with pytest.raises(InputError, match="add_inferred"):
        store.add(family_triples()[0], graph="inferred")


def test_provenance_and_undo(store):
    store.add_many(family_triples())
    before = snapshot(store)
    gp = (ex("abe"), ex("grandparent"), ex("bart"))
    run = new_run_id("test")
    n = store.add_inferred(
        [
            (gp, Provenance(0.97, "rule", "grandparent(X,Y) <= parent(X,Z), parent(Z,Y)", run)),
            ((ex("abe"), ex("grandparent"), ex("lisa")), Provenance(0.97, "rule", "same rule", run)),
        ]
    )
    assert n == 2
    assert store.count(graphs="inferred") == 2
    [prov] = store.provenance(gp)
    assert (prov.confidence, prov.method, prov.run_id) == (0.97, "rule", run)
    assert prov.evidence.startswith("grandparent(X,Y)")
    assert [r.run_id for r in store.runs()] == [run]
    assert store.runs()[0].triples == 2
    # a default read includes inferred triples
    assert gp in set(store.triples())
    assert store.undo(run) == 2
    assert snapshot(store) == before
    assert store.provenance(gp) == []
    assert store.runs() == []


def test_undo_keeps_triples_other_runs_wrote(store):
    t1 = (ex("abe"), ex("grandparent"), ex("bart"))
    t2 = (ex("mona"), ex("grandparent"), ex("bart"))
    r1, r2 = new_run_id("a"), new_run_id("b")
    store.add_inferred([(t1, Provenance(0.9, "rule", "r", r1))])
    store.add_inferred([(t1, Provenance(0.6, "agent", "doc", r2)), (t2, Provenance(0.6, "agent", "doc", r2))])
    assert {p.run_id for p in store.provenance(t1)} == {r1, r2}
    assert store.undo(r2) == 1  # t2 only; t1 is still r1's
    assert set(store.triples(graphs="inferred")) == {Triple(*t1)}
    assert [p.run_id for p in store.provenance(t1)] == [r1]


def test_inferred_writes_are_idempotent_per_run(store):
    t = (ex("abe"), ex("grandparent"), ex("bart"))
    run = new_run_id()
    store.add_inferred([(t, Provenance(0.9, "rule", "r", run))])
    store.add_inferred([(t, Provenance(0.5, "rule", "again", run))])
    assert store.count(graphs="inferred") == 1
    [p] = store.provenance(t)
    assert (p.confidence, p.evidence) == (0.9, "r")


def test_undo_unknown_run(store):
    store.add_inferred([((ex("a"), ex("p"), ex("b")), Provenance(1.0, "rule", "r", "run-1"))])
    with pytest.raises(UnknownNameError, match="unknown run 'run-2'.*run-1"):
        store.undo("run-2")


def test_provenance_validated():
    with pytest.raises(InputError, match=r"confidence must be a number in \[0, 1\]"):
        Provenance(1.5, "rule", "r", "run-1")
    with pytest.raises(InputError, match="invalid run id"):
        Provenance(0.5, "rule", "r", "has space")


def test_stats(store):
    store.add_many(family_triples())
    store.add((ex("bart"), ex("name"), Literal("Bart")), graph="expert")
    stats = store.stats()
    assert stats.triples == {"domain": 6, "expert": 1}
    assert stats.entities == 6  # abe homer bart lisa mona marge
    assert stats.relations == 3
    assert stats.as_dict()["total"] == 7


def test_capabilities_declared(store):
    assert Capability.NAMED_GRAPHS in store.capabilities
    assert Capability.ANNOTATIONS in store.capabilities
    if Capability.SPARQL not in store.capabilities:
        with pytest.raises(UnsupportedCapabilityError, match=f"the '{store.name}' store does not support SPARQL"):
            store.sparql("ASK {}")


def test_closed_store_refuses_writes(store):
    store.close()
    with pytest.raises(InputError, match="closed"):
        store.add(family_triples()[0])
