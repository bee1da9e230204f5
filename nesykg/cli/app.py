"""The typer application: registers every command group.

Heavy libraries are imported inside commands, so ``nesykg --help`` stays fast.
"""

from __future__ import annotations

import typer

from nesykg import __version__
from nesykg.cli import agent as agent_cmd
from nesykg.cli import console as console_cmd
from nesykg.cli import datasets as datasets_cmd
from nesykg.cli import demo as demo_cmd
from nesykg.cli import gnn as gnn_cmd
from nesykg.cli import kg as kg_cmd
from nesykg.cli import linkpred as linkpred_cmd
from nesykg.cli import queries as queries_cmd
from nesykg.cli import report as report_cmd
from nesykg.cli import rules as rules_cmd

app = typer.Typer(
    rich_markup_mode="markdown",
    name="nesykg",
    help="Neuro-symbolic knowledge-graph reasoning: stores with provenance, link predictors, "
    "rules, fuzzy complex queries and agents.\n\nStart with: nesykg demo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(kg_cmd.app, name="kg")
app.add_typer(datasets_cmd.app, name="datasets")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(queries_cmd.app, name="queries")
app.add_typer(queries_cmd.cqa_app, name="cqa")
app.add_typer(gnn_cmd.app, name="gnn")
app.add_typer(agent_cmd.app, name="agent")
app.command("demo")(demo_cmd.demo)
app.command("train")(linkpred_cmd.train)
app.command("eval")(linkpred_cmd.evaluate)
app.command("predict")(linkpred_cmd.predict)
app.command("query")(queries_cmd.query)
app.command("console")(console_cmd.console)
app.command("report")(report_cmd.report)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nesykg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """nesykg command line."""
