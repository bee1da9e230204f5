"""Run directories and reports from real runs on UMLS, the HTML report opened in headless Chromium.

The module fixture runs the real commands in process (`nesykg.cli.main`): two short
link-prediction trainings (ComplEx, DistMult), rule mining with the rules evaluated as a link
predictor, complex-query evaluation with two reasoners (FIT, CQD) and an agent evaluation on
1- and 2-hop questions generated from UMLS with half their gold-path triples removed. Then
``nesykg report`` renders them; Chromium (Debian's package, driven by playwright) opens the file
with every network request refused and every plot image must have loaded.

Chromium missing: skipped, or FAILED under NESYKG_REQUIRE_SERVERS=1 (set by ``make test``,
which installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nesykg.cli import main
from nesykg.runs import RunResult
from tests.report.agent_questions import write_agent_questions

EXPECTED_PLOTS = {
    "training-curves", "linkpred-metrics", "cqa-mrr-by-type", "agent-hits-by-hops", "agent-hits-by-removed",
    "writeback-calibration", "rules-by-kind",
}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
EPOCHS = 3


def nesykg(*args: str) -> None:
    code = main([str(a) for a in args])
    assert code == 0, f"nesykg {' '.join(map(str, args))} exited {code}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real runs on UMLS, each recorded in its run directory: name -> directory."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 16-dim models: threads cost more than they save (like the demo)
    try:
        return _make_runs(tmp_path_factory.mktemp("umls-runs"))
    finally:
        torch.set_num_threads(threads)


def _make_runs(d: Path) -> dict[str, Path]:
    ck = {m: d / f"umls-{m}" for m in ("complex", "distmult")}
    for model, folder in ck.items():
        nesykg("train", "-d", "umls", "-m", model, "--epochs", EPOCHS, "--dim", 16, "--out", folder, "--json")
    rules = d / "umls-rules"
    nesykg("rules", "mine", "-d", "umls", "--max-length", 2, "--no-constants", "--min-conf", 0.3, "--out", rules, "--json")
    nesykg("eval", "-c", rules, "--run-dir", d / "eval-rules", "--json")
    queries = d / "queries.jsonl"
    nesykg("queries", "sample", "-d", "umls", "--types", "1p,2p,2i,pi", "--num", 8, "--out", queries, "--json")
    for reasoner in ("fit", "cqd"):
        nesykg("cqa", "eval", "-c", ck["complex"], "-q", queries, "-r", reasoner, "--run-dir", d / f"cqa-{reasoner}", "--json")
    kb, exemplars, questions = write_agent_questions(d)
    nesykg("agent", "eval", "--questions", questions, "--exemplars", exemplars, "--kb", kb, "--drop-path-triples", 0.5,
           "--min-confidence", 0.5, "--run-dir", d / "agent", "--json")
    return {
        "complex": ck["complex"], "distmult": ck["distmult"], "rules": rules, "eval-rules": d / "eval-rules",
        "cqa-fit": d / "cqa-fit", "cqa-cqd": d / "cqa-cqd", "agent": d / "agent",
    }


# ------------------------------------------------------------------ run directories
def test_every_command_recorded_its_run(runs: dict[str, Path]) -> None:
    loaded = {k: RunResult.load(p) for k, p in runs.items()}
    assert {k: r.command for k, r in loaded.items()} == {
        "complex": "train", "distmult": "train", "rules": "rules mine", "eval-rules": "eval",
        "cqa-fit": "cqa eval", "cqa-cqd": "cqa eval", "agent": "agent eval",
    }
    for r in loaded.values():
        assert r.status == "completed" and r.error is None and r.finished
        assert set(r.versions) == {"python", "torch", "nesykg", "platform"} and r.versions["torch"]
        assert r.timings["total_seconds"] > 0
        assert (r.path / "config.json").is_file() and (r.path / "metrics.json").is_file()
    # a training run sits in its checkpoint's run/ folder, beside (not over) the checkpoint's config.json
    assert loaded["complex"].path == runs["complex"] / "run"
    assert json.loads((runs["complex"] / "config.json").read_text())["format"]
    for name in ("complex", "distmult"):
        r = loaded[name]
        assert [h["epoch"] for h in r.history] == list(range(1, EPOCHS + 1))
        assert all(h["loss"] > 0 and 0 < h["valid_mrr"] <= 1 for h in r.history)
        assert 0 < r.metrics["test"]["mrr"] <= 1 and r.config["model"] == name and r.config["epochs"] == EPOCHS
    # the git hash is the checkout's, when this runs from one
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, check=False)
    expected = head.stdout.strip() if head.returncode == 0 else None
    assert loaded["complex"].git_hash in (expected, None)
    assert loaded["rules"].metrics["rules"] == sum(loaded["rules"].metrics["by_kind"].values()) > 0
    assert set(loaded["cqa-fit"].metrics["per_type"]) >= {"1p", "2p", "2i", "pi"}
    agent = loaded["agent"]
    hops = {r["id"]: r["hops"] for r in agent.records}  # one record per question (by id)
    assert len(hops) == agent.metrics["questions"] == 30
    assert Counter(hops.values()) == {1: 15, 2: 15}


def test_a_run_saved_loads_back_equal(tmp_path: Path, runs: dict[str, Path]) -> None:
    r = RunResult.load(runs["agent"])
    r.save(tmp_path / "copy")
    assert RunResult.load(tmp_path / "copy") == r


def test_bad_run_directories_fail_in_one_line(tmp_path: Path, runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    not_a_run = tmp_path / "data"
    not_a_run.mkdir()
    (not_a_run / "keep.txt").write_text("mine")
    ck = str(runs["complex"])
    for args, words in [
        (["eval", "-c", ck, "--run-dir", str(a_file)], "exists and is not a folder"),
        (["eval", "-c", ck, "--run-dir", str(not_a_run)], "not a run directory"),
        (["report", str(a_file), "--out", str(tmp_path / "r.html")], "not a run directory"),
        (["report", str(not_a_run), "--out", str(tmp_path / "r.html")], "not a run directory"),
        (["report", str(tmp_path / "missing"), "--out", str(tmp_path / "r.html")], "no such run directory"),
        (["report", str(runs["agent"]), "--out", str(tmp_path)], "a folder"),
        (["report", str(runs["agent"]), "--format", "pdf"], "unknown --format"),
    ]:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and words in err, (args, err)
    assert (not_a_run / "keep.txt").read_text() == "mine" and sorted(p.name for p in not_a_run.iterdir()) == ["keep.txt"]
    assert not (tmp_path / "r.html").exists()


# ------------------------------------------------------------------ reports
def test_markdown_report_writes_pngs_beside_it(tmp_path: Path, runs: dict[str, Path]) -> None:
    out = tmp_path / "md" / "report.md"
    nesykg("report", *runs.values(), "--out", out, "--format", "md", "--json")
    text = out.read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {re.sub(r"^report-|\.png$", "", x) for x in linked} == EXPECTED_PLOTS
    for name in linked:
        assert (out.parent / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "**model**" in text and "**complex**" in text  # the train runs differ in their model
    # a second report into the same file leaves no PNG of a plot it lacks
    nesykg("report", runs["complex"], "--out", out, "--json")
    assert sorted(p.name for p in out.parent.glob("*.png")) == ["report-linkpred-metrics.png", "report-training-curves.png"]


def test_a_plot_without_data_is_left_out(tmp_path: Path, runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "train-only.html"
    assert main(["report", str(runs["complex"]), str(runs["distmult"]), "--out", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["plots"] == ["training-curves", "linkpred-metrics"]
    assert set(info["omitted"]) == EXPECTED_PLOTS - {"training-curves", "linkpred-metrics"}
    assert len(re.findall(r"<img ", out.read_text(encoding="utf-8"))) == 2


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    reason = None
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install chromium; make test installs it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    if reason is not None:
        if os.environ.get("NESYKG_REQUIRE_SERVERS") == "1":
            pytest.fail(f"NESYKG_REQUIRE_SERVERS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    assert path is not None
    return path


@pytest.mark.slow
def test_html_report_opens_offline_in_chromium_with_every_plot_loaded(tmp_path: Path, runs: dict[str, Path]) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report.html"
    nesykg("report", *runs.values(), "--out", out, "--json")
    html = out.read_text(encoding="utf-8")
    # one self-contained file: every image inline, no link, script or style sheet fetched from anywhere
    assert not re.search(r"""(src|href)=["'](?!data:image/png;base64,)""", html)
    assert "http://" not in html and "https://" not in html
    requests: list[str] = []
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1300, "height": 900},
        )
        try:
            page = ctx.new_page()

            def refuse(route: Any) -> None:  # offline: only the file itself and data: URIs load
                url = route.request.url
                if url.startswith(("file://", "data:")):
                    route.continue_()
                else:
                    requests.append(url)
                    route.abort()

            page.route("**/*", refuse)
            page.goto(out.as_uri(), wait_until="load")
            images = page.evaluate(
                "() => [...document.images].map(i => ({plot: i.dataset.plot, complete: i.complete,"
                " width: i.naturalWidth, height: i.naturalHeight}))"
            )
            diffs = page.evaluate(
                "() => [...document.querySelectorAll('table.config tr.diff th')].map(th => th.textContent)"
            )
            page.screenshot(path=str(shot), full_page=True)
        finally:
            ctx.close()
    assert requests == []
    assert {i["plot"] for i in images} == EXPECTED_PLOTS and len(images) == len(EXPECTED_PLOTS)
    bad = [i for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert not bad, f"plot images that did not load: {bad}"
    assert {"model", "out", "reasoner"} <= set(diffs)  # complex vs distmult; fit vs cqd
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("NESYKG_REPORT_SCREENSHOT")
    if keep:  # docs/report.md's screenshot: NESYKG_REPORT_SCREENSHOT=docs/img/report.png
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, keep)
    print(f"screenshot: {shot}")
