"""Command line: `extractor extract`, `extractor export`, `extractor merge`, `extractor eval`,
`extractor cache ...`, `extractor gold from-review`, `extractor batch ...` (OpenAI Batch API).

Exit codes: 0 all documents ok, 1 some documents (or eval gates) failed, 2 usage error.
Each command lives in its own module; this one only assembles the Typer application.
"""

from __future__ import annotations

from typing import Annotated

import typer

from extractor import __version__
from extractor.cli.batch import batch_app
from extractor.cli.cache import cache_app
from extractor.cli.eval import eval_command
from extractor.cli.export import export_command
from extractor.cli.extract import extract
from extractor.cli.gold import gold_app
from extractor.cli.merge import merge_command

app = typer.Typer(
    name="extractor",
    help="Typed, evidence-grounded events, actors and sanctions facts from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cache_app, name="cache")
app.add_typer(gold_app, name="gold")
app.add_typer(batch_app, name="batch")
app.command("extract")(extract)
app.command("eval")(eval_command)
app.command("export")(export_command)
app.command("merge")(merge_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"extractor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Typed, evidence-grounded events, actors and sanctions facts from news articles."""
