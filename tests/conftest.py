"""Shared fixtures: every store backend, tiny generated and hand-made graphs."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nesykg.kg import GraphStore, open_store

EX = "http://example.org/"

# ------------------------------------------------------------------ a fixed environment
# What the terminal says (its width, height, colours, locale) must change no test: rich and
# click size tables, help and wrapping from COLUMNS/LINES, colour from TERM, NO_COLOR and
# FORCE_COLOR. Every test, and every subprocess it starts with os.environ, sees these values
# whatever the shell, CI, cron job or pseudo-terminal running the suite has set.
PINNED_ENV = {
    "COLUMNS": "120",
    "LINES": "40",
    "TERM": "dumb",
    "NO_COLOR": "1",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}
UNSET_ENV = ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "LANGUAGE", "NESYKG_STORE",
             "NESYKG_LOCK_WAIT")


@pytest.fixture(autouse=True)
def fixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the terminal-describing environment (`PINNED_ENV`, `UNSET_ENV`) for every test."""
    for name, value in PINNED_ENV.items():
        monkeypatch.setenv(name, value)
    for name in UNSET_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True, scope="session")
def runs_outside_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands record their runs (`nesykg.runs`) under $NESYKG_RUNS_DIR when no --run-dir is
    given: a temporary folder in tests, never the checkout (session-wide: module fixtures run commands)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NESYKG_RUNS_DIR", str(tmp_path_factory.getbasetemp() / "default-runs"))
        yield

# ------------------------------------------------------------------ test servers
# `make test` (scripts/run_tests.sh) starts a Neo4j and an Oxigraph SPARQL server, exports
# their addresses and sets NESYKG_REQUIRE_SERVERS=1: then a missing server FAILS the tests
# that need it instead of skipping them, so CI can never skip them silently.
SERVER_ENV = {"neo4j": "NESYKG_NEO4J_URI", "sparql": "NESYKG_SPARQL_QUERY"}


def require_server(kind: str) -> str:
    """The server address from the environment; skip (or fail under NESYKG_REQUIRE_SERVERS=1)."""
    var = SERVER_ENV[kind]
    value = os.environ.get(var)
    if not value:
        reason = f"set {var} (make test starts a server)"
        if os.environ.get("NESYKG_REQUIRE_SERVERS") == "1":
            pytest.fail(f"NESYKG_REQUIRE_SERVERS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return value


def neo4j_store(tmp: Path | None = None) -> GraphStore:
    """A fresh, empty Neo4j-backed store (nesykg's data in the test database is cleared)."""
    st = open_store(require_server("neo4j"))
    st.clear()  # type: ignore[attr-defined]
    return st


def sparql_store(tmp: Path | None = None) -> GraphStore:
    """A fresh, empty SPARQL-endpoint store (every graph of the test endpoint is dropped)."""
    st = open_store(require_server("sparql"), update_url=os.environ.get("NESYKG_SPARQL_UPDATE"))
    st.clear()  # type: ignore[attr-defined]
    return st


# (id, factory(tmp_path) -> store). Server backends skip (or fail) where not configured.
BACKENDS: list[tuple[str, Callable[[Path], GraphStore]]] = [
    ("memory", lambda tmp: open_store("memory:")),
    ("oxigraph-memory", lambda tmp: open_store()),
    ("oxigraph-disk", lambda tmp: open_store(tmp / "store")),
    ("neo4j", neo4j_store),
    ("sparql", sparql_store),
]
BACKEND_MARKS = {"neo4j": pytest.mark.neo4j, "sparql": pytest.mark.sparql}


@pytest.fixture(
    params=[pytest.param(b[0], marks=[BACKEND_MARKS[b[0]]] if b[0] in BACKEND_MARKS else []) for b in BACKENDS]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """A fresh, empty store of every backend in turn."""
    factory = dict(BACKENDS)[request.param]
    st = factory(tmp_path)
    yield st
    st.close()


@pytest.fixture
def backend_factory(request: pytest.FixtureRequest) -> Callable[[str, Path], GraphStore]:
    return lambda name, tmp: dict(BACKENDS)[name](tmp)


def ex(name: str) -> str:
    return EX + name


def family_triples() -> list[tuple[str, str, str]]:
    """A readable micro-graph."""
    parent = [("abe", "homer"), ("homer", "bart"), ("homer", "lisa"), ("mona", "homer"), ("marge", "bart")]
    return [(ex(a), ex("parent"), ex(b)) for a, b in parent] + [(ex("bart"), ex("likes"), ex("lisa"))]


def generate_triples(num_entities: int = 33, num_relations: int = 7, num_triples: int = 101, seed: int = 0) -> list[tuple[str, str, str]]:
    """Random distinct triples over named entities ``e0..`` and relations ``r0..``."""
    rng = random.Random(seed)
    out: set[tuple[str, str, str]] = set()
    while len(out) < num_triples:
        out.add((f"e{rng.randrange(num_entities)}", f"r{rng.randrange(num_relations)}", f"e{rng.randrange(num_entities)}"))
    return sorted(out)


def write_tsv(path: Path, triples: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in triples), encoding="utf-8")
    return path
