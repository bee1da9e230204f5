"""Bounded, read-only SPARQL: timeouts, row caps, memory budgets and refused requests,
on the embedded store (memory and disk) and on the Oxigraph server."""

from __future__ import annotations

import time

import pytest

from nesykg.datasets import load_dataset
from nesykg.errors import QueryRefusedError, QueryTimeoutError, StoreError
from nesykg.kg import open_store
from nesykg.kg.io import import_file
from nesykg.kg.sparql_guard import check_read_query, query_form
from tests.conftest import sparql_store

CROSS4 = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
COUNT4 = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# 5216^2 = 27M rows: a few seconds of server work, so a cancelled run ends by itself soon
COUNT2 = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
SORT3 = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i ?f ?c"


@pytest.fixture(params=["oxigraph-memory", "oxigraph-disk"])
def umls(request, tmp_path):
    st = open_store() if request.param == "oxigraph-memory" else open_store(tmp_path / "db")
    import_file(st, load_dataset("umls").path / "train.tsv")
    yield st
    st.close()


def test_a_cross_product_is_cut_at_max_rows(umls):
    rows = umls.sparql(CROSS4, timeout=10, max_rows=7)
    assert len(rows) == 7 and rows.truncated
    rows = umls.sparql("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3", timeout=10, max_rows=7)
    assert len(rows) == 3 and not rows.truncated
    # no bound at all: the old in-process path, same answer
    assert umls.sparql("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3") == rows


def test_a_query_past_its_timeout_is_cancelled_and_the_store_still_answers(umls):
    t0 = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="timeout of 1 s"):
        umls.sparql(COUNT4, timeout=1)
    assert time.monotonic() - t0 < 5
    assert umls.count() == 5216
    assert umls.sparql("ASK { ?s ?p ?o }", timeout=5) is True


def test_a_query_over_its_memory_budget_is_stopped(umls):
    with pytest.raises(StoreError, match="memory budget of 64 MiB"):
        umls.sparql(SORT3, timeout=30, max_memory=64 << 20)
    assert umls.count() == 5216


def test_errors_inside_the_worker_keep_their_type_and_message(umls):
    from nesykg.errors import InputError

    with pytest.raises(InputError, match=r"SPARQL syntax error at 1:17"):
        umls.sparql("SELECT * WHERE {", timeout=5)


REFUSED = [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE is refused"),
    ("select * where { service silent <http://x/> { ?s ?p ?o } }", "SERVICE is refused"),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM <file:///etc/passwd> is refused"),
    ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM <http://example.org/g>"),
    ("SELECT * FROM graph:domain WHERE { ?s ?p ?o }", "FROM <urn:nesykg:graph:domain> is refused"),
    ("LOAD <file:///etc/passwd>", "LOAD is an update"),
    ("PREFIX x: <urn:x:> INSERT DATA { x:a x:b x:c }", "INSERT is an update"),
    ("DELETE WHERE { ?s ?p ?o }", "DELETE is an update"),
    ("CLEAR ALL", "CLEAR is an update"),
    ("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH is an update"),
]


@pytest.mark.parametrize("query,message", REFUSED)
def test_reaching_outside_the_store_or_writing_is_refused(umls, query, message):
    with pytest.raises(QueryRefusedError, match=message):
        umls.sparql(query)
    assert umls.count() == 5216


def test_from_may_name_the_stores_own_graphs_when_allowed(umls):
    q = "SELECT (COUNT(*) AS ?n) FROM graph:domain WHERE { ?s ?p ?o }"
    rows = umls.sparql(q, allow_from=True)
    assert int(rows[0]["n"].value) == 5216
    with pytest.raises(QueryRefusedError, match="only the store's own graphs"):
        umls.sparql("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", allow_from=True)


def test_keywords_inside_strings_iris_variables_and_comments_are_not_refused():
    check_read_query(
        "PREFIX ex: <http://example.org/load/> # SERVICE LOAD FROM\n"
        "SELECT ?service ?from WHERE { ?service ex:from ?from . FILTER(?from != \"SERVICE <x>\") "
        "FILTER(?from != '''LOAD\nFROM <file:///x>''') }"
    )
    assert query_form("PREFIX a: <urn:a:> BASE <urn:b> construct { ?s ?p ?o } WHERE { ?s ?p ?o }") == "CONSTRUCT"


@pytest.mark.sparql
def test_the_sparql_server_backend_has_the_same_bounds(tmp_path):
    st = sparql_store(tmp_path)
    try:
        import_file(st, load_dataset("umls").path / "train.tsv")
        rows = st.sparql(CROSS4, timeout=10, max_rows=5)
        assert len(rows) == 5 and rows.truncated
        triples = st.sparql("CONSTRUCT WHERE { ?s ?p ?o }", timeout=10, max_rows=4)
        assert len(triples) == 4 and triples.truncated and len(triples[0]) == 3
        t0 = time.monotonic()
        with pytest.raises(QueryTimeoutError):
            st.sparql(COUNT2, timeout=0.5)
        assert time.monotonic() - t0 < 5
        for query, message in REFUSED:
            with pytest.raises(QueryRefusedError, match=message):
                st.sparql(query)
        assert st.count() == 5216
    finally:
        st.close()
