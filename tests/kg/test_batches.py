"""Writes in several transactions (`nesykg.kg.batches`): loads and copies larger than a
server's transaction memory, on every backend."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from nesykg.errors import InputError, PartialWriteError
from nesykg.kg import ChangeSet, Literal, Provenance, open_store
from nesykg.kg.batches import chunked, copy_store, write_batches
from nesykg.kg.io import import_files
from tests.conftest import ex, generate_triples, write_tsv

T0 = datetime(2026, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def _files(tmp_path):
    (tmp_path / "kin").mkdir()
    tsv = write_tsv(tmp_path / "kin" / "train.tsv", generate_triples(num_entities=90, num_triples=700))
    nt = tmp_path / "labels.nt"
    nt.write_text(
        "".join(f'<{ex(f"e{i}")}> <{ex("label")}> "entity {i}"@en .\n' for i in range(40))
        + "".join(f"<{ex(f'e{i}')}> <{ex('knows')}> <{ex(f'e{i + 1}')}> .\n" for i in range(60)),
        encoding="utf-8",
    )
    return tsv, nt


def test_chunked():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []
    with pytest.raises(InputError, match="at least 1"):
        list(chunked([1], 0))


def test_batched_load_equals_one_transaction(store, tmp_path):
    tsv, nt = _files(tmp_path)
    reference = open_store("memory:")
    for f in (tsv, nt):
        import_files(reference, [f])
    written: list[int] = []
    totals: set[int | None] = set()
    reading: list[tuple[int, int | None]] = []
    last = {"writing": 0}

    def progress(stage, done, total):  # the progress protocol: cumulative per stage and call
        if stage == "reading":
            reading.append((done, total))
            return
        assert stage == "writing"
        written.append(done - last["writing"])
        last["writing"] = done
        totals.add(total)

    for f in (tsv, nt):
        reading.clear()
        last["writing"] = 0
        result = import_files(store, [f], batch=64, progress=progress)
        assert result.triples == {tsv: 700, nt: 100}[f]
        size = f.stat().st_size
        assert reading[0] == (0, size) and reading[-1] == (size, size)
    assert set(store.triples(graphs="domain")) == set(reference.triples(graphs="domain"))
    assert store.count(graphs="domain") == 800
    if not store.native_bulk:  # the embedded store's bulk load is one write, whatever the batch
        assert written[:11] == [64] * 10 + [700 - 640] and sum(written) == 800
        assert totals == {700, 100}
    import_files(store, [tsv], batch=100)  # again: nothing doubles
    assert store.count(graphs="domain") == 800


def test_batched_load_into_inferred_is_one_run(store, tmp_path):
    tsv, _ = _files(tmp_path)
    result = import_files(store, [tsv], graph="inferred", batch=100)
    assert result.run_id is not None
    assert store.count(graphs="inferred") == 700
    assert {r.run_id for r in store.runs()} == {result.run_id}
    assert store.undo(result.run_id) == 700
    assert store.count(graphs="inferred") == 0


def test_failed_batch_after_others_reports_what_was_written(store):
    """Two batches commit, the third is refused by the store: the error says how many
    triples are in, and exactly those are; a failure in the first batch leaves the store
    untouched and raises the store's own error."""
    good = [(ex(f"a{i}"), ex("p"), ex(f"b{i}")) for i in range(10)]
    bad = [(ex("c"), ex("p"), ex("d")), ("urn:x:not an iri", ex("p"), ex("d"))]
    batches = [ChangeSet(add=[(t, "domain") for t in good[:6]]), ChangeSet(add=[(t, "domain") for t in good[6:]]),
               ChangeSet(add=[(t, "domain") for t in bad])]
    with pytest.raises(PartialWriteError) as err:
        write_batches(store, iter(batches), 12, "loading test.tsv into 'domain'", "Run it again.")
    assert (err.value.written, err.value.total) == (10, 12)
    msg = str(err.value)
    assert "loading test.tsv into 'domain' stopped after 10 of 12 triples were written" in msg
    assert "invalid IRI" in msg and msg.endswith("Run it again.")
    assert set(store.triples(graphs="domain")) == set(good)
    store.remove_many(good)
    with pytest.raises(InputError, match="invalid IRI") as first:
        write_batches(store, iter(batches[2:]), 2, "loading", "Run it again.")
    assert not isinstance(first.value, PartialWriteError)
    assert len(store) == 0


def test_copy_in_batches_keeps_graphs_and_provenance(store, tmp_path):
    src = open_store(tmp_path / "src")
    src.add_many([(ex(h), ex(r), ex(t)) for h, r, t in generate_triples(num_triples=50)])
    src.add((ex("e1"), ex("label"), Literal("one", language="en")), graph="expert")
    src.add_inferred(
        [((ex(f"e{i}"), ex("inf"), ex(f"e{i + 2}")), Provenance(0.5 + i / 100, "rule", f"ev {i}", f"run-{i % 2}", T0))
         for i in range(9)]
    )
    written: list[tuple[int, int | None]] = []

    def progress(stage, done, total):
        assert stage == "copying"
        written.append((done - sum(n for n, _ in written), total))

    counts = copy_store(src, store, batch=4, progress=progress)
    assert counts == {"domain": 50, "expert": 1, "inferred": 9}
    assert sum(n for n, _ in written) == 60 and max(n for n, _ in written) == 4
    assert {total for _, total in written} == {60}
    for g in ("domain", "expert", "inferred"):
        assert set(store.triples(graphs=g)) == set(src.triples(graphs=g))
    assert sorted((str(t), p.run_id, p.confidence, p.time) for t, p in store._provenance_records()) == sorted(
        (str(t), p.run_id, p.confidence, p.time) for t, p in src._provenance_records()
    )
    copy_store(src, store, batch=7)  # again: nothing doubles
    assert store.count(graphs="domain") == 50 and len(store._provenance_records()) == 9
    assert store.undo("run-0") == 5
    src.close()
