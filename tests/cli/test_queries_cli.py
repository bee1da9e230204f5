"""``nesykg queries sample | import-betae``, ``nesykg query``, ``nesykg cqa eval``: end to end on Countries S1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nesykg.cli import main
from nesykg.datasets import load_dataset
from tests.reasoners import embedding_kgs  # noqa: F401  (one torch thread)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, _, err = run(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cqa")
    code = main(["train", "-d", "countries_s1", "-m", "complex", "--dim", "16", "--epochs", "3", "--out", str(root / "ck")])
    assert code == 0
    code = main(["queries", "sample", "-d", "countries_s1", "--types", "1p,2i,ip,3il,3c", "--num", "3",
                 "--out", str(root / "q.jsonl"), "--seed", "1", "--allow-fewer"])
    assert code == 0
    return root


FORMULA = "?y : exists x . neighbor(?y, x) & locatedin(x, western_europe) & locatedin(?y, europe)"


def test_sample_writes_jsonl_with_hard_answers(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [json.loads(x) for x in (work / "q.jsonl").read_text().splitlines()]
    kinds = [r["structure"] for r in rows]  # Countries' 24 test facts ground few structures
    assert all(kinds.count(s) == 3 for s in ("1p", "2i", "ip", "3il")) and "3c" in kinds
    assert all(r["hard"] and not set(r["hard"]) & set(r["easy"]) for r in rows)
    code, out, _ = run(capsys, "queries", "sample", "-d", "countries_s1", "-t", "1p", "-n", "2", "--split", "valid",
                       "--out", str(work / "v.jsonl"), "--json")
    assert code == 0 and json.loads(out)["counts"] == {"1p": 2}


def test_query_answers_with_truth_values_and_explains(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "query", FORMULA, "--checkpoint", str(work / "ck"), "--top-k", "3", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["reasoner"] == "fit" and len(res["answers"]) == 3
    truths = [a["truth"] for a in res["answers"]]
    assert truths == sorted(truths, reverse=True) and truths[0] == pytest.approx(1.0)  # observed in train
    code, out, _ = run(capsys, "query", FORMULA, "-c", str(work / "ck"), "-k", "2", "--explain")
    assert code == 0 and "because y = " in out and "locatedin(" in out


def test_query_with_a_store_takes_constants_and_edges_from_it(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = load_dataset("countries_s1")
    store = work / "store"
    code, _, err = run(capsys, "kg", "load", str(ds.path / "train.txt"), "--store", str(store), "--namespace", "countries_s1")
    assert code == 0, err
    code, out, err = run(capsys, "query", FORMULA, "-c", str(work / "ck"), "--store", str(store), "-k", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["answers"][0]["truth"] == pytest.approx(1.0)
    line = one_error(capsys, "query", "?y : neighbor(?y, atlantis)", "-c", str(work / "ck"), "--store", str(store))
    assert "unknown entity" in line and "atlantis" in line


def test_cqa_eval_per_type_for_each_reasoner(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = str(work / "q.jsonl")
    code, out, err = run(capsys, "cqa", "eval", "-c", str(work / "ck"), "-q", q, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert set(rep["metrics"]) == {"1p", "2i", "ip", "3il", "3c", "average"}
    assert all(0 < m["mrr"] <= 1 for m in rep["metrics"].values())
    code, out, _ = run(capsys, "cqa", "eval", "-c", str(work / "ck"), "-q", q, "--reasoner", "cqd", "--json")
    assert code == 0 and "3c" in json.loads(out)["refused"]
    code, out, _ = run(capsys, "cqa", "eval", "-c", str(work / "ck"), "-q", q, "--reasoner", "exact")
    assert code == 0 and "hits@10" in out and "3il" in out


def test_import_betae_round_trip(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nesykg.datasets.betae import write_betae
    from nesykg.datasets.queries import read_queries_jsonl

    qs = [q for q in read_queries_jsonl(work / "q.jsonl") if q.structure in ("1p", "2i", "ip")]
    write_betae(work / "betae", qs)
    code, out, err = run(capsys, "queries", "import-betae", str(work / "betae"), "--out", str(work / "b.jsonl"), "--json")
    assert code == 0, err
    assert sum(json.loads(out)["counts"].values()) == len(qs)
    back = read_queries_jsonl(work / "b.jsonl")
    assert {(q.structure, q.hard) for q in back} == {(q.structure, q.hard) for q in qs}


def test_bad_inputs_are_one_line_errors(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ck = str(work / "ck")
    line = one_error(capsys, "query", "?y : neighbor(spain, ?y", "-c", ck)
    assert "<formula>:1:" in line  # the column
    line = one_error(capsys, "query", "?y : neighbor(spian, ?y)", "-c", ck)
    assert "unknown entity 'spian'" in line and "spain" in line
    line = one_error(capsys, "query", "?y : neighbour(spain, ?y)", "-c", ck)
    assert "neighbor" in line
    assert "second free variable" in one_error(capsys, "query", "?y : neighbor(?z, ?y)", "-c", ck)
    assert "positive atom" in one_error(capsys, "query", "?y : !neighbor(spain, ?y)", "-c", ck)
    line = one_error(capsys, "queries", "sample", "-d", "countries_s1", "-t", "1p,2x", "--out", str(work / "x.jsonl"))
    assert "unknown query structure '2x'" in line
    assert "reasoner" in one_error(capsys, "query", FORMULA, "-c", ck, "--reasoner", "fitt")
    line = one_error(capsys, "cqa", "eval", "-c", ck, "-q", str(work / "missing.jsonl"))
    assert "missing.jsonl" in line


def test_a_store_of_another_vocabulary_is_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = work / "other.tsv"
    other.write_text("a\tknows\tb\n")
    store = work / "other-store"
    assert main(["kg", "load", str(other), "--store", str(store), "--namespace", "countries_s1"]) == 0
    capsys.readouterr()
    line = one_error(capsys, "query", FORMULA, "-c", str(work / "ck"), "--store", str(store))
    assert "does not match the vocabulary of checkpoint" in line
