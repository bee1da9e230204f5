"""The SPARQL endpoint backend against a real Oxigraph server.

The store contract itself runs over the ``sparql`` param of tests/kg/test_store_contract.py.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone

import pytest

from nesykg.errors import InputError, StoreError, StoreUnavailableError
from nesykg.kg import Literal, Provenance, Triple, open_store
from nesykg.kg.backends.sparql import SparqlStore, derive_update_url
from tests.conftest import ex, family_triples, require_server, sparql_store

pytestmark = pytest.mark.sparql

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def store():
    st = sparql_store()
    yield st
    st.clear()
    st.close()


def _quads(st) -> set:
    rows = st.sparql("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", graphs=["domain"])
    # the query's GRAPH ?g ranges over the named graphs, whatever the default graph is
    return {(r["g"], r["s"], r["p"], r["o"]) for r in rows}


def test_url_derivation_and_routing():
    assert derive_update_url("http://h:7878/query") == "http://h:7878/update"
    assert derive_update_url("https://h/ds/sparql") == "https://h/ds/sparql"
    url = require_server("sparql")
    with open_store(url) as st:  # update URL derived from /query
        assert isinstance(st, SparqlStore) and st.update_url == os.environ.get("NESYKG_SPARQL_UPDATE", st.update_url)


def test_same_layout_as_embedded_oxigraph(store):
    """Same writes into the endpoint and the embedded store give the same quads,
    provenance reifiers included, so data moves between them unchanged."""
    embedded = open_store()
    for st in (store, embedded):
        st.add_many(family_triples())
        st.add((ex("bart"), ex("name"), Literal("Bart", language="en")), graph="expert")
        st.add_inferred(
            [((ex("abe"), ex("gp"), ex("bart")), Provenance(0.75, "rule", "gp(X,Y) <= p(X,Z), p(Z,Y)", "run-1", T0))]
        )
    assert _quads(store) == _quads(embedded)
    q = "SELECT ?c ?run WHERE { GRAPH graph:provenance { << ?s ?p ?o >> nk:confidence ?c ; nk:run ?run } }"
    assert store.sparql(q) == embedded.sparql(q)
    assert store.sparql(q)[0]["c"] == Literal("0.75", "http://www.w3.org/2001/XMLSchema#double")
    assert store.provenance((ex("abe"), ex("gp"), ex("bart"))) == embedded.provenance((ex("abe"), ex("gp"), ex("bart")))


def test_hostile_text_is_data(store):
    nasty = Literal('x" } ; DROP ALL ; INSERT DATA { <urn:a> <urn:b> "pwned" } #\n\\')
    store.add((ex("a"), ex("note"), nasty))
    store.add((ex("a"), ex("weird%20iri?q=1#frag"), ex("b")))
    assert set(store.triples((ex("a"), None, None))) == {
        Triple(ex("a"), ex("note"), nasty),
        Triple(ex("a"), ex("weird%20iri?q=1#frag"), ex("b")),
    }
    assert (ex("a"), ex("note"), nasty) in store
    assert store.count((None, None, nasty)) == 1
    assert len(store) == 2


def test_sparql_reads_with_graph_selection(store):
    store.add_many(family_triples()[:2])
    store.add(family_triples()[2], graph="expert")
    assert len(store.sparql("SELECT * WHERE { ?s ?p ?o }", graphs="domain")) == 2
    assert len(store.sparql("SELECT * WHERE { ?s ?p ?o }")) == 3
    assert store.sparql(f"ASK {{ <{ex('abe')}> ?p ?o }}") is True
    with pytest.raises(InputError):
        store.sparql("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # the query endpoint refuses updates
    assert len(store) == 3


def test_failed_update_leaves_store_unchanged(store):
    store.add_many(family_triples()[:2])
    broken = SparqlStore(store.location, update_url=store.location)  # a query URL cannot update
    with pytest.raises(StoreError):
        broken.add_many(family_triples()[2:])
    assert len(store) == 2


def test_endpoint_down_names_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/query"
    with pytest.raises(StoreUnavailableError, match=f"cannot reach the SPARQL endpoint {url}"):
        open_store(url)


def test_large_change_set_is_one_request(store):
    triples = [(ex(f"n{i}"), ex("next"), ex(f"n{i + 1}")) for i in range(5000)]
    records = [((ex(f"n{i}"), ex("reach"), ex(f"n{i + 2}")), Provenance(0.5, "rule", "chain", "run-big", T0)) for i in range(2000)]
    with store.transaction():
        store.add_many(triples)
        store.add_inferred(records)
    assert store.count(graphs="domain") == 5000
    assert store.count(graphs="inferred") == 2000
    assert store.undo("run-big") == 2000
    assert store.count(graphs="inferred") == 0
