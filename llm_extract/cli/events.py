"""`llm-extract events`: results in, one record per real-world meeting out."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from llm_extract.cli._common import user_errors
from llm_extract.events import aggregate_positions, iter_events, read_mentions
from llm_extract.results import ResultSet, read_results
from llm_extract.schemas import Event

__all__ = ["ResultPaths", "events", "read_for_cli"]

ResultPaths = Annotated[
    list[Path],
    typer.Argument(
        help="Results: JSONL from `extract --results` or `batch collect`, .json results or folders."
    ),
]


class EventFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


def read_for_cli(paths: list[Path]) -> ResultSet:
    """Read results and say on stderr what was skipped."""
    found = read_results(paths)
    _tell(found.warnings, found.failed)
    return found


def _tell(warnings: list[str], failed: int) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    if failed:
        typer.echo(f"llm-extract: {failed} failed result(s) skipped", err=True)


def events(
    paths: ResultPaths,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the events as JSONL here (default: stdout)."),
    ] = None,
    output_format: Annotated[
        EventFormat,
        typer.Option(
            "--format", help="jsonl: one Event per line; table: a chronological timeline."
        ),
    ] = EventFormat.jsonl,
    positions: Annotated[
        Path | None,
        typer.Option(help="Also write each holder's stances per issue over time (JSONL) here."),
    ] = None,
) -> None:
    """Resolve the meetings of many results into events: one per real-world meeting."""
    with user_errors():
        found = read_mentions(paths)
        _tell(found.warnings, found.failed)
        resolved: Iterable[Event] = iter_events(found.articles)
        if output_format is EventFormat.table:
            resolved = list(resolved)  # the timeline needs them all; lines are written as built
        count = 0
        if out is not None:
            count = _write_jsonl(out, (e.model_dump_json() for e in resolved))
        elif output_format is EventFormat.jsonl:
            for event in resolved:
                typer.echo(event.model_dump_json())
                count += 1
        if positions is not None:
            tracks = aggregate_positions(read_results(paths).results)
            _write_jsonl(positions, (t.model_dump_json() for t in tracks))
        if isinstance(resolved, list):
            count = len(resolved)
            Console(width=max(Console().width, 120)).print(timeline_table(resolved))
        typer.echo(
            f"llm-extract: {found.mentions} meeting mention(s) from {found.ok} result(s) "
            f"resolved into {count} event(s)",
            err=True,
        )


def _write_jsonl(path: Path, lines: Iterable[str]) -> int:
    """Write the lines as they come; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
            count += 1
    typer.echo(f"wrote {path}", err=True)
    return count


def timeline_table(resolved: list[Event]) -> Table:
    """One row per event, oldest first: date, place, sides, heads, status history, sources."""
    table = Table(title="Events", show_lines=False)
    for column in ("date", "place", "sides", "heads", "status history", "sources"):
        table.add_column(column, justify="right" if column == "sources" else "left")
    for event in resolved:
        date = "—"
        if event.date is not None:
            date = event.date.start + (f"…{event.date.end}" if event.date.end else "")
            date += " (conflict)" if event.date_conflict else ""
        place = (event.place.place or event.place.country or "—") if event.place else "—"
        heads = ", ".join(p.name for p in event.participants if p.head) or "—"
        history = " → ".join(
            f"{s.status.value} ({s.published.isoformat() if s.published else '?'})"
            for s in event.status_history
        )
        table.add_row(
            *(
                escape(cell)
                for cell in (date, place, "–".join(event.sides), heads, history, str(event.sources))
            )
        )
    return table
