"""``nesykg demo``: the main job on the embedded default store, end to end."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from nesykg.cli.common import console

DEMO_QUERY = """\
PREFIX c: <urn:nesykg:ds:countries_s1:>
SELECT ?country WHERE {
  ?country c:locatedin c:western_europe .
  ?country c:neighbor c:germany .
} ORDER BY ?country"""


def demo(
    store: Annotated[
        Optional[Path], typer.Option("--store", "-s", help="Folder for the demo store (default: a fresh temporary one).")
    ] = None,
) -> None:
    """Load Countries S1 into an on-disk store, print its statistics and answer a SPARQL query."""
    from rich.table import Table

    from nesykg.datasets import load_dataset
    from nesykg.kg import open_store
    from nesykg.kg.io import import_files

    out = console()
    tmp = None
    if store is None:
        tmp = Path(tempfile.mkdtemp(prefix="nesykg-demo-"))
        store = tmp / "store"
    elif store.exists():
        shutil.rmtree(store)
    try:
        ds = load_dataset("countries_s1")
        out.rule("[bold]1. Load Countries S1 into an on-disk store")
        with open_store(store) as st:
            res = import_files(st, [ds.path / "train.txt"], "domain", namespace=ds.namespace)
            out.print(f"loaded {res.triples} triples into graph 'domain' of {store}")
            stats = st.stats().as_dict()
            table = Table(title="store statistics")
            for c in ("graph", "triples"):
                table.add_column(c)
            for g, n in stats["triples"].items():
                table.add_row(g, str(n))
            out.print(table)
            out.print(f"entities: {stats['entities']}   relations: {stats['relations']}")

            out.rule("[bold]2. SPARQL: western European neighbours of Germany")
            out.print(DEMO_QUERY, highlight=False)
            rows = st.sparql(DEMO_QUERY)
            out.print("answers: " + ", ".join(ds_name(r["country"], ds.namespace) for r in rows))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def ds_name(iri: object, namespace: str) -> str:
    from nesykg.kg.terms import local_name

    return local_name(str(iri), namespace)
