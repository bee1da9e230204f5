"""`nesykg.runs`: recording a run, its status when the work fails, and where runs go."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nesykg.cli import main
from nesykg.errors import InputError
from nesykg.runs import RunResult, check_run_dir, default_run_dir, record_run


def test_a_completed_run_has_its_files_and_loads_back(tmp_path: Path) -> None:
    with record_run(tmp_path / "r", "my eval", {"k": 10, "nested": {"dim": 4}}) as run:
        # written at the start: a reader sees a running run with its config
        assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "running"
        assert json.loads((tmp_path / "r" / "config.json").read_text()) == {"k": 10, "nested": {"dim": 4}}
        run.metrics = {"test": {"mrr": 0.5}}
        run.history = [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0}]
        run.records = [{"id": "q1", "hit": True}]
    back = RunResult.load(tmp_path / "r")
    assert back == run and back.status == "completed" and back.finished and back.timings["total_seconds"] >= 0
    assert (tmp_path / "r" / "history.jsonl").read_text().count("\n") == 2
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "config.json", "history.jsonl", "metrics.json", "records.jsonl", "run.json"]
    # a rerun in the same directory replaces it, stale per-question records included
    with record_run(tmp_path / "r", "my eval", {"k": 5}):
        pass
    again = RunResult.load(tmp_path / "r")
    assert again.config == {"k": 5} and again.records == [] and not (tmp_path / "r" / "records.jsonl").exists()


def test_a_failed_or_interrupted_run_keeps_its_record(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="boom"), record_run(tmp_path / "f", "x", {}):
        raise ValueError("boom\nsecond line")
    failed = RunResult.load(tmp_path / "f")
    assert failed.status == "failed" and failed.error == "ValueError: boom second line"
    with pytest.raises(KeyboardInterrupt), record_run(tmp_path / "i", "x", {}):
        raise KeyboardInterrupt
    assert RunResult.load(tmp_path / "i").status == "interrupted"


def test_a_command_that_fails_records_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_checkpoint = tmp_path / "empty"
    not_a_checkpoint.mkdir()
    assert main(["eval", "-c", str(not_a_checkpoint), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    run = RunResult.load(tmp_path / "run")
    assert run.status == "failed" and "not a checkpoint" in run.error and "not a checkpoint" in err


def test_where_runs_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NESYKG_RUNS_DIR", str(tmp_path / "base"))
    a, b = default_run_dir("cqa eval"), default_run_dir("cqa eval")
    assert a.parent == tmp_path / "base" and a.name.endswith("-cqa-eval") and a != b and a.is_dir() and b.is_dir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NESYKG_RUNS_DIR")
    assert default_run_dir("agent eval").parent == Path("runs")
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "model.pt").write_bytes(b"x")
    with pytest.raises(InputError, match="not a run directory"):
        check_run_dir(tmp_path / "ck")
    with pytest.raises(InputError, match="not a folder"):
        check_run_dir(tmp_path / "ck" / "model.pt")
    assert check_run_dir(tmp_path / "new" / "deep").is_dir()


def test_files_are_written_whole_with_the_umask(tmp_path: Path) -> None:
    with record_run(tmp_path / "r", "x", {"a": 1}):
        pass
    names = [p.name for p in (tmp_path / "r").iterdir()]
    assert not [n for n in names if n.endswith(".tmp")]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "r" / "run.json").stat().st_mode & 0o777 == 0o666 & ~mask
