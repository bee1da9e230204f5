"""``nesykg train | eval | predict`` and the demo step, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from nesykg.cli import main
from nesykg.cli.demo import DemoContext
from nesykg.cli.linkpred import demo_step
from nesykg.datasets import load_dataset
from tests.reasoners.embedding_kgs import write_dataset


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _people_splits() -> dict[str, list[tuple[str, str, str]]]:
    likes = [(f"p{i}", "likes", f"food{i % 4}") for i in range(16)]
    lives = [(f"p{i}", "lives_in", f"city{i // 4}") for i in range(16)]
    return {"train": likes[:14] + lives, "valid": likes[14:15], "test": likes[15:]}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    data = write_dataset(root / "people", _people_splits())
    out = root / "ck"
    code = main(["train", "--dataset", str(data), "--model", "complex", "--dim", "8", "--epochs", "3", "--out", str(out)])
    assert code == 0
    return data, out


def test_train_writes_a_checkpoint_and_metrics(trained: tuple[Path, Path]) -> None:
    _, out = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["model"] == "complex" and metrics["config"]["model_config"]["dim"] == 8
    assert metrics["epochs_completed"] == 3 and "test" in metrics["metrics"]
    assert (out / "vocab.json").is_file() and (out / "model.pt").is_file()


def test_train_json_and_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_dataset(tmp_path / "people", _people_splits())
    code, out, _ = run(capsys, "train", "-d", str(data), "-m", "distmult", "--dim", "4", "--epochs", "2",
                       "--out", str(tmp_path / "ck"), "--json")
    assert code == 0
    d = json.loads(out)
    assert d["checkpoint"] == str(tmp_path / "ck") and d["config"]["model"] == "distmult"
    code, out, err = run(capsys, "train", "-d", str(data), "-m", "transe", "--dim", "4", "--epochs", "2",
                         "--out", str(tmp_path / "ck2"))
    assert code == 0 and "valid MRR" in err and "mrr" in out and "s/epoch" in out


def test_eval_reproduces_the_training_metrics(trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = trained
    code, stdout, _ = run(capsys, "eval", "--checkpoint", str(out), "--split", "test", "--json")
    assert code == 0
    d = json.loads(stdout)
    recorded = json.loads((out / "metrics.json").read_text())["metrics"]["test"]
    assert d["mrr"] == pytest.approx(recorded["mrr"]) and d["count"] == 2
    code, stdout, _ = run(capsys, "eval", "--checkpoint", str(out), "--split", "valid")
    assert code == 0 and "hits@10" in stdout


def test_eval_refuses_another_vocabulary(trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = trained
    code, _, err = run(capsys, "eval", "--checkpoint", str(out), "--dataset", "nations")
    assert code == 2 and "another vocabulary" in err


def test_predict_top_k(trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = trained
    code, stdout, _ = run(capsys, "predict", "--checkpoint", str(out), "--head", "p3", "--relation", "likes",
                          "--top-k", "3", "--json")
    assert code == 0
    d = json.loads(stdout)
    assert [a["rank"] for a in d["answers"]] == [1, 2, 3]
    assert d["answers"][0]["score"] >= d["answers"][1]["score"] >= d["answers"][2]["score"]
    code, stdout, _ = run(capsys, "predict", "-c", str(out), "--tail", "food1", "-r", "likes", "-k", "2")
    assert code == 0 and "(?, likes, food1)" in stdout


def test_predict_unknown_names_suggest_close_ones(trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = trained
    code, _, err = run(capsys, "predict", "--checkpoint", str(out), "--head", "food9", "--relation", "likes")
    assert code == 2 and "unknown entity 'food9'" in err and "food1" in err
    code, _, err = run(capsys, "predict", "--checkpoint", str(out), "--head", "p1", "--relation", "like")
    assert code == 2 and "unknown relation 'like'" in err and "likes" in err
    code, _, err = run(capsys, "predict", "--checkpoint", str(out / "missing"), "--head", "p1", "--relation", "likes")
    assert code == 2 and "no such checkpoint" in err


def test_demo_step_trains_and_predicts(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    ctx = DemoContext(store=None, dataset=load_dataset("countries_s1"), workdir=tmp_path, console=console)
    demo_step(ctx)
    text = console.export_text()
    assert "test MRR" in text and "held-out test answer: africa" in text and "new facts for (zambia" in text
    assert (ctx.extras["linkpred_checkpoint"] / "model.pt").is_file()


def test_train_refuses_bad_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_dataset(tmp_path / "people", _people_splits())
    code, _, err = run(capsys, "train", "-d", str(data), "--device", "nosuchdevice", "--out", str(tmp_path / "a"))
    assert code == 2 and "nosuchdevice" in err
    code, _, err = run(capsys, "train", "-d", str(data), "--model", "complx", "--out", str(tmp_path / "b"))
    assert code == 2 and "unknown model 'complx'" in err and "complex" in err
    code, _, err = run(capsys, "train", "-d", str(data), "--optimizer", "sgd", "--out", str(tmp_path / "c"))
    assert code == 2 and "optimizer" in err
