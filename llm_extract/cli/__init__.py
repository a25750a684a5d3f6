"""The `llm-extract` command: thin wrappers over the library, one module per command group."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from llm_extract.cli._common import PlainHelpCommand, PlainHelpGroup
from llm_extract.cli.batch import batch_app
from llm_extract.cli.contract import schema
from llm_extract.cli.distributed import ray_command
from llm_extract.cli.evals import compare, eval_models, score
from llm_extract.cli.events import events
from llm_extract.cli.export import export
from llm_extract.cli.extract import extract
from llm_extract.cli.view import view

__all__ = ["app"]

app = typer.Typer(
    name="llm-extract",
    help="Extract meetings, delegations and positions from diplomatic news, grounded and scored.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=PlainHelpGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(version("llm-extract"))
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Extract meetings, delegations and positions from diplomatic news, grounded and scored."""


app.command()(schema)
app.command()(extract)
app.command("eval")(eval_models)
app.command()(score)
app.command()(compare)
app.command()(view)
app.command()(events)
app.command()(export)
batch_app.command("ray")(ray_command)
app.add_typer(batch_app, name="batch")

for _typer in (app, batch_app):
    _typer.info.cls = PlainHelpGroup
    for _command in _typer.registered_commands:
        _command.cls = PlainHelpCommand
