"""The command line as a user drives it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nesykg.cli import main
from nesykg.datasets import load_dataset
from tests.conftest import write_tsv


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def umls_store(tmp_path, capsys):
    store = str(tmp_path / "kg")
    ds = load_dataset("umls")
    code, out, _ = run(capsys, "kg", "load", str(ds.path / "train.tsv"), "--store", store, "--json")
    assert code == 0, out
    info = json.loads(out)
    assert (info["triples_read"], info["graph"], info["graph_size"]) == (5216, "domain", 5216)
    return store


def test_stats_json(umls_store, capsys):
    code, out, _ = run(capsys, "kg", "stats", "--store", umls_store, "--json")
    stats = json.loads(out)
    assert code == 0
    assert stats["triples"] == {"domain": 5216} and stats["entities"] == 135 and stats["relations"] == 46


def test_stats_table(umls_store, capsys):
    code, out, _ = run(capsys, "kg", "stats", "--store", umls_store)
    assert code == 0 and "5,216" in out and "entities: 135" in out


def test_sparql_json_and_table(umls_store, capsys):
    q = "PREFIX u: <urn:nesykg:ds:umls:> SELECT ?x WHERE { ?x u:isa u:organism } ORDER BY ?x LIMIT 3"
    code, out, _ = run(capsys, "kg", "sparql", q, "--store", umls_store, "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3 and all(r["x"].startswith("urn:nesykg:ds:umls:") for r in rows)
    code, out, _ = run(capsys, "kg", "sparql", q, "--store", umls_store)
    assert code == 0 and "3 result(s)" in out
    code, out, _ = run(capsys, "kg", "sparql", "ASK { ?s ?p ?o }", "--store", umls_store)
    assert out.strip() == "yes"


def test_sparql_update_refused(umls_store, capsys):
    code, _, err = run(capsys, "kg", "sparql", "DELETE WHERE { ?s ?p ?o }", "--store", umls_store)
    assert code == 2 and "error: DELETE is an update" in err
    code, out, _ = run(capsys, "kg", "stats", "--store", umls_store, "--json")
    assert json.loads(out)["total"] == 5216


def test_export_tsv_round_trips_names(umls_store, tmp_path, capsys):
    out_file = tmp_path / "out.tsv"
    code, _, err = run(capsys, "kg", "export", "--store", umls_store, "--format", "tsv", "--out", str(out_file))
    assert code == 0 and "exported 5216 triples" in err
    src = (load_dataset("umls").path / "train.tsv").read_text().splitlines()
    assert sorted(out_file.read_text().splitlines()) == sorted(set(src))


def test_load_into_inferred_then_runs_and_undo(umls_store, tmp_path, capsys):
    f = write_tsv(tmp_path / "new.tsv", [("virus", "causes", "disease_or_syndrome")])
    code, out, _ = run(capsys, "kg", "load", str(f), "--graph", "inferred", "--namespace", "umls", "--store", umls_store, "--json")
    run_id = json.loads(out)["run_id"]
    assert code == 0 and run_id.startswith("import-")
    code, out, _ = run(capsys, "kg", "runs", "--store", umls_store, "--json")
    assert [(r["run_id"], r["triples"], r["method"]) for r in json.loads(out)] == [(run_id, 1, "import")]
    code, out, _ = run(capsys, "kg", "undo", run_id, "--store", umls_store, "--json")
    assert json.loads(out) == {"run_id": run_id, "removed": 1}
    code, out, _ = run(capsys, "kg", "stats", "--store", umls_store, "--json")
    assert json.loads(out)["triples"] == {"domain": 5216}


def test_bad_file_is_one_line_error_and_store_unchanged(umls_store, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tr\tb\nc\td\n")
    code, out, err = run(capsys, "kg", "load", str(bad), "--store", umls_store)
    assert code == 2
    assert err.strip() == f"error: {bad}:2: expected 3 tab-separated columns (head, relation, tail), found 2"
    code, out, _ = run(capsys, "kg", "stats", "--store", umls_store, "--json")
    assert json.loads(out)["total"] == 5216


def test_reading_a_missing_store_does_not_create_one(tmp_path, capsys):
    code, _, err = run(capsys, "kg", "stats", "--store", str(tmp_path / "nope"))
    assert code == 2 and "no store at" in err and "nesykg kg load" in err
    assert not (tmp_path / "nope").exists()


def test_undo_unknown_run(umls_store, capsys):
    code, _, err = run(capsys, "kg", "undo", "run-x", "--store", umls_store)
    assert code == 2 and "unknown run 'run-x'" in err


def test_datasets_list_json(capsys):
    code, out, _ = run(capsys, "datasets", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and rows["umls"]["train"] == 5216 and set(rows) >= {"countries_s1", "kinship", "nations"}


def test_console_script_help_and_demo(tmp_path):
    exe = Path(sys.executable).with_name("nesykg")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    assert "kg" in out and "datasets" in out and "demo" in out
    out = subprocess.run([str(exe), "kg", "load", "--help"], capture_output=True, text=True, check=True).stdout
    assert "all or nothing" in out and "--graph" in out
    # help text is shown as written: Cypher's [r:REL] is not taken for markup, and the two
    # examples stay on lines of their own
    env = dict(os.environ, COLUMNS="200")
    out = subprocess.run([str(exe), "kg", "cypher", "--help"], capture_output=True, text=True, check=True, env=env).stdout
    assert "MATCH (s:Resource)-[r:REL]->(o) RETURN" in out
    out = subprocess.run([str(exe), "kg", "load", "--help"], capture_output=True, text=True, check=True, env=env).stdout
    assert [line.strip(" │") for line in out.splitlines() if "Example:" in line] == [
        "Example: nesykg kg load umls/train.tsv --graph domain --store kg.db",
        "Example: nesykg kg load wikidata5m.tsv --store neo4j://localhost:7687 --batch 100000",
    ]
    demo = subprocess.run([str(exe), "demo", "--store", str(tmp_path / "demo")], capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr
    assert "answers: austria, belgium, france, luxembourg, netherlands, switzerland" in demo.stdout
    # the complex query needs a fact the store lacks, and the agent writes back, explains and undoes
    out = " ".join(demo.stdout.split())
    assert "(NOT in the store: predicted by ComplEx)" in out
    assert "what is the locatedin of [san_marino] ? -> europe" in out
    assert "method agent:symbolic:rules" in out and "removed 1 triple(s)" in out


def test_an_interrupted_bulk_import_is_reported_when_the_store_opens(umls_store, capsys):
    # what a process killed during a bulk import leaves: the graph's data and the journal
    # record (the kill itself is exercised in tests/kg/test_oxigraph_bulk.py)
    import pyoxigraph as ox

    from nesykg.kg.backends.oxigraph_bulk import _journal_quads

    raw = ox.Store(umls_store)
    raw.extend(_journal_quads("deadbeef", ["domain"], ["train.tsv"]))
    raw.flush()
    del raw
    code, out, err = run(capsys, "kg", "stats", "--store", umls_store, "--json")
    assert code == 0
    assert "warning:" in err and "bulk import into graph(s) domain from train.tsv was interrupted" in err
    assert json.loads(out)["triples"] == {}
    code, out, err = run(capsys, "kg", "stats", "--store", umls_store, "--json")
    assert "warning" not in err  # rolled back once, for good
