"""`nesykg kg copy` between every kind of store, and `nesykg kg cypher`, on real servers."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from nesykg.cli import main
from nesykg.kg import Literal, Provenance, open_store
from tests.conftest import ex, family_triples, neo4j_store, require_server, sparql_store

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def _content(st):
    graphs = {g: set(st.triples(graphs=g)) for g in st.graphs()}
    prov = sorted((tuple(map(str, t)), p.run_id, p.confidence, p.method, p.evidence, p.time) for t, p in st._provenance_records())
    return graphs, prov


def _fill(st):
    st.add_many(family_triples())
    st.add((ex("bart"), ex("name"), Literal("Bart", language="en")), graph="expert")
    st.add_inferred(
        [
            ((ex("abe"), ex("gp"), ex("bart")), Provenance(0.9, "rule", "gp rule", "run-a", T0)),
            ((ex("abe"), ex("gp"), ex("bart")), Provenance(0.4, "agent", "doc 7", "run-b", T0)),
            ((ex("abe"), ex("gp"), ex("lisa")), Provenance(0.9, "rule", "gp rule", "run-a", T0)),
        ]
    )


@pytest.mark.neo4j
@pytest.mark.sparql
def test_copy_round_trip_embedded_neo4j_sparql_embedded(tmp_path, capsys):
    src_path = tmp_path / "src"
    with open_store(src_path) as src:
        _fill(src)
        expected = _content(src)
    neo, sparql = neo4j_store(), sparql_store()  # fresh, empty
    neo_uri, sparql_url = neo.location, sparql.location
    try:
        assert main(["kg", "copy", str(src_path), neo_uri, "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["graphs"] == {"domain": 6, "expert": 1, "inferred": 3}
        assert _content(neo) == expected
        assert main(["kg", "copy", neo_uri, sparql_url]) == 0
        assert "copied 10 triples" in capsys.readouterr().out
        assert _content(sparql) == expected
        out_path = tmp_path / "back"
        assert main(["kg", "copy", sparql_url, str(out_path), "--graph", "domain", "--graph", "inferred"]) == 0
        with open_store(out_path) as back:
            graphs, prov = _content(back)
            assert graphs == {g: ts for g, ts in expected[0].items() if g != "expert"}
            assert prov == expected[1]
            assert back.undo("run-a") == 1  # abe gp lisa; abe gp bart stays with run-b
        # copying again adds nothing
        assert main(["kg", "copy", str(src_path), neo_uri]) == 0
        assert _content(neo) == expected
    finally:
        neo.clear()
        neo.close()
        sparql.clear()
        sparql.close()


@pytest.mark.neo4j
def test_cypher_command(capsys):
    st = neo4j_store()
    try:
        st.add_many(family_triples())
        uri = st.location
        code = main(["kg", "cypher", "MATCH (s:Resource {iri: $s})-[r:REL]->(o) RETURN o.iri AS o ORDER BY o",
                     "--store", uri, "--param", f"s={ex('homer')}", "--json"])
        assert code == 0
        out = json.loads(capsys.readouterr().out)
        assert out == {"columns": ["o"], "rows": [{"o": ex("bart")}, {"o": ex("lisa")}], "truncated": False}
        assert main(["kg", "cypher", "MATCH (n) DETACH DELETE n", "--store", uri]) == 2
        assert "refused" in capsys.readouterr().err
        assert len(st) == 6
        assert main(["kg", "cypher", "RETURN 1", "--store", "memory:"]) == 2
        assert "does not support Cypher" in capsys.readouterr().err
        assert main(["kg", "stats", "--store", uri, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["triples"] == {"domain": 6}
    finally:
        st.clear()
        st.close()


def test_store_errors_are_one_line(capsys):
    assert main(["kg", "stats", "--store", "bolt://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach Neo4j at bolt://127.0.0.1:1" in err and "Traceback" not in err
    assert main(["kg", "stats", "--store", "http://127.0.0.1:1/query"]) == 2
    assert "cannot reach the SPARQL endpoint http://127.0.0.1:1/query" in capsys.readouterr().err


@pytest.mark.neo4j
def test_wrong_password_cli(capsys):
    uri = require_server("neo4j")
    scheme, rest = uri.split("://", 1)
    assert main(["kg", "stats", "--store", f"{scheme}://neo4j:wrong@{rest}"]) == 2
    err = capsys.readouterr().err
    assert "refused user 'neo4j'" in err and "wrong" not in err.split("refused")[0]


@pytest.mark.neo4j
def test_load_and_copy_in_batches(tmp_path, capsys):
    """--batch writes a load or a copy in several transactions, with the same result."""
    from tests.conftest import generate_triples, write_tsv

    (tmp_path / "kin").mkdir()
    tsv = write_tsv(tmp_path / "kin" / "train.tsv", generate_triples(num_entities=60, num_triples=500))
    neo = neo4j_store()
    try:
        assert main(["kg", "load", str(tsv), "--store", neo.location, "--batch", "120", "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert (info["triples_read"], info["graph_size"]) == (500, 500)
        out_path = tmp_path / "copy"
        assert main(["kg", "copy", neo.location, str(out_path), "--batch", "64", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["graphs"] == {"domain": 500}
        from nesykg.kg.io import import_files

        with open_store(out_path) as back, open_store("memory:") as ref:
            import_files(ref, [tsv])  # the same file loaded in one transaction
            assert set(back.triples()) == set(neo.triples()) == set(ref.triples())
        assert main(["kg", "load", str(tsv), "--store", neo.location, "--batch", "0"]) == 2
        assert "--batch" in capsys.readouterr().err
    finally:
        neo.clear()
        neo.close()
