"""The options several commands share, and the library objects built from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.cli._common import CacheChoice, call_settings, run_settings

runner = CliRunner()
SEED = "seeds/000_5fadb3ca50ee0a75.txt"

MODEL_COMMANDS = {
    "extract": ["extract", SEED],
    "eval": ["eval"],
    "batch collect": ["batch", "collect", SEED, "-m", "fixture-x", "-o", "out.jsonl"],
}
"""The commands that call a model and so take the cache and transport options."""


def refused(*args: str) -> str:
    """The usage error of a command line typer refuses, on one wide line per message."""
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    return result.stderr


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_an_unknown_cache_mode_is_refused_with_the_choices(command: str, tmp_path: Path) -> None:
    assert "'use', 'refresh', 'off', 'replay-only'" in refused(
        *MODEL_COMMANDS[command], "--cache", "sometimes"
    )
    assert not (tmp_path / "llm-extract-home" / "logs.db").exists()


@pytest.mark.parametrize("command", ["extract", "eval"])
def test_an_unknown_mode_is_refused_with_the_choices(command: str) -> None:
    assert "'json', 'md_json'" in refused(*MODEL_COMMANDS[command], "--mode", "xml")


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_short_concurrency_flag_needs_one_or_more(command: str) -> None:
    message = refused(*MODEL_COMMANDS[command], "-c", "0")
    assert "--concurrency must be at least 1 (got 0)" in message  # not pydantic's words
    assert "Input should be" not in message


def test_call_and_run_settings_take_options_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_EXTRACT_TIMEOUT", "5")
    monkeypatch.setenv("LLM_EXTRACT_MAX_TOKENS", "300")
    config = call_settings(rpm=30, timeout=7)
    run = run_settings(CacheChoice.refresh, tmp_path / "c.db", no_log=True)
    assert (config.timeout, config.rpm, config.max_tokens) == (7, 30, 300)
    assert run.open_cache().mode == "refresh"
    assert run.open_cache().directory == tmp_path / "c.db"
    assert run.open_call_log() is None


def test_run_settings_log_to_the_user_database_unless_told_not_to(tmp_path: Path) -> None:
    run = run_settings(CacheChoice.off, None, no_log=False)
    assert run.open_call_log().path == tmp_path / "llm-extract-home" / "logs.db"
    assert call_settings().rpm is None
