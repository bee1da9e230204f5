"""Import and export in every format, into chosen graphs, all-or-nothing."""

from __future__ import annotations

import io as stdio

import pytest

from nesykg.kg import Literal, Triple, open_store
from nesykg.kg.io import FORMATS, export, import_file, import_files, read_triples
from nesykg.kg.terms import dataset_namespace, mint
from tests.conftest import ex, family_triples, generate_triples, write_tsv

RDF_FORMATS = [f for f, (_, spec) in FORMATS.items() if spec is not None and f != "n3"]
EXT = {"turtle": "ttl", "ntriples": "nt", "nquads": "nq", "trig": "trig", "rdfxml": "rdf", "jsonld": "jsonld", "tsv": "tsv", "csv": "csv"}


def test_tsv_mints_one_namespace_per_dataset(tmp_path, store):
    folder = tmp_path / "tiny"
    folder.mkdir()
    path = write_tsv(folder / "train.tsv", [("alice", "knows", "bob"), ("bob", "knows", "carol d'arc")])
    res = import_file(store, path)
    assert res.triples == 2 and res.graph == "domain" and res.run_id is None
    ns = dataset_namespace("tiny")
    assert ns == "urn:nesykg:ds:tiny:"
    assert set(store.triples()) == {
        Triple(ns + "alice", ns + "knows", ns + "bob"),
        Triple(ns + "bob", ns + "knows", mint(ns, "carol d'arc")),
    }
    assert mint(ns, "carol d'arc") == ns + "carol%20d'arc"


def test_tsv_angle_brackets_are_full_iris(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("<http://example.org/a>\tknows\t<http://example.org/b>\n# a comment\n\n")
    ns = dataset_namespace("x")
    assert read_triples(path) == [Triple("http://example.org/a", ns + "knows", "http://example.org/b")]


@pytest.mark.parametrize("fmt", RDF_FORMATS + ["tsv", "csv"])
def test_export_import_round_trip(tmp_path, fmt):
    src = open_store()
    names = generate_triples(num_entities=20, num_relations=4, num_triples=60, seed=1)
    import_file(src, write_tsv(tmp_path / "g.tsv", names + [("odd name", "rel/with:chars", "ünïcode")]))
    if fmt not in ("tsv", "csv"):
        src.add((ex("bart"), ex("name"), Literal("Bart \"B\"", language="en")), graph="domain")
    out = tmp_path / f"out.{EXT[fmt]}"
    n = export(src, out, fmt)
    assert n == len(src)
    dst = open_store()
    import_file(dst, out, graph="expert", namespace=dataset_namespace("g"))
    assert set(dst.triples(graphs="expert")) == set(src.triples())


def test_tsv_export_writes_back_the_loaded_names(tmp_path):
    names = [("a b", "r", "c"), ("c", "r", "d\u00e9")]
    st = open_store()
    import_file(st, write_tsv(tmp_path / "k.tsv", names))
    buf = stdio.BytesIO()
    export(st, buf, "tsv")
    assert sorted(buf.getvalue().decode().splitlines()) == sorted("\t".join(t) for t in names)


def test_quad_formats_keep_graphs_on_export(tmp_path):
    st = open_store()
    st.add_many(family_triples()[:2], graph="domain")
    st.add(family_triples()[2], graph="expert")
    buf = stdio.BytesIO()
    export(st, buf, "nquads")
    text = buf.getvalue().decode()
    assert text.count("<urn:nesykg:graph:domain>") == 2 and text.count("<urn:nesykg:graph:expert>") == 1


def test_rdf_quads_go_into_the_chosen_graph_and_blank_nodes_are_skolemised(tmp_path, store):
    path = tmp_path / "d.trig"
    path.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "ex:g1 { ex:a ex:p _:b . _:b ex:q ex:c . }\n"
        "ex:d ex:p ex:e .\n"
    )
    import_file(store, path, graph="expert")
    triples = set(store.triples(graphs="expert"))
    assert len(triples) == 3
    [bnode] = {t.object for t in triples if t.subject == ex("a")}
    assert bnode.startswith("urn:nesykg:genid:")
    assert Triple(bnode, ex("q"), ex("c")) in triples


def test_import_into_inferred_records_an_undoable_run(tmp_path, store):
    store.add_many(family_triples())
    before = set(store.triples())
    path = write_tsv(tmp_path / "inf.tsv", [("<http://example.org/abe>", "<http://example.org/grandparent>", "<http://example.org/bart>")])
    res = import_file(store, path, graph="inferred")
    assert res.run_id and res.run_id.startswith("import-")
    [prov] = store.provenance((ex("abe"), ex("grandparent"), ex("bart")))
    assert (prov.method, prov.confidence, prov.evidence) == ("import", 1.0, "imported from inf.tsv")
    store.undo(res.run_id)
    assert set(store.triples()) == before


def test_multi_file_import_is_all_or_nothing(tmp_path, store):
    good = write_tsv(tmp_path / "good.tsv", [("a", "r", "b")] * 3)
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tr\tb\nc\tr\n")
    with pytest.raises(Exception, match="bad.tsv:2"):
        import_files(store, [good, bad])
    assert len(store) == 0
    res = import_files(store, [good, good])
    assert res.triples == 6 and len(store) == 1


def test_bulk_tsv_path_equals_validating_parser(tmp_path, store):
    """The fast TSV loader and the validating parser read the same triples."""
    from nesykg.kg.io import read_block

    path = tmp_path / "mixed.tsv"
    path.write_bytes(
        b"# header comment\r\n"
        b"a\tr\tb\r\n"
        b"\r\n"
        b" spaced name \tr\t<http://example.org/x>\r\n"
        b"a\tr\tb c\r\n"
        b"b c\tr\ta\n"
    )
    block = read_block(path, "expert")
    assert block.count == 4
    assert block.text.count("\n") == 7  # line i of the block is line i of the file
    assert {t for t, g in block.quads()} == set(read_triples(path))
    import_file(store, path, graph="expert")
    assert set(store.triples(graphs="expert")) == set(read_triples(path))


def test_plain_tsv_fast_path_mints_like_the_line_parser():
    """Whole-text conversion of plain ASCII TSV equals minting field by field."""
    import random
    import string

    from nesykg.kg.delimited import tsv_text_fast as _tsv_text_fast

    ns = dataset_namespace("prop")
    rng = random.Random(0)
    alphabet = string.ascii_letters + string.digits + "_-.~!$&'()*+,;=@/:%?[]\"{}|^`\\"
    taken = 0
    for _ in range(200):
        rows = [["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(3)] for _ in range(4)]
        text = "\n".join("\t".join(r) for r in rows) + "\n"
        fast = _tsv_text_fast(text, ns, "<urn:g> .")
        assert fast is not None
        expected = "".join(f"<{mint(ns, h)}> <{mint(ns, r)}> <{mint(ns, t)}> <urn:g> .\n" for h, r, t in rows)
        assert fast == (expected, 4)
        taken += 1
    assert taken == 200
    # anything unusual goes line by line
    for odd in ("a\tb\n#c\td\te\n", "a\tb\tc\n\nd\te\tf\n", "a\tb\tc\td\n", "a\tb\n", "é\tr\tb\n", "a \tr\tb\n", "<a>\tr\tb\n"):
        assert _tsv_text_fast(odd, ns, "<urn:g> .") is None


def test_rdf_files_without_blank_nodes_load_natively_and_equal_the_parser(tmp_path, store):
    from nesykg.kg.io import rdf_file_block

    nt = tmp_path / "g.nt"
    nt.write_text(
        "# comment\n"
        "<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
        '<http://example.org/a> <http://example.org/name> "A \\"quoted\\""@en .\n'
    )
    block = rdf_file_block(nt, "domain")
    assert block is not None and block.count == 2
    res = import_file(store, nt)
    assert res.triples == 2
    assert set(store.triples(graphs="domain")) == set(read_triples(nt))
    ttl = tmp_path / "g.ttl"
    ttl.write_text("@prefix ex: <http://example.org/> .\nex:a ex:p ex:c ; ex:q [ ex:r ex:d ] .\n")
    assert rdf_file_block(ttl, "expert") is None  # may hold blank nodes: parsed in Python
    res = import_file(store, ttl, graph="expert")
    assert res.triples == 3
    [bnode] = {t.object for t in store.triples((ex("a"), ex("q"), None), graphs="expert")}
    assert bnode.startswith("urn:nesykg:genid:")
    plain = tmp_path / "plain.ttl"
    plain.write_text("@prefix ex: <http://example.org/> .\nex:a ex:p ex:c , ex:d .\n")
    res = import_file(store, plain, graph="other")
    assert res.triples == 2 and store.count(graphs="other") == 2
