"""`--help` in words: no typer type placeholders anywhere, and each output option named for
what it writes (a results file, a request file, a folder of runs), the old `--out` still taken."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from llm_extract.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_5fadb3ca50ee0a75.txt"
PLACEHOLDER = re.compile(
    r"<(?:bool|str|int|float|path|file|directory|list\[[^\]]*\]|[a-z]+ range)>"
)
"""typer's placeholders for a type: `<bool>`, `<list[str]>`, `<int range>`..."""


def _commands() -> list[tuple[str, ...]]:
    group = typer.main.get_command(app)
    found: list[tuple[str, ...]] = [()]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found.append((name,))
        for sub in getattr(command, "commands", {}):
            found.append((name, sub))
    return found


def _help(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "llm-extract")
def test_no_help_shows_a_type_placeholder(command: tuple[str, ...]) -> None:
    assert not PLACEHOLDER.findall(_help(*command))


@pytest.mark.parametrize(
    ("command", "option", "words"),
    [
        (("extract",), "--results", "The JSONL results file"),
        (("batch", "collect"), "--results", "The JSONL results file"),
        (("batch", "ray"), "--results", "The results: a JSONL file"),
        (("batch", "prepare"), "--requests", "The request file to write"),
        (("eval",), "--runs", "The folder runs are stored in"),
    ],
)
def test_each_output_option_is_named_for_what_it_writes(
    command: tuple[str, ...], option: str, words: str
) -> None:
    text = " ".join(_help(*command).replace("│", " ").split())
    assert f"{option},--out" in text and words in text and "--out is the old name" in text


@pytest.mark.parametrize("spelling", ["--results", "--out", "-o"])
def test_extract_writes_its_results_file_under_either_name(spelling: str, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    args = ["extract", str(SEED), "-m", "baseline", spelling, str(out), "--format", "jsonl"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text("utf-8"))["article_id"] == SEED.stem


@pytest.mark.parametrize("spelling", ["--requests", "--out"])
def test_batch_prepare_writes_its_request_file_under_either_name(
    spelling: str, tmp_path: Path
) -> None:
    requests = tmp_path / "req.jsonl"
    args = ["batch", "prepare", str(SEED), "-m", "fixture-x", spelling, str(requests)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert requests.is_file() and json.loads(requests.read_text("utf-8").splitlines()[0])


@pytest.mark.parametrize("spelling", ["--runs", "--out"])
def test_eval_stores_its_runs_under_either_name(spelling: str, tmp_path: Path) -> None:
    args = ["eval", "-m", "fixture-careful", "--gold", "seeds", spelling, str(tmp_path / "runs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "seeds" / "fixture-careful" / "run.json").is_file()
