"""What several commands share: their common options, one-line errors, library notices on stderr."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from llm_extract.cache import Cache, CallLog
from llm_extract.client import MODES, ClientConfig
from llm_extract.errors import ExtractError

__all__ = [
    "AliasFile",
    "ApiKeyEnv",
    "AsJson",
    "BaseUrl",
    "CacheChoice",
    "CacheOption",
    "CacheStore",
    "ChunkChars",
    "Concurrency",
    "GroundingReasks",
    "MaxReasks",
    "MaxTokens",
    "ModeChoice",
    "ModeOption",
    "NoChunking",
    "NoLog",
    "PromptName",
    "Rpm",
    "Timeout",
    "add_data_row",
    "announce_to_stderr",
    "model_calls",
    "open_cache",
    "user_errors",
]


class CacheChoice(StrEnum):
    """`--cache`: the record/replay cache modes (`llm_extract.cache.CacheMode`)."""

    use = "use"
    refresh = "refresh"
    off = "off"
    replay_only = "replay-only"


ModeChoice = StrEnum("ModeChoice", {name: name for name in MODES})
"""`--mode`: instructor's structured-output modes (`llm_extract.client.MODES`)."""

# Options that several commands take, each worded once; a command gives the default,
# which typer wants in the signature.
BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible endpoint (default $OPENAI_BASE_URL)."),
]
ApiKeyEnv = Annotated[
    str, typer.Option("--api-key-env", help="Environment variable that holds the API key.")
]
ModeOption = Annotated[
    ModeChoice | None,
    typer.Option("--mode", help="Structured-output mode (default tools; falls back if rejected)."),
]
CacheOption = Annotated[
    CacheChoice, typer.Option("--cache", help="Record/replay cache mode for live model calls.")
]
CacheStore = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Cache store: a .db file (default: logs.db, one row per call) or a folder of JSON files.",
    ),
]
NoLog = Annotated[
    bool,
    typer.Option(
        "--no-log",
        help="Do not log calls to logs.db; a .db cache still records its successful calls.",
    ),
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", "-c", min=1, help="Articles in flight at once.")
]
Rpm = Annotated[
    float | None,
    typer.Option("--rpm", help="Cap on live model requests per minute, re-asks included."),
]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Seconds to wait for one answer.")]
MaxTokens = Annotated[
    int | None, typer.Option("--max-tokens", help="Cap on output tokens per answer.")
]
MaxReasks = Annotated[
    int, typer.Option("--max-reasks", min=0, help="Live re-asks after an answer fails validation.")
]
GroundingReasks = Annotated[
    int,
    typer.Option(
        "--grounding-reasks", min=0, help="Live re-asks when quotes are not found in the article."
    ),
]
PromptName = Annotated[str, typer.Option("--prompt", help="Prompt template name in prompts/.")]
NoChunking = Annotated[
    bool, typer.Option("--no-chunking", help="Refuse articles longer than --chunk-chars.")
]
ChunkChars = Annotated[
    int,
    typer.Option(
        "--chunk-chars", help="Longest text sent in one call; longer articles are chunked."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text and tables.")]
AliasFile = Annotated[
    Path | None,
    typer.Option(
        "--aliases",
        help="Alias file (JSON: people, sides, places) merged over the shipped table "
        "(default $LLM_EXTRACT_ALIASES).",
        exists=True,
        dir_okay=False,
    ),
]


def open_cache(choice: CacheChoice, store: Path | None) -> Cache:
    """`--cache` and `--cache-dir` as the library's cache."""
    return Cache(store, mode=choice.value)


def model_calls(
    cache: CacheChoice,
    store: Path | None,
    *,
    no_log: bool,
    timeout: float | None = None,
    rpm: float | None = None,
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """The `config`, `cache` and `call_log` settings that `extract` and `batch collect` build alike."""
    return {
        "config": ClientConfig.from_env(timeout=timeout, rpm=rpm, max_tokens=max_tokens),
        "cache": open_cache(cache, store),
        "call_log": None if no_log else CallLog(),
    }


INTERRUPTED = 130
"""The exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells expect."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Our errors become one line on stderr and exit code 1; Ctrl-C exits 130 (the run
    has said on stderr what it finished)."""
    try:
        yield
    except ExtractError as err:
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(INTERRUPTED) from None


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
