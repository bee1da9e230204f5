"""Every kind of bad input gives one clear error naming file, line and reason, and the
store is left exactly as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from nesykg.errors import InputError, ParseError, StoreError, StoreLockedError
from nesykg.kg import open_store
from nesykg.kg.io import import_file, import_files
from tests.conftest import family_triples, write_tsv


def snapshot(store):
    return {g: set(store.triples(graphs=g)) for g in store.graphs()}


@pytest.fixture
def loaded(store, tmp_path):
    store.add_many(family_triples())
    import_file(store, write_tsv(tmp_path / "seed.tsv", [("x", "r", "y")]), graph="expert")
    return store


def assert_unchanged(store, before):
    assert snapshot(store) == before


CASES = {
    # name: (file name, content bytes, expected message regex)
    "wrong column count": ("cols.tsv", b"a\tr\tb\nc\tr\nd\tr\te\n", r"cols\.tsv:2: expected 3 tab-separated columns \(head, relation, tail\), found 2"),
    "too many columns": ("cols4.tsv", b"a\tr\tb\tz\n", r"cols4\.tsv:1: expected 3 tab-separated columns .*found 4"),
    "empty field": ("blank.tsv", b"a\tr\tb\nc\t \td\n", r"blank\.tsv:2: column 2 is empty"),
    "invalid IRI in TSV": ("iri.tsv", b"a\tr\tb\n<http://ex.org/a b>\tr\tc\n", r"iri\.tsv:2: column 1: invalid IRI 'http://ex\.org/a b': character ' ' is not allowed"),
    "IRI without scheme": ("rel.tsv", b"<just-a-name>\tr\tc\n", r"rel\.tsv:1: column 1: invalid IRI 'just-a-name': no scheme"),
    "malformed IRI brackets": ("br.tsv", b"a\tr\t<http://x.org/b\n", r"br\.tsv:1: column 3: malformed IRI"),
    "not UTF-8": ("latin.tsv", b"a\tr\tb\nd\xe9j\xe0\tr\tc\n", r"latin\.tsv:2: not UTF-8 text"),
    "malformed Turtle": ("bad.ttl", b"@prefix ex: <http://ex.org/> .\nex:a ex:p ex:b .\nex:a ex:p .\n", r"bad\.ttl:3:\d+: "),
    "invalid IRI in N-Triples": ("bad.nt", b"<http://ex.org/a> <http://ex.org/p> <http://ex.org/b> .\n<http://ex.org/a b> <http://ex.org/p> <http://ex.org/c> .\n", r"bad\.nt:2:\d+: Invalid IRI code point ' '"),
    "malformed RDF/XML": ("bad.rdf", b"<?xml version='1.0'?>\n<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n<rdf:Description rdf:about='http://ex.org/a'>\n</rdf:RDF>\n", r"bad\.rdf"),
    "malformed JSON-LD": ("bad.jsonld", b'[{"@id": "http://ex.org/a", "http://ex.org/p": [{"@id": ', r"bad\.jsonld"),
    "empty file": ("empty.tsv", b"", r"empty\.tsv: the file is empty"),
    "whitespace-only file": ("ws.ttl", b"  \n\n", r"ws\.ttl: the file is empty"),
    "comments only": ("comments.tsv", b"# nothing here\n\n", r"comments\.tsv: the file holds no triples"),
    "unknown extension": ("data.xyz", b"a\tr\tb\n", r"data\.xyz: unknown format for extension '\.xyz'; pass one of turtle, ntriples"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_leaves_store_unchanged(loaded, tmp_path, case):
    name, content, pattern = CASES[case]
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(loaded)
    with pytest.raises(InputError, match=pattern) as info:
        import_file(loaded, path)
    assert str(info.value).count("\n") == 0  # one line
    assert_unchanged(loaded, before)


def test_parse_error_carries_location(tmp_path):
    path = write_tsv(tmp_path / "t.tsv", [("a", "r", "b")])
    path.write_text(path.read_text() + "x\ty\n")
    with pytest.raises(ParseError) as info:
        import_file(open_store("memory:"), path)
    assert (info.value.line, info.value.source, info.value.reason.startswith("expected 3")) == (2, str(path), True)


def test_unknown_format_name(loaded, tmp_path):
    path = write_tsv(tmp_path / "ok.tsv", [("a", "r", "b")])
    before = snapshot(loaded)
    with pytest.raises(InputError, match=r"unknown format 'yaml'; known: turtle, ntriples, nquads"):
        import_file(loaded, path, format="yaml")
    assert_unchanged(loaded, before)


def test_missing_file(loaded, tmp_path):
    before = snapshot(loaded)
    with pytest.raises(InputError, match=r"nope\.tsv: no such file"):
        import_file(loaded, tmp_path / "nope.tsv")
    assert_unchanged(loaded, before)


def test_directory_instead_of_file(loaded, tmp_path):
    (tmp_path / "dir.tsv").mkdir()
    before = snapshot(loaded)
    with pytest.raises(InputError, match=r"dir\.tsv: is a directory"):
        import_file(loaded, tmp_path / "dir.tsv")
    assert_unchanged(loaded, before)


def test_unreadable_file(loaded, tmp_path):
    """A file the OS refuses to read. Root reads files without read permission, so as
    root (CI) the file is /proc/self/mem, whose read fails with EIO."""
    before = snapshot(loaded)
    if os.geteuid() != 0:
        path = write_tsv(tmp_path / "secret.tsv", [("a", "r", "b")])
        path.chmod(0)
        pattern = r"secret\.tsv: permission denied"
    else:
        path = "/proc/self/mem"
        pattern = r"/proc/self/mem: cannot read the file: Input/output error"
    with pytest.raises(InputError, match=pattern):
        import_file(loaded, path, format="tsv")
    assert_unchanged(loaded, before)


def test_dangling_symlink(loaded, tmp_path):
    link = tmp_path / "dangling.tsv"
    link.symlink_to(tmp_path / "missing-target.tsv")
    before = snapshot(loaded)
    with pytest.raises(InputError, match=r"dangling\.tsv: no such file"):
        import_file(loaded, link)
    assert_unchanged(loaded, before)


def test_error_in_second_file_writes_nothing(loaded, tmp_path):
    good = write_tsv(tmp_path / "good.tsv", [("p", "r", "q")])
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tr\n")
    before = snapshot(loaded)
    with pytest.raises(ParseError, match=r"bad\.tsv:1"):
        import_files(loaded, [good, bad])
    assert_unchanged(loaded, before)


def test_store_held_by_another_process(tmp_path):
    path = tmp_path / "held"
    with open_store(path) as st:
        st.add(family_triples()[0])
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from nesykg.kg import open_store
            st = open_store({str(path)!r})
            print("held", flush=True)
            sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match=r"the store at .*held is in use by another process"):
            open_store(path)
    finally:
        holder.communicate("\n", timeout=30)
    with open_store(path) as st:  # released: opens again, data intact
        assert len(st) == 1


def test_store_path_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        open_store(f)
