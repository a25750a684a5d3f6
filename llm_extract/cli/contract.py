"""`llm-extract schema`: the data contract for other apps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from llm_extract.schemas import SCHEMAS, json_schema

__all__ = ["schema"]


def schema(
    name: Annotated[
        str, typer.Argument(help=f"Which schema: {', '.join(SCHEMAS)}.")
    ] = "article_extraction",
    write: Annotated[
        Path | None,
        typer.Option(help="Write every schema as NAME.schema.json into this folder instead."),
    ] = None,
) -> None:
    """Print the JSON Schema of the records (or write all of them to a folder)."""
    if write is not None:
        write.mkdir(parents=True, exist_ok=True)
        for each in SCHEMAS:
            target = write / f"{each}.schema.json"
            target.write_text(_dump(json_schema(each)), encoding="utf-8")
            typer.echo(f"wrote {target}", err=True)
        return
    if name not in SCHEMAS:
        typer.secho(f"error: unknown schema {name!r}; choose from {', '.join(SCHEMAS)}", err=True)
        raise typer.Exit(2)
    typer.echo(_dump(json_schema(name)), nl=False)


def _dump(schema: dict[str, object]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
