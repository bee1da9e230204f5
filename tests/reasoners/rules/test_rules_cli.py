"""``nesykg rules ...`` as a user drives it, on the shipped Countries S1 data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nesykg.cli import main
from nesykg.cli.app import app
from nesykg.datasets import load_dataset
from nesykg.reasoners.rules.syntax import read_rules

runner = CliRunner()


def invoke(*args: str) -> dict:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, (res.output, res.exception)
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rules") / "rules.txt"
    info = invoke("rules", "mine", "--dataset", "countries_s1", "--max-length", "2", "--min-conf", "0.1", "--out", str(out), "--json")
    assert info["rules"] > 0 and info["by_kind"]["path-2"] > 0 and not info["truncated"]
    return out


def test_mine_writes_a_readable_rules_file(rules_file):
    texts = {r.text: r for r in read_rules(rules_file)}
    rule = texts["locatedin(X,Y) <= locatedin(X,A), locatedin(A,Y)"]
    assert 0.5 < rule.confidence < 1 and rule.stats.support > 100
    res = runner.invoke(app, ["rules", "mine", "--dataset", "countries_s1", "--max-length", "1", "--out", str(rules_file.parent / "r1.txt")])
    assert res.exit_code == 0 and "mined" in res.stdout


def test_eval_reports_filtered_metrics(rules_file):
    m = invoke("rules", "eval", "--dataset", "countries_s1", "--rules", str(rules_file), "--json")
    assert m["count"] == 48 and m["mrr"] > 0.9 and m["hits@10"] == 1.0
    table = runner.invoke(app, ["rules", "eval", "--dataset", "countries_s1", "--rules", str(rules_file)])
    assert table.exit_code == 0 and "mrr" in table.stdout


def test_explain_names_rules_and_groundings(rules_file):
    h, r, t = load_dataset("countries_s1").test[0]
    out = invoke("rules", "explain", "--dataset", "countries_s1", "--rules", str(rules_file), "--head", h, "--relation", r, "--tail", t, "--json")
    (answer,) = out["answers"]
    assert answer["candidate"] == t and answer["score"] > 0
    best = answer["rules"][0]
    assert best["groundings"] >= 1 and best["examples"] and h in best["examples"][0]
    text = runner.invoke(app, ["rules", "explain", "--dataset", "countries_s1", "--rules", str(rules_file), "--head", h, "--relation", r])
    assert text.exit_code == 0 and "because" in text.stdout


def test_apply_is_idempotent_and_undoable(tmp_path, rules_file):
    store = str(tmp_path / "kg")
    train = load_dataset("countries_s1").path / "train.txt"
    invoke("kg", "load", str(train), "--store", store, "--namespace", "countries_s1", "--json")
    before = invoke("kg", "stats", "--store", store, "--json")
    first = invoke("rules", "apply", "--store", store, "--rules", str(rules_file), "--min-conf", "0.8", "--json")
    assert first["added"] > 0 and first["run_id"]
    assert all(t["confidence"] >= 0.8 and " <= " in t["evidence"] for t in first["triples"])
    again = invoke("rules", "apply", "--store", store, "--rules", str(rules_file), "--min-conf", "0.8", "--json")
    assert again == {"run_id": None, "added": 0, "rules": again["rules"], "triples": []}
    undone = invoke("kg", "undo", first["run_id"], "--store", store, "--json")
    assert undone["removed"] == first["added"]
    assert invoke("kg", "stats", "--store", store, "--json") == before


def test_expert_rules_from_the_store(tmp_path):
    store = str(tmp_path / "kg")
    train = load_dataset("countries_s1").path / "train.txt"
    invoke("kg", "load", str(train), "--store", store, "--namespace", "countries_s1", "--json")
    expert = tmp_path / "expert.txt"
    expert.write_text("# hand-written\n0.9\tlocatedin(X,Y) <= locatedin(X,A), locatedin(A,Y)\n", encoding="utf-8")
    assert invoke("rules", "import", "--rules", str(expert), "--store", store, "--json") == {"stored": 1, "graph": "expert"}
    res = invoke("rules", "apply", "--store", store, "--min-conf", "0.85", "--json")
    assert res["added"] > 0 and {t["confidence"] for t in res["triples"]} == {0.9}
    assert invoke("rules", "apply", "--store", store, "--no-expert", "--rules", str(expert), "--json")["added"] == 0


def test_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("locatedin(X,Y) <= neighbour(X,A), locatedin(A,Y)\n", encoding="utf-8")
    code = main(["rules", "eval", "--dataset", "countries_s1", "--rules", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "unknown relation 'neighbour'" in err and "neighbor" in err
    bad.write_text("# ok\nlocatedin(X,Y) <= neighbor(X,A) locatedin(A,Y)\n", encoding="utf-8")
    code = main(["rules", "eval", "--dataset", "countries_s1", "--rules", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and f"{bad}:2:33:" in " ".join(err.split()) and "unexpected" in err
    bad.write_text("locatedin(X,Y) <= neighbor(X,A), locatedin(A,Y)\n", encoding="utf-8")
    code = main(["rules", "apply", "--store", str(tmp_path / "none"), "--rules", str(bad)])
    assert code == 2 and "no store" in capsys.readouterr().err


def test_demo_step_materialises_and_explains_a_triple(tmp_path):
    import io

    from rich.console import Console

    from nesykg.cli.demo import DemoContext
    from nesykg.cli.rules import demo_step
    from nesykg.kg import open_store
    from nesykg.kg.io import import_files

    ds = load_dataset("countries_s1")
    buf = io.StringIO()
    with open_store(tmp_path / "store") as st:
        import_files(st, [ds.path / "train.txt"], "domain", namespace=ds.namespace)
        ctx = DemoContext(st, ds, tmp_path, Console(file=buf, width=200))
        demo_step(ctx)
        run = ctx.extras["rules_run_id"]
        assert run and st.count(graphs="inferred") > 0
        text = buf.getvalue()
        assert "a held-out test fact" in text and "because locatedin(" in text
        st.undo(run)
        assert st.count(graphs="inferred") == 0


def test_mine_into_a_checkpoint_folder_then_eval_and_predict(tmp_path, capsys):
    ck = tmp_path / "countries-rules"
    info = invoke("rules", "mine", "--dataset", "countries_s1", "--max-length", "2", "--out", str(ck), "--json")
    assert info["checkpoint"] is True and info["rules"] > 0
    # the checkpoint, and run/: the run directory of the mining (nesykg.runs)
    assert {p.name for p in ck.iterdir()} == {"config.json", "vocab.json", "rules.txt", "facts.pt", "run"}
    code = main(["eval", "--checkpoint", str(ck), "--split", "test", "--json"])
    m = json.loads(capsys.readouterr().out)
    assert code == 0 and m["model"] == "rules" and m["count"] == 48 and m["mrr"] > 0.9
    code = main(["predict", "--checkpoint", str(ck), "--head", "belgium", "--relation", "locatedin", "--json"])
    answers = json.loads(capsys.readouterr().out)["answers"]
    assert code == 0 and answers[0]["entity"] == "europe"
    code = main(["predict", "--checkpoint", str(ck), "--head", "belgium", "--relation", "locatedin"])
    assert code == 0 and "(belgium, locatedin, ?) -- rules" in " ".join(capsys.readouterr().out.split())
    # an existing folder is a checkpoint too, even with a dotted name; FILE.txt stays a rules file
    (tmp_path / "v1.2").mkdir()
    assert invoke("rules", "mine", "-d", "countries_s1", "--max-length", "1", "--out", str(tmp_path / "v1.2"), "--json")["checkpoint"]
    assert (tmp_path / "v1.2" / "config.json").is_file()
    assert not invoke("rules", "mine", "-d", "countries_s1", "--max-length", "1", "--out", str(tmp_path / "r.txt"), "--json")["checkpoint"]
    assert read_rules(tmp_path / "r.txt")
