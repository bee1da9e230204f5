"""The journaled parallel bulk load of the on-disk embedded store: same data as a
transactional load, all-or-nothing on a parse error, and rolled back after a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest

from nesykg.errors import ParseError
from nesykg.kg import open_store
from nesykg.kg.backends.oxigraph import OxigraphStore
from nesykg.kg.backends.oxigraph_bulk import split_lines
from nesykg.kg.io import import_file
from nesykg.kg.terms import PROVENANCE_GRAPH, graph_iri
from tests.conftest import generate_triples, write_tsv

ROOT = Path(__file__).resolve().parents[2]


def journal(store: OxigraphStore) -> list:
    return list(store.raw.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri(PROVENANCE_GRAPH))))


def everything(store) -> dict[str, set]:
    return {g: set(store.triples(graphs=g)) for g in store.graphs()}


@pytest.mark.parametrize("data", ["a\nbb\nccc\ndddd\n", b"a\nbb\nccc\ndddd", "one line\n", ""])
@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_split_lines_keeps_every_line_and_its_number(data, parts):
    pieces = split_lines(data, parts, "f.nt")
    assert type(data)().join(p.data for p in pieces) == data
    assert len(pieces) <= parts
    for p in pieces:
        assert p.source == "f.nt"
        assert p.data.endswith("\n" if isinstance(data, str) else b"\n") or p is pieces[-1]
        before = data[: data.find(p.data)] if p.data else data
        assert p.first_line == 1 + before.count("\n" if isinstance(data, str) else b"\n")


@pytest.mark.parametrize("fmt", ["tsv", "nt"])
@pytest.mark.parametrize("workers", [1, 3])
def test_bulk_load_holds_the_same_triples_as_a_transactional_load(tmp_path, fmt, workers):
    triples = generate_triples(num_entities=60, num_relations=5, num_triples=500, seed=3)
    src = write_tsv(tmp_path / "g.tsv", triples)
    if fmt == "nt":
        with open_store() as mem:
            import_file(mem, src, namespace="urn:ex:")
            nt = tmp_path / "g.nt"
            nt.write_text("".join(f"<{s}> <{p}> <{o}> .\n" for s, p, o in mem.triples()), encoding="utf-8")
            src = nt
    with open_store() as reference:
        import_file(reference, src, namespace="urn:ex:")
        expected = everything(reference)
    with OxigraphStore(tmp_path / "db", bulk_min=10, bulk_workers=workers) as store:
        written: list[int] = []

        def progress(stage, done, total):  # cumulative per stage; keep the writes' increments
            if stage == "writing":
                written.append(done - sum(written))

        result = import_file(store, src, namespace="urn:ex:", progress=progress)
        assert result.triples == 500
        # progress: one report per loaded piece (one piece per worker here), each its
        # share of the triples by bytes
        assert len(written) == workers and abs(sum(written) - 500) <= workers and min(written) > 0
        assert everything(store) == expected
        assert journal(store) == []  # the journal record is gone once the load is complete
        assert store.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value == "500"
    with open_store(tmp_path / "db") as reopened:
        assert everything(reopened) == expected


def test_parse_error_in_a_later_piece_names_the_line_and_writes_nothing(tmp_path):
    lines = [f"<urn:ex:e{i}> <urn:ex:r> <urn:ex:e{i + 1}> ." for i in range(60)]
    lines[47] = "<urn:ex:bad> <urn:ex:r> <urn:ex:a b> ."
    bad = tmp_path / "bad.nt"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with OxigraphStore(tmp_path / "db", bulk_min=10, bulk_workers=4) as store:
        store.add(("urn:ex:x", "urn:ex:r", "urn:ex:y"), graph="expert")
        before = everything(store)
        with pytest.raises(ParseError, match=r"bad\.nt:48:\d+: .*Invalid IRI code point ' '"):
            import_file(store, bad)
        assert everything(store) == before
        assert store.count(graphs="domain") == 0
        assert journal(store) == []


def test_non_empty_graph_takes_the_transactional_path_and_stays_whole(tmp_path):
    with OxigraphStore(tmp_path / "db", bulk_min=10, bulk_workers=2) as store:
        store.add(("urn:ex:x", "urn:ex:r", "urn:ex:y"))
        lines = [f"<urn:ex:e{i}> <urn:ex:r> <urn:ex:e{i + 1}> ." for i in range(30)] + ["<urn:ex:a> <urn:ex:r> ."]
        bad = tmp_path / "bad.nt"
        bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(ParseError, match=r"bad\.nt:31:"):
            import_file(store, bad)
        assert set(store.triples()) == {("urn:ex:x", "urn:ex:r", "urn:ex:y")}


CRASHING_IMPORT = """
import os, sys
from pathlib import Path
from nesykg.kg.backends import oxigraph_bulk
from nesykg.kg.backends.oxigraph import OxigraphStore
from nesykg.kg.io import import_file

real = oxigraph_bulk.parallel_bulk_load

class DieAfterFirstPiece(list):
    # the loader reads the list once for the journal, then once to load: dying when it
    # asks for the second piece kills the process with the first piece already written
    reads = 0
    def __iter__(self):
        type(self).reads += 1
        for i, piece in enumerate(list.__iter__(self)):
            if type(self).reads == 2 and i == 1:
                print("dying", flush=True)
                os._exit(9)
            yield piece

def load(store, pieces, *args, **kwargs):
    (whole,) = pieces
    return real(store, DieAfterFirstPiece(oxigraph_bulk.split_lines(whole.data, 4, whole.source)), *args, **kwargs)

import nesykg.kg.backends.oxigraph as backend
backend.parallel_bulk_load = load
store = OxigraphStore(sys.argv[1], bulk_min=10, bulk_workers=1)
import_file(store, sys.argv[2], namespace="urn:ex:")
print("finished", flush=True)
"""


def test_a_crash_during_a_bulk_load_is_rolled_back_on_the_next_open(tmp_path):
    triples = generate_triples(num_entities=60, num_relations=5, num_triples=400, seed=5)
    src = write_tsv(tmp_path / "g.tsv", triples)
    db = tmp_path / "db"
    with open_store(db) as store:
        store.add(("urn:ex:kept", "urn:ex:r", "urn:ex:too"), graph="expert")
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent(CRASHING_IMPORT), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), str(db), str(src)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 9, proc.stderr
    assert "dying" in proc.stdout and "finished" not in proc.stdout
    # what the dead process left: part of the graph and the journal record
    raw = ox.Store(str(db))
    partial = sum(1 for _ in raw.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri("domain"))))
    assert 0 < partial < 400
    del raw
    with pytest.warns(RuntimeWarning, match=r"bulk import into graph\(s\) domain from .*g\.tsv was interrupted"):
        store = open_store(db)
    with store:
        assert store.count(graphs="domain") == 0
        assert set(store.triples(graphs="expert")) == {("urn:ex:kept", "urn:ex:r", "urn:ex:too")}
        assert journal(store) == []
        assert import_file(store, src, namespace="urn:ex:").triples == 400
        assert store.count(graphs="domain") == 400
