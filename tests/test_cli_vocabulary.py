"""One CLI vocabulary: the same options, defaults, placeholders and plain errors everywhere."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from llm_extract.cli import app

runner = CliRunner()


def _help(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _said(result) -> str:
    return " ".join(result.output.replace("│", " ").split())


MODEL_OPTIONS = (
    "--model", "--base-url", "--api-key-env", "--mode", "--prompt", "--timeout",
    "--max-tokens", "--temperature", "--max-reasks", "--rpm", "--concurrency", "--no-log",
    "--cache", "--cache-dir", "--format", "--json",
)  # fmt: skip


@pytest.mark.parametrize("command", [("extract",), ("eval",)])
def test_model_commands_share_options_panels_and_defaults(command):
    text = _help(*command)
    for option in MODEL_OPTIONS:
        assert option in text, option
    for panel in ("Model", "Run", "Cache and call log", "Output"):
        assert f"─ {panel} " in text
    assert "[default: 8]" in text  # --concurrency, the same everywhere
    assert "default: 120" in text  # --timeout says its default
    for placeholder in ("<list[str]>", "<str>", "<path>", "<float>", "<int"):
        assert placeholder not in text.split("─ Arguments")[-1].split("--help")[-1]


@pytest.mark.parametrize("command", [("score",), ("compare",), ("batch", "collect")])
def test_other_commands_format_and_json(command):
    text = _help(*command)
    assert "--json" in text
    if command != ("batch", "collect"):
        assert "--format" in text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--timeout", "0"], "--timeout must be more than 0 seconds (leave it out for 120 s)"),
        (["--chunk-chars", "10"], "--chunk-chars must be at least 1600 (got 10)"),
        (["--format", "csv"], "'csv' is not one of 'json', 'jsonl', 'table'"),
        (["--cache", "nope"], "'nope' is not one of 'use', 'refresh', 'off', 'replay-only'"),
        (["--rpm", "0"], "--rpm must be more than 0 requests a minute"),
    ],
)
def test_errors_are_in_the_options_words(args, said):
    result = runner.invoke(app, ["extract", "x.txt", "-m", "baseline", *args])
    assert result.exit_code == 2
    text = _said(result)
    assert said in text
    assert "Value error" not in text and "chunk_chars" not in text
