"""``nesykg datasets``: the shipped datasets."""

from __future__ import annotations

from typing import Annotated

import typer

from nesykg.cli.common import JsonOpt, console, print_json

app = typer.Typer(
    rich_markup_mode="markdown", help="List and inspect the datasets shipped with nesykg.", no_args_is_help=True
)


@app.command("list")
def list_cmd(json_out: JsonOpt = False) -> None:
    """List the built-in datasets with their sizes (all work offline)."""
    from nesykg.datasets import dataset_info, list_datasets, load_dataset

    rows = [dict(dataset_info(load_dataset(n)), description=d) for n, d in list_datasets().items()]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Built-in datasets (use --dataset NAME)")
    for col in ("name", "entities", "relations", "train", "valid", "test", "description"):
        table.add_column(col, justify="right" if col not in ("name", "description") else "left")
    for r in rows:
        table.add_row(*(str(r[c]) for c in ("name", "entities", "relations", "train", "valid", "test", "description")))
    console().print(table)


@app.command("info")
def info_cmd(
    name: Annotated[str, typer.Argument(help="A built-in name (umls) or a folder with train/valid/test files.")],
    json_out: JsonOpt = False,
) -> None:
    """Sizes of one dataset, built-in or a folder."""
    from nesykg.datasets import dataset_info, load_dataset

    info = dataset_info(load_dataset(name))
    if json_out:
        print_json(info)
    else:
        for k, v in info.items():
            console().print(f"[bold]{k}[/]: {v}")
