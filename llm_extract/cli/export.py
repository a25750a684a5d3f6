"""`llm-extract export`: results and their events as analyst tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli._common import user_errors
from llm_extract.cli.events import ResultPaths, read_for_cli
from llm_extract.events import aggregate_positions, resolve_events
from llm_extract.export import WRITERS, Corpus
from llm_extract.export import export as write_tables

__all__ = ["export"]


def export(
    paths: ResultPaths,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help=(
                f"Format: {', '.join(WRITERS)} (csv and parquet: a folder; duckdb: a file; "
                "cameo: a TSV file; plover: a JSON lines file)."
            ),
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder or file to write.")],
) -> None:
    """Write tidy tables that join (articles, meetings, delegations, participants, positions,
    evidence, events, event_mentions) with a data dictionary beside them, or the events and
    positions as CAMEO or PLOVER event data."""
    with user_errors():
        found = read_for_cli(paths)
        corpus = Corpus(
            results=found.results,
            events=resolve_events(found.results),
            tracks=aggregate_positions(found.results),
        )
        for path in write_tables(corpus, to, out):
            typer.echo(f"wrote {path}", err=True)
