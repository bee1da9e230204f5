"""Shared fixtures: every store backend, tiny generated and hand-made graphs."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nesykg.kg import GraphStore, open_store

EX = "http://example.org/"

# (id, factory(tmp_path) -> store). Server backends join this list where configured.
BACKENDS: list[tuple[str, Callable[[Path], GraphStore]]] = [
    ("memory", lambda tmp: open_store("memory:")),
    ("oxigraph-memory", lambda tmp: open_store()),
    ("oxigraph-disk", lambda tmp: open_store(tmp / "store")),
]


@pytest.fixture(params=[b[0] for b in BACKENDS])
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
