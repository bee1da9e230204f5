"""The read-only Cypher tool refuses every write and bounds what it runs (real Neo4j)."""

from __future__ import annotations

import time

import pytest

from nesykg.errors import InputError, QueryRefusedError, QueryTimeoutError
from nesykg.kg.backends.neo4j.cypher import run_readonly_cypher
from tests.conftest import family_triples, neo4j_store

pytestmark = pytest.mark.neo4j


@pytest.fixture
def store():
    st = neo4j_store()
    st.add_many(family_triples())
    yield st
    st.clear()
    st.close()


def _fingerprint(store):
    rows = run_readonly_cypher(store, "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) AS n, count(r) AS r")
    return rows.rows[0]


def test_reads_with_parameters_and_limit(store):
    res = run_readonly_cypher(
        store,
        "MATCH (s:Resource {iri: $s})-[r:REL]->(o) RETURN o.iri AS child ORDER BY child",
        {"s": "http://example.org/homer"},
    )
    assert res.columns == ["child"]
    assert [r["child"] for r in res.rows] == ["http://example.org/bart", "http://example.org/lisa"]
    assert not res.truncated
    res = run_readonly_cypher(store, "MATCH (n:Resource) RETURN n", limit=2)
    assert len(res.rows) == 2 and res.truncated
    assert res.rows[0]["n"]["labels"] == ["Resource"]
    # a parameter is data, never code
    res = run_readonly_cypher(store, "RETURN $x AS x", {"x": "x}) DETACH DELETE n //"})
    assert res.rows == [{"x": "x}) DETACH DELETE n //"}]


@pytest.mark.parametrize(
    "query",
    [
        "CREATE (:Evil {x: 1})",
        "MATCH (n:Resource) SET n.evil = true RETURN n",
        "MERGE (n:Evil {x: 1}) RETURN n",
        "MATCH (n) DETACH DELETE n",
        "MATCH ()-[r:REL]->() DELETE r",
        "CALL dbms.components() YIELD name RETURN name",
        "CREATE INDEX evil IF NOT EXISTS FOR (n:Evil) ON (n.x)",
        "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
        "SHOW USERS",
        "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS",
    ],
)
def test_writes_and_outside_access_refused(store, query):
    before = _fingerprint(store)
    with pytest.raises(QueryRefusedError, match="refused"):
        run_readonly_cypher(store, query)
    assert _fingerprint(store) == before
    assert len(store) == 6


def test_slow_query_times_out(store):
    t0 = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="timed out"):
        run_readonly_cypher(
            store, "UNWIND range(1, 1000000000) AS x WITH x WHERE x < 0 RETURN count(x) AS n", timeout_s=1.0
        )
    assert time.monotonic() - t0 < 15


def test_bad_input(store):
    with pytest.raises(InputError, match="syntax"):
        run_readonly_cypher(store, "MATCH (n RETURN n")
    with pytest.raises(InputError, match="empty"):
        run_readonly_cypher(store, "  ")
    with pytest.raises(InputError, match="limit"):
        run_readonly_cypher(store, "RETURN 1", limit=0)


def test_store_cypher_method_and_driver(store):
    assert store.cypher("MATCH (n:Resource) RETURN count(n) AS n").rows == [{"n": 6}]
    assert run_readonly_cypher(store.driver, "RETURN 1 AS one").rows == [{"one": 1}]


def test_other_backends_say_no_cypher():
    from nesykg.errors import UnsupportedCapabilityError
    from nesykg.kg import open_store

    with pytest.raises(UnsupportedCapabilityError, match="Cypher"):
        run_readonly_cypher(open_store(), "RETURN 1")


def test_out_of_transaction_memory_fails_at_once_without_retries(store, caplog):
    # Neo4j 5 reports this as a *transient* error, which the driver would retry for its
    # whole retry time; retrying a transaction that is too large cannot help
    from nesykg.errors import StoreError

    before = _fingerprint(store)
    with caplog.at_level("WARNING", logger="neo4j"):
        with pytest.raises(StoreError, match=r"needs more memory than the server allows \(dbms\.memory\.transaction"):
            run_readonly_cypher(store, "UNWIND range(1, 30000000) AS i WITH collect(i) AS xs RETURN size(xs) AS n")
    assert not [r for r in caplog.records if "will be retried" in r.getMessage()]
    assert _fingerprint(store) == before  # and the server is still there
