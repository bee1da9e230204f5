"""`nesykg console` end to end in a pseudo-terminal, as a person uses it (pexpect).

One store with countries_s1 loaded and one rules run written by `nesykg rules apply`; one
console session: a SPARQL query, an error and recovery, a fol query and its :explain, an agent
question (ask) and its trace, Tab completion of an entity name, :why on an inferred triple,
:undo with confirmation, Ctrl-C during a slow query, Ctrl-D with exit status 0. A second session
on the Neo4j server `make test` starts: Cypher mode, a write refused in one line, the store
unchanged, and an ask over the Neo4j-backed graph. Plus the pure pieces (completion, input ends).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import neo4j_store

pexpect = pytest.importorskip("pexpect")
pytest.importorskip("prompt_toolkit")

NESYKG = str(Path(sys.executable).with_name("nesykg"))
RULE = "locatedin(X,Y) <= locatedin(X,A), locatedin(A,Y)\n"  # transitivity: conclusions the store lacks


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([NESYKG, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _done(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from nesykg.datasets import load_dataset

    root = tmp_path_factory.mktemp("console")
    store, ck, rules = root / "store", root / "ck", root / "one.txt"
    rules.write_text(RULE)
    mine = _run("rules", "mine", "--dataset", "countries_s1", "--max-length", "2", "--out", str(ck))  # meanwhile
    train = load_dataset("countries_s1").path / "train.txt"
    _done(_run("kg", "load", str(train), "--store", str(store), "--namespace", "countries_s1"))
    applied = _done(_run("rules", "apply", "--store", str(store), "--rules", str(rules), "--min-conf", "0.5"))
    _done(mine)
    run = re.search(r"nesykg kg undo (\S+)", applied)
    first = re.search(r"^\s*[01]\.\d+\s+(\S+) (locatedin) (\S+)\s+<-", applied, re.MULTILINE)
    assert run and first, applied
    return {"store": store, "ck": ck, "run": run.group(1), "inferred": first.groups(), "root": root}


def _spawn(world: dict[str, object]) -> pexpect.spawn:
    env = dict(os.environ, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", NO_COLOR="1",
               NESYKG_HISTORY=str(Path(str(world["root"])) / "history"))
    return pexpect.spawn(NESYKG, ["console", "--store", str(world["store"]), "--checkpoint", str(world["ck"])],
                         env=env, dimensions=(50, 250), timeout=30, encoding="utf-8")


def _ready(c: pexpect.spawn) -> None:
    """Wait for the next prompt (keys typed before it would reach a terminal in cooked mode)."""
    c.expect(r"(sparql|fol|ask|cypher)>")
    time.sleep(0.05)


def test_console_session(world: dict[str, object]) -> None:
    t0 = time.monotonic()
    c = _spawn(world)
    try:
        _ready(c)
        # a SPARQL query over two lines, ended by ';'; ds: is the dataset namespace
        c.send("SELECT ?o WHERE {\r ds:belgium ds:locatedin ?o } ;\r")
        c.expect("western_europe")
        c.expect(r"\d+ row\(s\)")
        _ready(c)
        # an error is one line, and the console keeps running
        c.send("SELEC nonsense;\r")
        c.expect(r"error: [^\r\n]+\r\n")
        _ready(c)
        c.send("ASK { ds:belgium ds:neighbor ds:france } ;\r")
        c.expect("yes")
        _ready(c)
        # fol: an EFO-1 formula with the mined rules checkpoint, then its groundings
        c.send(":mode fol\r")
        c.expect("mode fol")
        _ready(c)
        c.send("?y : locatedin(?y, western_europe)\r")
        c.expect("rank")
        c.expect("belgium")
        _ready(c)
        c.send(":explain\r")
        c.expect(r"because y = \w+")
        _ready(c)
        # ask: the agent (symbolic policy) answers from the store, :explain shows its trace
        c.send(":mode ask\r")
        c.expect("mode ask")
        _ready(c)
        c.send("what is the locatedin of [belgium] ?\r")
        c.expect(r"answers: [^\r\n]*western_europe[^\r\n]*\(\d+ steps")
        _ready(c)
        c.send(":explain\r")
        c.expect(r"follow_path\(\{'entity': 'belgium', 'relations': \['locatedin'\]\}\)")
        _ready(c)
        c.send(":mode sparql\r")
        c.expect("mode sparql")
        _ready(c)
        # Tab completes an entity name: "belg" alone names nothing
        c.send(":why belg\t")
        time.sleep(0.3)
        c.send(" locatedin western_europe\r")
        c.expect("belgium locatedin western_europe: in domain")
        _ready(c)
        # provenance of a triple the rules run inferred, then undo that run (confirmed)
        s, p, o = world["inferred"]  # type: ignore[misc]
        c.send(f":why {s} {p} {o}\r")
        c.expect(f"{s} {p} {o}: in inferred")
        c.expect(re.escape(str(world["run"])))
        _ready(c)
        c.send(":runs\r")
        c.expect(r"1 row\(s\)")
        _ready(c)
        c.send(f":undo {world['run']}\r")
        c.expect(r"\[y/N\]")
        c.send("y\r")
        c.expect(r"undid run \S+: removed \d+ triple\(s\)")
        _ready(c)
        c.send(f":why {s} {p} {o}\r")
        c.expect("not in the store")
        _ready(c)
        # Ctrl-C cancels a slow query (a cross product with ORDER BY) and the prompt comes back
        c.send("SELECT ?a ?d ?g WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?d ?g ;\r")
        time.sleep(1.0)
        c.sendcontrol("c")
        c.expect("cancelled")
        _ready(c)
        c.send("ASK { ds:belgium ?p ?o } ;\r")
        c.expect("yes")
        _ready(c)
        # Ctrl-D leaves with status 0
        c.sendcontrol("d")
        c.expect(pexpect.EOF)
    finally:
        c.close()
    assert c.exitstatus == 0, c.before
    assert (Path(str(world["root"])) / "history").read_text().count("ASK") >= 2
    assert time.monotonic() - t0 < 60


@pytest.mark.neo4j
def test_console_on_neo4j(world: dict[str, object]) -> None:
    st = neo4j_store()
    try:
        from nesykg.datasets import load_dataset

        uri = st.location
        _done(_run("kg", "load", str(load_dataset("countries_s1").path / "train.txt"), "--store", uri,
                   "--namespace", "countries_s1"))
        size = len(st)
        env = dict(os.environ, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", NO_COLOR="1",
                   NESYKG_HISTORY=str(Path(str(world["root"])) / "history-neo4j"))
        c = pexpect.spawn(NESYKG, ["console", "--store", uri], env=env, dimensions=(50, 250), timeout=30,
                          encoding="utf-8")
        try:
            _ready(c)
            c.send(":mode cypher\r")
            c.expect("mode cypher")
            _ready(c)
            c.send("MATCH (s:Resource)-[:REL]->(o:Resource) WHERE s.iri ENDS WITH ':belgium'\r"
                   " RETURN o.iri AS o ORDER BY o ;\r")
            c.expect("countries_s1:luxembourg")
            c.expect(r"\d+ row\(s\)")
            _ready(c)
            # a write is refused in one line (the server classifies it), and the console goes on
            c.send("MATCH (n) DETACH DELETE n ;\r")
            c.expect(r"error: refused: this tool only runs read queries[^\r\n]*\r\n")
            _ready(c)
            c.send("MATCH (n:Resource) RETURN count(n) > 0 AS kept ;\r")
            c.expect("True")
            _ready(c)
            c.send(":mode ask\r")
            c.expect("mode ask")
            _ready(c)
            c.send("what is the neighbor of [belgium] ?\r")
            c.expect(r"answers: [^\r\n]*luxembourg")
            _ready(c)
            c.sendcontrol("d")
            c.expect(pexpect.EOF)
        finally:
            c.close()
        assert c.exitstatus == 0, c.before
        assert len(st) == size
    finally:
        st.clear()
        st.close()


def test_completion_and_input_ends() -> None:
    from nesykg.console.repl import complete, is_complete

    names = sorted(["belarus", "belgium", "belize", "locatedin", "neighbor"])
    assert complete(":why belg", names) == ("belg", ["belgium"])
    assert complete(":un", names) == (":un", [":undo"])
    assert complete(":mode f", names) == ("f", ["fol"])
    assert complete("SELECT * { ds:bel", names)[1] == ["ds:belarus", "ds:belgium", "ds:belize"]
    assert complete("?y : neighbor(?y, beli", names)[1] == ["belize"]
    assert is_complete("SELECT * { ?s ?p ?o } ;", "sparql") and not is_complete("SELECT * {", "sparql")
    assert is_complete("SELECT * {\n?s ?p ?o }\n", "sparql")  # an empty line ends it
    assert is_complete("?y : r(a, ?y)", "fol") and is_complete(":runs", "sparql")


def test_console_needs_a_terminal(tmp_path: Path) -> None:
    proc = subprocess.run([NESYKG, "console", "--store", "memory:"], check=False, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
