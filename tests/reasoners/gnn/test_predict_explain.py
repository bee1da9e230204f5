"""``nesykg gnn train`` then ``nesykg predict --explain``, through the real entry point, on
the generated composition graph (``r3 = r1 . r2``): an NBFNet checkpoint shows the
``r1, r2`` path behind its top answer, a rule checkpoint the rule that fired, an embedding
checkpoint says in one line that it has no explanations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nesykg.cli import main
from tests.reasoners.embedding_kgs import write_dataset
from tests.reasoners.gnn.graphs import composition_kg


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str, str]]:
    kg = composition_kg(12)
    v = kg.vocab
    names = {s: [(v.entities[h], v.relations[r], v.entities[t]) for h, r, t in kg.triples(s).tolist()] for s in kg.splits}
    folder = write_dataset(tmp_path_factory.mktemp("gnn-cli") / "composition", names)
    return folder, names["test"][0]


def test_nbfnet_predict_explain_shows_the_composed_path(
    data: tuple[Path, tuple[str, str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, (h, r, t) = data
    ck = tmp_path / "nbf"
    code, _, err = run(capsys, "gnn", "train", "-d", str(folder), "--dim", "16", "--layers", "3", "--epochs", "8",
                       "--batch-size", "16", "--lr", "0.01", "--out", str(ck), "--json")
    assert code == 0, err
    code, out, err = run(capsys, "predict", "-c", str(ck), "-r", r, "--head", h, "-k", "3", "--explain", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["answers"][0]["entity"] == t  # the composition was learned
    why = d["explanation"]
    assert why["triple"] == [h, r, t] and why["paths"]
    assert any([e[1] for e in p["path"]] == ["r1", "r2"] for p in why["paths"])
    assert all(p["path"][0][0] == h and p["path"][-1][2] == t for p in why["paths"])
    # the table form prints the same paths; asking for heads explains (top, r, tail)
    code, out, _ = run(capsys, "predict", "-c", str(ck), "-r", r, "--tail", t, "-k", "2", "--explain")
    assert code == 0 and "most important paths for" in out and "r1" in out and "r2" in out


def test_rule_checkpoint_explains_with_the_rules_that_fired(
    data: tuple[Path, tuple[str, str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, (h, r, t) = data
    ck = tmp_path / "rules"
    code, _, err = run(capsys, "rules", "mine", "-d", str(folder), "--out", str(ck), "--no-constants", "--max-length", "2")
    assert code == 0, err
    code, out, err = run(capsys, "predict", "-c", str(ck), "-r", r, "--head", h, "-k", "2", "--explain", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["answers"][0]["entity"] == t
    rules = d["explanation"]["rules"]
    assert any("r1" in x["rule"] and "r2" in x["rule"] for x in rules) and all(x["groundings"] >= 1 for x in rules)
    code, out, _ = run(capsys, "predict", "-c", str(ck), "-r", r, "--head", h, "--explain")
    assert code == 0 and "rules that fired for" in out and "because" in out


def test_an_embedding_checkpoint_says_it_has_no_explanations(
    data: tuple[Path, tuple[str, str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, (h, r, _) = data
    ck = tmp_path / "cx"
    assert main(["train", "-d", str(folder), "-m", "complex", "--dim", "4", "--epochs", "1", "--out", str(ck)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "predict", "-c", str(ck), "-r", r, "--head", h, "-k", "2", "--explain")
    assert code == 0
    lines = [x for x in out.splitlines() if "explanations" in x]
    assert lines == ["no explanations for complex checkpoints (nbfnet: paths; rules: rules that fired)"]
