from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.schemas import json_schema

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "schema" in result.output


def test_schema_prints_the_model_facing_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json_schema("article_extraction")


def test_schema_write_exports_every_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--write", str(tmp_path)])
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "article_extraction.schema.json",
        "event.schema.json",
        "extraction_result.schema.json",
        "position_track.schema.json",
    ]


def test_unknown_schema_is_a_clear_error() -> None:
    result = runner.invoke(app, ["schema", "nope"])
    assert result.exit_code == 2
    assert "choose from" in result.output
