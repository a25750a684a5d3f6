"""What every command shares: our errors become one line on stderr and exit code 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from llm_extract.errors import ExtractError


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except ExtractError as err:
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
