"""SPARQL on the embedded store, and the same data through rdflib."""

from __future__ import annotations

import pytest
import rdflib

from nesykg.errors import InputError
from nesykg.kg import Literal, Provenance, open_store
from tests.conftest import ex, family_triples


@pytest.fixture
def ox_store(tmp_path):
    st = open_store(tmp_path / "db")
    st.add_many(family_triples())
    st.add((ex("homer"), ex("parent"), ex("maggie")), graph="expert")
    yield st
    st.close()


def test_select_over_graph_union(ox_store):
    q = f"SELECT ?c WHERE {{ <{ex('homer')}> <{ex('parent')}> ?c }} ORDER BY ?c"
    assert [r["c"] for r in ox_store.sparql(q)] == [ex("bart"), ex("lisa"), ex("maggie")]
    assert [r["c"] for r in ox_store.sparql(q, graphs="domain")] == [ex("bart"), ex("lisa")]
    assert ox_store.sparql(f"ASK {{ <{ex('abe')}> ?p ?o }}") is True
    triples = ox_store.sparql(f"CONSTRUCT {{ ?c <{ex('child')}> ?p }} WHERE {{ ?p <{ex('parent')}> ?c }}", graphs="expert")
    assert triples == [(ex("maggie"), ex("child"), ex("homer"))]


def test_updates_are_refused(ox_store):
    before = set(ox_store.triples())
    with pytest.raises(InputError, match="INSERT is an update"):
        ox_store.sparql(f"INSERT DATA {{ <{ex('a')}> <{ex('b')}> <{ex('c')}> }}")
    with pytest.raises(InputError, match="DROP is an update"):
        ox_store.sparql("DROP ALL")
    assert set(ox_store.triples()) == before


def test_provenance_readable_with_sparql_triple_terms(ox_store):
    ox_store.add_inferred([((ex("abe"), ex("grandparent"), ex("bart")), Provenance(0.75, "rule", "gp rule", "run-7"))])
    rows = ox_store.sparql(
        f"SELECT ?c ?run WHERE {{ GRAPH graph:provenance {{ << <{ex('abe')}> <{ex('grandparent')}> <{ex('bart')}> >> nk:confidence ?c ; nk:run ?run }} }}"
    )
    assert rows == [{"c": Literal("0.75", "http://www.w3.org/2001/XMLSchema#double"), "run": Literal("run-7")}]
    # provenance records stay out of ordinary reads
    assert all("prov" not in t.subject for t in ox_store.triples())


def test_rdflib_view_reads_the_same_data(ox_store):
    g = ox_store.rdflib_graph("domain")
    assert len(g) == 6
    assert set(g.objects(rdflib.URIRef(ex("homer")), rdflib.URIRef(ex("parent")))) == {
        rdflib.URIRef(ex("bart")),
        rdflib.URIRef(ex("lisa")),
    }
    res = list(g.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{ex('parent')}> ?o }}"))
    assert int(res[0][0]) == 5
    ds = ox_store.rdflib_dataset()
    assert {str(c.identifier) for c in ds.graphs()} >= {"urn:nesykg:graph:domain", "urn:nesykg:graph:expert"}


def test_on_disk_store_persists(tmp_path):
    path = tmp_path / "kg"
    with open_store(path) as st:
        st.add_many(family_triples())
        st.add_inferred([((ex("abe"), ex("grandparent"), ex("bart")), Provenance(0.9, "rule", "r", "run-1"))])
    with open_store(path) as st:
        assert len(st) == 7
        assert st.provenance((ex("abe"), ex("grandparent"), ex("bart")))[0].confidence == 0.9


def test_kg_open_names_the_embedded_backend(tmp_path):
    from nesykg import kg

    with kg.open() as mem, kg.open(tmp_path / "disk") as disk:
        assert (mem.name, mem.location) == ("oxigraph", "memory")
        assert (disk.name, disk.location) == ("oxigraph", str(tmp_path / "disk"))
        assert kg.Capability.PERSISTENCE in disk.capabilities
    assert set(kg.store_names()) >= {"oxigraph", "memory"}
