"""`llm-extract view`: one HTML page to review a run's extractions in the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_extract.cli._common import user_errors
from llm_extract.goldsets import gold_set
from llm_extract.view import build_view, write_view

__all__ = ["view"]


def view(
    results: Annotated[
        Path,
        typer.Argument(
            help="Results to review: the JSONL of `extract --results`, or a run folder from `eval`."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path(
        "review.html"
    ),
    gold: Annotated[
        str | None,
        typer.Option(
            metavar="SET|FOLDER",
            help="A gold set (seeds, dev, test) or a folder of <article id>.json: mark "
            "matched, missed and spurious.",
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            help="A second run (JSONL or run folder) shown side by side, differences marked."
        ),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(help="Events file from `llm-extract events`: adds a timeline."),
    ] = None,
    articles: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the article texts (<article id>.*), when they are no longer at "
            "the results' source paths."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option(help="The page title.")] = None,
) -> None:
    """Write a self-contained HTML page: each article with its records highlighted."""
    with user_errors():
        gold_folder = None
        if gold is not None:
            chosen = gold_set(gold)
            gold_folder, articles = chosen.gold, articles or chosen.articles
        page = build_view(
            results,
            gold=gold_folder,
            against=against,
            events=events,
            articles=articles,
            title=title,
        )
        write_view(out, page)
    shown = len(page.articles)
    typer.echo(f"wrote {out} ({shown} article{'s' if shown != 1 else ''})", err=True)
    for warning in page.warnings:
        typer.echo(f"warning: {warning}", err=True)
