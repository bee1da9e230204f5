"""``nesykg demo``: the main job on the embedded default store, end to end.

The demo is a list of steps (`STEPS`); each capability adds one step function taking a
`DemoContext`, kept in the module of its own CLI group.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nesykg.cli.common import console

DEMO_QUERY = """\
PREFIX c: <urn:nesykg:ds:countries_s1:>
SELECT ?country WHERE {
  ?country c:locatedin c:western_europe .
  ?country c:neighbor c:germany .
} ORDER BY ?country"""


@dataclass
class DemoContext:
    """What demo steps share: the open store, the dataset, a work folder, the console."""

    store: Any
    dataset: Any
    workdir: Path
    console: Any
    extras: dict[str, Any] = field(default_factory=dict)


def store_step(ctx: DemoContext) -> None:
    """Load Countries S1, print statistics, answer a SPARQL query."""
    from rich.table import Table

    from nesykg.kg.io import import_files

    out, ds, st = ctx.console, ctx.dataset, ctx.store
    out.rule("[bold]Load Countries S1 into an on-disk store")
    res = import_files(st, [ds.path / "train.txt"], "domain", namespace=ds.namespace)
    out.print(f"read {res.triples} triples into graph 'domain' of {st.location}")
    stats = st.stats().as_dict()
    table = Table(title="store statistics")
    for c in ("graph", "triples"):
        table.add_column(c)
    for g, n in stats["triples"].items():
        table.add_row(g, str(n))
    out.print(table)
    out.print(f"entities: {stats['entities']}   relations: {stats['relations']}")

    out.rule("[bold]SPARQL: western European neighbours of Germany")
    out.print(DEMO_QUERY, highlight=False)
    rows = st.sparql(DEMO_QUERY)
    out.print("answers: " + ", ".join(ds_name(r["country"], ds.namespace) for r in rows))


def _steps() -> list[Callable[[DemoContext], None]]:
    """The demo's steps, in order (imported lazily: each may need torch)."""
    from nesykg.cli import agent, linkpred, queries, rules

    return [store_step, linkpred.demo_step, rules.demo_step, queries.demo_step, agent.demo_step]


def demo(
    store: Annotated[
        Optional[Path], typer.Option("--store", "-s", help="Folder for the demo store (default: a fresh temporary one).")
    ] = None,
) -> None:
    """Load Countries S1 into an on-disk store, print its statistics and answer a SPARQL query."""
    from nesykg.datasets import load_dataset
    from nesykg.kg import open_store

    tmp = Path(tempfile.mkdtemp(prefix="nesykg-demo-"))
    if store is None:
        store = tmp / "store"
    elif store.exists():
        shutil.rmtree(store)
    try:
        with open_store(store) as st:
            ctx = DemoContext(st, load_dataset("countries_s1"), tmp, console())
            for step in _steps():
                step(ctx)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ds_name(iri: object, namespace: str) -> str:
    from nesykg.kg.terms import local_name

    return local_name(str(iri), namespace)
