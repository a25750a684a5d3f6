"""What several commands share: one-line errors, library notices on stderr, the cache choice."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from llm_extract.errors import ExtractError

__all__ = ["CacheChoice", "add_data_row", "announce_to_stderr", "user_errors"]


CacheStore = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Cache store: a .db file (default: logs.db, one row per call) or a folder of JSON files.",
    ),
]
"""The same option, worded once, for every command that calls a model."""


class CacheChoice(StrEnum):
    """`--cache`: the record/replay cache modes (`llm_extract.cache.CacheMode`)."""

    use = "use"
    refresh = "refresh"
    off = "off"
    replay_only = "replay-only"


@contextmanager
def user_errors() -> Iterator[None]:
    """Our errors become one line on stderr and exit code 1."""
    try:
        yield
    except ExtractError as err:
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


class _Stderr(logging.Handler):
    """Library notices (baseline default, mode fallback, resume) as one stderr line each."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"llm-extract: {record.getMessage()}", err=True)


def announce_to_stderr() -> None:
    """Show the `llm_extract` logger's notices on stderr (once, however often it is called)."""
    logger = logging.getLogger("llm_extract")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr(logging.INFO))


def add_data_row(table: Table, *cells: str) -> None:
    """A row of data, never markup: an error saying `[/b]` or `[redacted]` prints as it is."""
    table.add_row(*(Text(cell) for cell in cells))
