"""The Neo4j backend against a real server: mapping, batching, property graphs, faults.

The store contract itself runs over the ``neo4j`` param of tests/kg/test_store_contract.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

import pytest
import torch

from nesykg.errors import AuthenticationError, InputError, StoreError, StoreUnavailableError
from nesykg.kg import ChangeSet, Literal, Provenance, new_run_id, open_store
from nesykg.kg.registry import backend_for
from nesykg.kg.tensor import TensorKG
from tests.conftest import ex, family_triples, generate_triples, neo4j_store, require_server

pytestmark = pytest.mark.neo4j


@pytest.fixture
def store():
    st = neo4j_store()
    yield st
    st.clear()
    st.close()


def _cypher(store, query, **params):
    with store.driver.session() as s:
        return s.run(query, params).data()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- connection
def test_wrong_credentials_clear_error():
    uri = require_server("neo4j")
    with pytest.raises(AuthenticationError) as err:
        open_store(uri, user="neo4j", password="definitely-wrong")
    msg = str(err.value)
    assert uri in msg and "'neo4j'" in msg and "password" in msg


def test_server_down_names_address():
    uri = f"bolt://127.0.0.1:{_free_port()}"
    with pytest.raises(StoreUnavailableError, match=f"cannot reach Neo4j at {uri}"):
        open_store(uri, user="neo4j", password="x")


def test_credentials_in_uri_and_routing():
    uri = require_server("neo4j")
    user, pw = os.environ.get("NESYKG_NEO4J_USER", "neo4j"), os.environ["NESYKG_NEO4J_PASSWORD"]
    scheme, rest = uri.split("://", 1)
    with open_store(f"{scheme}://{user}:{pw}@{rest}", password=None) as st:
        assert st.name == "neo4j"
        assert st.location == uri  # the password never shows in the location
    assert backend_for("neo4j://h:7687") == backend_for("bolt://h") == backend_for("neo4j+s://h") == "neo4j"
    assert backend_for("http://h/query") == "sparql" and backend_for("kg.db") == "oxigraph"


# ------------------------------------------------------------------- mapping
def test_documented_mapping(store):
    run = new_run_id("map")
    store.add_many(family_triples()[:2])
    store.add((ex("bart"), ex("name"), Literal("Bart", language="en")), graph="expert")
    store.add_inferred([((ex("abe"), ex("gp"), ex("bart")), Provenance(0.8, "rule", "gp rule", run))])
    rels = _cypher(
        store,
        "MATCH (s:Resource)-[r:REL]->(o) RETURN s.iri AS s, r.predicate AS p, r.graph AS g, "
        "coalesce(o.iri, o.value) AS o, labels(o) AS l, r.run_id AS run, r.confidence AS c ORDER BY g, s",
    )
    assert {(r["g"], r["p"], r["o"]) for r in rels} == {
        ("domain", ex("parent"), ex("homer")),
        ("domain", ex("parent"), ex("bart")),
        ("expert", ex("name"), "Bart"),
        ("inferred", ex("gp"), ex("bart")),
    }
    inferred = [r for r in rels if r["g"] == "inferred"][0]
    assert (inferred["run"], inferred["c"]) == (run, 0.8)
    lit = _cypher(store, "MATCH (l:Literal) RETURN l.value AS v, l.language AS lang, l.datatype AS dt")
    assert lit == [{"v": "Bart", "lang": "en", "dt": None}]
    constraints = {r["name"] for r in _cypher(store, "SHOW CONSTRAINTS YIELD name RETURN name")}
    assert {"nesykg_resource_iri", "nesykg_literal_key", "nesykg_named_graph_iri"} <= constraints
    assert _cypher(store, "MATCH ()-[r:REL]->() WHERE r.key IS NOT NULL RETURN count(r) AS n") == [{"n": 0}]
    # one lock node per graph written, counting the write transactions that changed it
    graphs = _cypher(store, "MATCH (g:NamedGraph) RETURN g.iri AS g, g.writes AS w ORDER BY g")
    assert graphs == [{"g": "domain", "w": 1}, {"g": "expert", "w": 1}, {"g": "inferred", "w": 1}]


def test_batches_are_idempotent_and_chunked(store, monkeypatch):
    """Applying the same change set twice (as a driver retry after a lost commit
    acknowledgement would) duplicates nothing, also across many small batches."""
    import nesykg.kg.backends.neo4j.store as backend

    monkeypatch.setattr(backend, "BATCH", 7)
    run = new_run_id("batch")
    triples = [(ex(h), ex(r), ex(t)) for h, r, t in generate_triples(num_triples=60)]
    lits = [(ex(f"e{i}"), ex("label"), Literal(f"name {i}", language="en" if i % 2 else None)) for i in range(20)]
    changes = ChangeSet(
        add=[(t, "domain") for t in triples + lits],
        provenance=[((ex(f"e{i}"), ex("inf"), ex(f"e{i + 1}")), Provenance(0.5, "rule", f"ev {i % 3}", run)) for i in range(30)]
        + [((ex("e0"), ex("inf-label"), Literal("x")), Provenance(0.5, "rule", "lit", run))],
    )
    store.apply_changes(changes)
    store.apply_changes(changes)
    assert store.count(graphs="domain") == 80
    assert store.count(graphs="inferred") == 31
    dup = _cypher(
        store,
        "MATCH (s)-[r:REL]->(o) WITH s, o, r.predicate AS p, r.graph AS g, r.run_id AS run, count(*) AS n "
        "WHERE n > 1 RETURN count(*) AS dups",
    )
    assert dup == [{"dups": 0}]
    assert _cypher(store, "MATCH (n:Resource) WITH n.iri AS k, count(*) AS c WHERE c > 1 RETURN count(*) AS d") == [{"d": 0}]
    assert store.undo(run) == 31
    assert store.count(graphs="inferred") == 0


def test_overlapping_change_sets_write_each_triple_once(store, monkeypatch):
    """Relationships are created only where the same (triple, graph[, run]) does not
    exist yet: overlapping change sets store each once and lose nothing."""
    import nesykg.kg.backends.neo4j.store as backend

    monkeypatch.setattr(backend, "BATCH", 9)
    triples = [(ex(h), ex(r), ex(t)) for h, r, t in generate_triples(num_triples=60)]
    lits = [(ex(f"e{i}"), ex("label"), Literal(f"name {i}", language="en")) for i in range(12)]
    store.add_many(triples[:40] + lits[:6])
    store.add_many(triples[20:] + lits[3:])  # 20 + 3 of these exist
    store.add_many(triples[50:], graph="expert")  # the same triples in another graph: new
    run = new_run_id("overlap")
    first = [((ex(f"e{i}"), ex("inf"), ex(f"e{i + 1}")), Provenance(0.5, "rule", "a", run)) for i in range(10)]
    store.add_inferred(first[:6])
    store.add_inferred(first)  # 6 of them exist for this run
    other = new_run_id("overlap")
    store.add_inferred([(t, Provenance(0.9, "rule", "b", other)) for t, _ in first[:3]])  # another run: new
    assert store.count(graphs="domain") == 60 + 12
    assert store.count(graphs="expert") == 10
    assert store.count(graphs="inferred") == 10
    assert _cypher(store, "MATCH ()-[r:REL {graph: 'inferred'}]->() RETURN count(r) AS n") == [{"n": 13}]
    assert {p.run_id for p in store.provenance(first[0][0])} == {run, other}
    assert _duplicates(store) == 0
    with store.transaction():  # remove and add back in one change set: present once
        store.remove(triples[0])
        store.add(triples[0])
    assert store.count(graphs="domain") == 72
    assert _cypher(store, "MATCH ()-[r:REL]->() WHERE r.predicate IS NULL OR r.graph IS NULL RETURN count(r) AS n") == [
        {"n": 0}
    ]


def _duplicates(store) -> int:
    """How many (s, p, o, graph, run) are stored as more than one relationship."""
    rows = _cypher(
        store,
        "MATCH (s)-[r:REL]->(o) WITH s, o, r.predicate AS p, r.graph AS g, r.run_id AS run, count(*) AS n "
        "WHERE n > 1 RETURN count(*) AS dups",
    )
    return rows[0]["dups"]


def _tallies(store) -> tuple[dict[str, int], dict[str, int]]:
    """Each graph's ``relationships`` tally and the relationships really stored."""
    kept = _cypher(store, "MATCH (g:NamedGraph) WHERE g.relationships > 0 RETURN g.iri AS g, g.relationships AS n")
    real = _cypher(store, "MATCH ()-[r:REL]->() RETURN r.graph AS g, count(*) AS n")
    return {r["g"]: r["n"] for r in kept}, {r["g"]: r["n"] for r in real}


def test_graph_tallies_follow_every_write(store):
    """graphs(), stats() and whole-graph counts read per-graph tallies kept in the write
    transactions (O(graphs), not a scan of every relationship); they stay exact through
    overlapping adds, removals of present and absent triples, undo and rolled-back writes."""
    run, other = new_run_id("tally"), new_run_id("tally")
    triples = [(ex(h), ex(r), ex(t)) for h, r, t in generate_triples(num_triples=50)]
    store.add_many(triples[:30])
    store.add_many(triples[20:])  # 10 exist
    store.add_many(triples[:5], graph="expert")
    store.add((ex("e1"), ex("label"), Literal("one")), graph="expert")
    store.add_inferred([(t, Provenance(0.5, "rule", "a", run)) for t in triples[:8]])
    store.add_inferred([(t, Provenance(0.6, "rule", "b", other)) for t in triples[4:6]])
    store.remove_many(triples[:3] + [(ex("absent"), ex("r0"), ex("e1"))])
    kept, real = _tallies(store)
    assert kept == real == {"domain": 47, "expert": 6, "inferred": 10}
    assert store.graphs() == ["domain", "expert", "inferred"]
    assert store.count(graphs="domain") == 47 and store.count(graphs="inferred") == 8
    assert store.stats().triples == {"domain": 47, "expert": 6, "inferred": 8}
    with pytest.raises(InputError):
        with store.transaction():  # rolled back as a whole: the tallies too
            store.add_many(triples[40:] + [(ex("new"), ex("r9"), ex("e2"))])
            store.remove(triples[10])
            raise InputError("changed my mind")
    assert store.undo(run) == 6  # 2 of its 8 triples are still held by the other run
    assert store.undo(other) == 2
    kept, real = _tallies(store)
    assert kept == real == {"domain": 47, "expert": 6}
    assert store.graphs() == ["domain", "expert"]
    store.remove_many(triples[:5], graph="expert")
    store.remove((ex("e1"), ex("label"), Literal("one")), graph="expert")
    assert store.graphs() == ["domain"] and store.count(graphs="expert") == 0


def test_tallies_made_for_data_from_earlier_versions(store):
    """A database written before the tallies (relationships with a ``key``, no
    :NamedGraph nodes) is counted once when a store opens it."""
    _cypher(
        store,
        "UNWIND range(0, 29) AS i MERGE (s:Resource {iri: 'urn:x:e' + i}) MERGE (o:Resource {iri: 'urn:x:e' + (i + 1)}) "
        "CREATE (s)-[:REL {predicate: 'urn:x:next', graph: CASE WHEN i < 20 THEN 'domain' ELSE 'expert' END, key: 'k' + i}]->(o)",
    )
    assert _cypher(store, "MATCH (g:NamedGraph) RETURN count(g) AS n") == [{"n": 0}]
    with open_store(require_server("neo4j")) as again:
        assert again.graphs() == ["domain", "expert"]
        assert again.count(graphs="domain") == 20 and again.count(graphs="expert") == 10
        again.add(("urn:x:e0", "urn:x:next", "urn:x:e1"))  # exists: no duplicate, tally unchanged
        again.add(("urn:x:e0", "urn:x:next", "urn:x:e5"))
        kept, real = _tallies(again)
        assert kept == real == {"domain": 21, "expert": 10}


def test_concurrent_writers_never_duplicate(store):
    """Writers of the same graph serialise on its lock node: four stores (four drivers)
    writing overlapping change sets at the same time store each triple once. Without the
    lock the existence check of one writer misses the other's uncommitted creates."""
    triples = [(ex(h), ex(r), ex(t)) for h, r, t in generate_triples(num_triples=3000, num_entities=400)]
    run = new_run_id("race")
    inferred = [(t, Provenance(0.5, "rule", "race", run)) for t in triples[:500]]
    writers = [neo4j_store() for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(writers))

    def write(k: int) -> None:
        try:
            st = writers[k]
            start.wait()
            for rnd in range(3):  # each writer: every triple, in its own order and chunking
                order = triples[k::2] + triples[(k + 1) % 2 :: 2]
                size = 400 + 150 * k
                for i in range(0, len(order), size):
                    st.add_many(order[i : i + size])
                st.add_inferred(inferred[k * 100 :] + inferred[: k * 100])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for st in writers:
        st.close()
    assert not errors, errors
    assert _duplicates(store) == 0
    assert store.count(graphs="domain") == len(set(triples))
    assert store.count(graphs="inferred") == 500
    assert _cypher(store, "MATCH ()-[r:REL {graph: 'inferred'}]->() RETURN count(r) AS n") == [{"n": 500}]
    kept, real = _tallies(store)
    assert kept == real == {"domain": len(set(triples)), "inferred": 500}
    # every change set that wrote took its graph's lock (3 rounds x 4 writers x chunks)
    writes = {r["g"]: r["w"] for r in _cypher(store, "MATCH (g:NamedGraph) RETURN g.iri AS g, g.writes AS w")}
    assert writes["inferred"] == 12 and writes["domain"] == sum(3 * -(-3000 // (400 + 150 * k)) for k in range(4))


def test_scans_page_through_subjects(store, monkeypatch):
    """A read binding neither subject nor object pages through the subjects (here 7 at a
    time): the same triples as one read, each once, with objects-only nodes, literals,
    several graphs and a predicate filter."""
    import nesykg.kg.backends.neo4j.store as backend

    reference = open_store("memory:")
    triples = [(ex(h), ex(r), ex(t)) for h, r, t in generate_triples(num_entities=50, num_triples=300)]
    lits = [(ex(f"e{i}"), ex("label"), Literal(f"name {i}", language="en")) for i in range(0, 50, 3)]
    for st in (store, reference):
        st.add_many(triples + lits)
        st.add_many(triples[:40], graph="expert")
        st.add_many([(ex("only-expert"), ex("r1"), ex("sink"))], graph="expert")
        st.add_inferred([(triples[0], Provenance(0.5, "rule", "x", "run-page"))])
    monkeypatch.setattr(backend, "SCAN_PAGE", 7)
    reads = []
    read = backend.Neo4jStore._read

    def counting(self, query, **params):
        reads.append(query)
        return read(self, query, **params)

    monkeypatch.setattr(backend.Neo4jStore, "_read", counting)
    for graphs in (None, "domain", ["domain", "expert"], "expert"):
        got = list(store.triples(graphs=graphs))
        assert len(got) == len(set(got)) and set(got) == set(reference.triples(graphs=graphs)), graphs
        got = list(store.triples((None, ex("r1"), None), graphs=graphs))
        assert set(got) == set(reference.triples((None, ex("r1"), None), graphs=graphs)), graphs
    subjects = len({t[0] for t in triples + lits} | {ex("only-expert")})
    assert sum("LIMIT $page" in q for q in reads) >= 8 * subjects // 7  # paged: 8 reads, each in pages


def test_lookups_seek_their_bound_node(store):
    """A pattern with a bound subject or object is answered with a seek in the iri (or
    literal key) index, never a scan. (The queries carry an index hint because on a
    server with stale statistics the planner chose an ordered scan of the whole iri
    index; this test cannot recreate those statistics, it checks the plan shape.)"""
    from nesykg.kg.backends.neo4j import Neo4jStore
    from nesykg.kg.backends.neo4j.queries import _RETURN_GROUPED

    for pattern, seek in [
        ((ex("bart"), None, None), "NodeUniqueIndexSeek"),
        ((None, ex("parent"), ex("homer")), "NodeUniqueIndexSeek"),
        ((None, None, Literal("Bart")), "NodeUniqueIndexSeek"),
    ]:
        query, params = Neo4jStore._pattern_query(pattern, _RETURN_GROUPED, distinct=False)
        with store.driver.session() as s:
            plan = s.run("EXPLAIN " + query, graphs=["domain"], **params).consume().plan
        ops = []
        stack = [plan]
        while stack:
            node = stack.pop()
            ops.append(node["operatorType"].split("@")[0])
            stack.extend(node.get("children", []))
        assert seek in ops and "NodeIndexScan" not in ops and "NodeByLabelScan" not in ops, (pattern, ops)


def _plan_ops(store, query, **params) -> list[str]:
    with store.driver.session() as s:
        plan = s.run("EXPLAIN " + query, params).consume().plan
    ops, stack = [], [plan]
    while stack:
        node = stack.pop()
        ops.append(node["operatorType"].split("@")[0])
        stack.extend(node.get("children", []))
    return ops


def test_run_index_serves_undo_but_not_the_write_check(store):
    """Undo reads its run from the run_id index; the existence check of an inferred write
    stays an Expand(Into) between the two nodes (a seek of the whole run per row would
    make a run's write quadratic)."""
    from nesykg.kg.backends.neo4j import queries as backend

    indexes = {r["name"]: r["state"] for r in _cypher(store, "SHOW INDEXES YIELD name, state RETURN name, state")}
    assert indexes.get("nesykg_rel_run") == "ONLINE"
    write = _plan_ops(
        store, backend._statement(backend._ADD_PROV, False), iris=[], texts=[], n=0, c=[], times=[],
        **{k: "" for k in ("si", "oi", "pi", "ri", "mi", "ei", "ti")},
        **{k + "_w": 1 for k in ("si", "oi", "pi", "ri", "mi", "ei", "ti")},
    )
    assert "Expand(Into)" in write and not [op for op in write if "RelationshipIndex" in op], write
    for query, params in ((backend._UNDO, {"runs": ["r"]}), (backend._UNDO_COUNT, {"run": "r"})):
        ops = _plan_ops(store, query, **params)
        assert ops.count("DirectedRelationshipIndexSeek") == 1 and "DirectedAllRelationshipsScan" not in ops, ops
        assert not [op for op in ops if "RelationshipIndexScan" in op], ops
    # which other runs hold each triple of the undone run: an expand, not the index per row
    assert "OptionalExpand(Into)" in _plan_ops(store, backend._UNDO_COUNT, run="r")


def test_remove_cleans_orphan_nodes(store):
    store.add_many(family_triples())
    store.add((ex("bart"), ex("name"), Literal("Bart")))
    store.remove_many(family_triples())
    store.remove((ex("bart"), ex("name"), Literal("Bart")))
    assert _cypher(store, "MATCH (n) WHERE n:Resource OR n:Literal RETURN count(n) AS n") == [{"n": 0}]


# ------------------------------------------------------------ property graphs
def test_read_property_graph(store):
    _cypher(
        store,
        "CREATE (a:Person {name: 'alice'}), (b:Person {name: 'bob'}), (c:Person {name: 'carol'}), "
        "(x:City {name: 'paris'}), (a)-[:KNOWS]->(b), (b)-[:KNOWS]->(c), (a)-[:LIVES_IN {since: 2020}]->(x)",
    )
    store.add_many(family_triples())  # nesykg's own :REL data is left out by default
    try:
        from nesykg.kg.backends.neo4j import read_property_graph

        kg = read_property_graph(store)
        assert list(kg.vocab.relations) == ["KNOWS", "LIVES_IN"]
        assert sorted(kg.vocab.entities) == ["alice", "bob", "carol", "paris"]
        got = {tuple(kg.vocab.entities[h] if i != 1 else kg.vocab.relations[h] for i, h in enumerate(row)) for row in kg.triples().tolist()}
        assert got == {("alice", "KNOWS", "bob"), ("bob", "KNOWS", "carol"), ("alice", "LIVES_IN", "paris")}
        only = read_property_graph(store, labels=["Person"], rel_types=["KNOWS"])
        assert only.triples().shape == (2, 3)
        uri = require_server("neo4j")
        auth = (os.environ.get("NESYKG_NEO4J_USER", "neo4j"), os.environ["NESYKG_NEO4J_PASSWORD"])
        by_fn = read_property_graph(uri, auth, node_key=lambda n: n["name"].upper())
        assert "ALICE" in by_fn.vocab.entities
        with pytest.raises(InputError, match="no property 'email'"):
            read_property_graph(store, node_key="email")
    finally:
        _cypher(store, "MATCH (n) WHERE n:Person OR n:City DETACH DELETE n")


def test_tensor_snapshot_equals_embedded(store):
    triples = [(f"urn:nesykg:ds:toy:{h}", f"urn:nesykg:ds:toy:{r}", f"urn:nesykg:ds:toy:{t}") for h, r, t in generate_triples()]
    embedded = open_store()
    for st in (store, embedded):
        st.add_many(triples[:70])
        st.add_many(triples[60:], graph="expert")
    a, b = TensorKG.from_store(store), TensorKG.from_store(embedded)
    assert a.vocab.entities == b.vocab.entities and a.vocab.relations == b.vocab.relations
    assert torch.equal(a.triples(), b.triples())
    assert a.name == b.name == "toy"


# -------------------------------------------------------------------- faults
@pytest.mark.slow
def test_kill_during_write_back_all_or_nothing():
    """kill -9 the server in the middle of one large add_inferred transaction, restart it:
    the run's triples are then all there or none, each exactly once."""
    require_server("neo4j")
    pidfile, restart = os.environ.get("NESYKG_NEO4J_PIDFILE"), os.environ.get("NESYKG_NEO4J_RESTART")
    if not (pidfile and restart):
        if os.environ.get("NESYKG_REQUIRE_SERVERS") == "1":
            pytest.fail("NESYKG_NEO4J_PIDFILE / NESYKG_NEO4J_RESTART not set", pytrace=False)
        pytest.skip("set NESYKG_NEO4J_PIDFILE and NESYKG_NEO4J_RESTART (make test does)")
    # the driver retries the managed transaction for up to max_retry_time: long enough to
    # outlast a restart on a busy machine (retrying every 0.5 s), so the usual outcome is
    # "all written once"
    store = open_store(require_server("neo4j"), max_retry_time=120, initial_retry_delay=0.5, retry_delay_multiplier=1.0)
    store.clear()
    store.add_many(family_triples())
    run = new_run_id("fault")
    n = 20_000
    records = [((ex(f"f{i}"), ex("inferred-rel"), ex(f"f{i + 1}")), Provenance(0.7, "rule", "fault test", run)) for i in range(n)]
    outcome: dict[str, object] = {}

    def write() -> None:
        try:
            store.add_inferred(records)
            outcome["ok"] = True
        except StoreError as e:  # a clear error, never a raw driver traceback
            outcome["error"] = e
        except BaseException as e:  # noqa: BLE001
            outcome["unexpected"] = e

    watcher = open_store(require_server("neo4j"))
    thread = threading.Thread(target=write)
    thread.start()
    t0 = time.monotonic()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and thread.is_alive():  # wait until our write transaction runs
            # the write statement (it checks, then creates relationships); not this query itself
            rows = _cypher(
                watcher,
                "SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS 'CREATE (s)-[:REL {predicate' "
                "AND NOT currentQuery STARTS WITH 'SHOW' RETURN count(*) AS n",
            )
            if rows[0]["n"]:
                break
            time.sleep(0.05)
        assert thread.is_alive(), "the write finished before the server could be killed; make it larger"
        watcher.close()
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), signal.SIGKILL)
        t0 = time.monotonic()
        subprocess.run([restart], check=True, timeout=180, capture_output=True)
        outcome["restart_s"] = time.monotonic() - t0
    finally:
        thread.join(timeout=120)
        outcome["join_s"] = time.monotonic() - t0
    assert not thread.is_alive()
    assert "unexpected" not in outcome, outcome
    with open_store(require_server("neo4j")) as after:
        got = _cypher(after, "MATCH (s)-[r:REL {run_id: $run}]->(o) RETURN count(r) AS rels, count(DISTINCT [s, o]) AS pairs", run=run)[0]
        assert got["rels"] == got["pairs"], "duplicated relationships"
        assert got["rels"] in (0, n), f"partial write: {got['rels']} of {n}"
        if outcome.get("ok"):
            assert got["rels"] == n
        assert set(after.triples(graphs="domain")) == set(map(tuple, family_triples()))
        after.clear()
    store.close()
