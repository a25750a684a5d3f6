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
from typer.core import TyperCommand, TyperGroup

from llm_extract.errors import ExtractError
from llm_extract.settings import (
    CHUNK_OVERLAP,
    DEFAULT_CONCURRENCY,
    MODES,
    CallSettings,
    RunSettings,
)

__all__ = [
    "CACHE_PANEL",
    "DEFAULT_CONCURRENCY",
    "MODEL_PANEL",
    "OUTPUT_PANEL",
    "RUN_PANEL",
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
    "PlainHelpCommand",
    "PlainHelpGroup",
    "PromptName",
    "ReportFormat",
    "Rpm",
    "TableOrJson",
    "Temperature",
    "Timeout",
    "add_data_row",
    "announce_to_stderr",
    "at_least",
    "call_settings",
    "choices",
    "run_settings",
    "user_errors",
]


class CacheChoice(StrEnum):
    """`--cache`: the record/replay cache modes (`llm_extract.settings.CACHE_MODES`)."""

    use = "use"
    refresh = "refresh"
    off = "off"
    replay_only = "replay-only"


ModeChoice = StrEnum("ModeChoice", {name: name for name in MODES})
"""`--mode`: instructor's structured-output modes (`llm_extract.settings.MODES`)."""

MODEL_PANEL = "Model"
RUN_PANEL = "Run"
CACHE_PANEL = "Cache and call log"
OUTPUT_PANEL = "Output"


class TableOrJson(StrEnum):
    """`--format` of the commands that print scores."""

    table = "table"
    json = "json"


def choices(kind: type[StrEnum]) -> dict[str, Any]:
    """Option settings for a choice, with an error in plain words (typer's names pydantic's
    "Value error")."""
    names = [member.value for member in kind]

    def parse(value: str) -> StrEnum:
        if value not in names:
            listed = ", ".join(repr(name) for name in names)
            raise typer.BadParameter(f"{value!r} is not one of {listed}")
        return kind(value)

    return {"parser": parse, "metavar": "|".join(names)}


def at_least(name: str, low: int) -> Any:
    """A parser for a whole number of at least `low`, with an error in the option's words."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a whole number") from None
        if number < low:
            raise typer.BadParameter(f"{name} must be at least {low} (got {number})")
        return number

    return parse


def _positive(name: str, unit: str, default: str | None = None) -> Any:
    """A parser for a number that must be more than 0, with an error in the option's words."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a number of {unit}") from None
        if number <= 0:
            fallback = f" (leave it out for {default})" if default else ""
            raise typer.BadParameter(f"{name} must be more than 0 {unit}{fallback}")
        return number

    return parse


# Options that several commands take, each worded once; a command gives the default,
# which typer wants in the signature.
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="OpenAI-compatible endpoint (default $OPENAI_BASE_URL).",
        rich_help_panel=MODEL_PANEL,
    ),
]
ApiKeyEnv = Annotated[
    str,
    typer.Option(
        "--api-key-env",
        metavar="VAR",
        help="Environment variable that holds the API key.",
        rich_help_panel=MODEL_PANEL,
    ),
]
ModeOption = Annotated[
    ModeChoice | None,
    typer.Option(
        "--mode",
        **choices(ModeChoice),
        help="Structured-output mode (default tools; falls back if rejected).",
        rich_help_panel=MODEL_PANEL,
    ),
]
Temperature = Annotated[
    float | None,
    typer.Option(
        "--temperature",
        min=0.0,
        metavar="T",
        help="Sampling temperature; sent only when given (reasoning models refuse it).",
        rich_help_panel=MODEL_PANEL,
    ),
]
CacheOption = Annotated[
    CacheChoice,
    typer.Option(
        "--cache",
        **choices(CacheChoice),
        help="Record/replay cache mode for live model calls.",
        rich_help_panel=CACHE_PANEL,
    ),
]
CacheStore = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        metavar="PATH",
        help="Cache store: a .db file (default: logs.db, one row per call) or a folder of JSON files.",
        rich_help_panel=CACHE_PANEL,
    ),
]
NoLog = Annotated[
    bool,
    typer.Option(
        "--no-log",
        metavar="",
        help="Write no call rows: a .db cache (its entries are log rows) only replays; "
        "a folder cache still records.",
        rich_help_panel=CACHE_PANEL,
    ),
]
Concurrency = Annotated[
    int,
    typer.Option(
        "--concurrency",
        "-c",
        parser=at_least("--concurrency", 1),
        metavar="N",
        help="Articles in flight at once.",
        rich_help_panel=RUN_PANEL,
    ),
]
Rpm = Annotated[
    float | None,
    typer.Option(
        "--rpm",
        parser=_positive("--rpm", "requests a minute", "no cap"),
        metavar="N",
        help="Cap on live model requests per minute, re-asks included (default: no cap).",
        rich_help_panel=RUN_PANEL,
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        parser=_positive("--timeout", "seconds", f"{CallSettings.timeout:g} s"),
        metavar="SECONDS",
        help=f"Seconds to wait for one answer (default: {CallSettings.timeout:g}).",
        rich_help_panel=MODEL_PANEL,
    ),
]
MaxTokens = Annotated[
    int | None,
    typer.Option(
        "--max-tokens",
        min=1,
        metavar="N",
        help="Cap on output tokens per answer (default: the server's).",
        rich_help_panel=MODEL_PANEL,
    ),
]
MaxReasks = Annotated[
    int,
    typer.Option(
        "--max-reasks",
        min=0,
        metavar="N",
        help="Live re-asks after an answer fails validation.",
        rich_help_panel=RUN_PANEL,
    ),
]
GroundingReasks = Annotated[
    int,
    typer.Option(
        "--grounding-reasks",
        min=0,
        metavar="N",
        help="Live re-asks when quotes are not found in the article.",
        rich_help_panel=RUN_PANEL,
    ),
]
PromptName = Annotated[
    str,
    typer.Option(
        "--prompt",
        metavar="NAME",
        help="Prompt template name in prompts/.",
        rich_help_panel=MODEL_PANEL,
    ),
]
NoChunking = Annotated[
    bool,
    typer.Option(
        "--no-chunking",
        metavar="",
        help="Refuse articles longer than --chunk-chars.",
        rich_help_panel=RUN_PANEL,
    ),
]
ChunkChars = Annotated[
    int,
    typer.Option(
        "--chunk-chars",
        parser=at_least("--chunk-chars", 2 * CHUNK_OVERLAP),
        metavar="N",
        help=f"Longest text sent in one call; longer articles are chunked (chunks overlap by "
        f"{CHUNK_OVERLAP}).",
        rich_help_panel=RUN_PANEL,
    ),
]
AsJson = Annotated[
    bool,
    typer.Option(
        "--json", metavar="", help="Short for --format json.", rich_help_panel=OUTPUT_PANEL
    ),
]
ReportFormat = Annotated[
    TableOrJson,
    typer.Option(
        "--format", **choices(TableOrJson),
        help="stdout: tables, or JSON keyed by record type and field.",
        rich_help_panel=OUTPUT_PANEL,
    ),
]  # fmt: skip
AliasFile = Annotated[
    Path | None,
    typer.Option(
        "--aliases",
        help="Alias file (JSON: people, sides, places) merged over the shipped table "
        "(default $LLM_EXTRACT_ALIASES).",
        exists=True,
        dir_okay=False,
        rich_help_panel=MODEL_PANEL,
    ),
]


def call_settings(
    *,
    timeout: float | None = None,
    rpm: float | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> CallSettings:
    """`--timeout`, `--rpm`, `--max-tokens`, `--temperature` over the environment's."""
    return CallSettings.from_env(
        timeout=timeout, rpm=rpm, max_tokens=max_tokens, temperature=temperature
    )


def run_settings(
    cache: CacheChoice, store: Path | None, *, no_log: bool, **run: Any
) -> RunSettings:
    """`--cache`, `--cache-dir`, `--no-log` and the other run options as `RunSettings`."""
    return RunSettings.from_env(cache=cache.value, cache_dir=store, log=not no_log, **run)


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
    """Show the package logger's notices on stderr: `llm_extract` is the parent of every
    module's logger (`llm_extract.extraction`, ...). Once, however often it is called."""
    logger = logging.getLogger("llm_extract")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr(logging.INFO))


def add_data_row(table: Table, *cells: str) -> None:
    """A row of data, never markup: an error saying `[/b]` or `[redacted]` prints as it is."""
    table.add_row(*(Text(cell) for cell in cells))


_WORDS = {
    "str": "TEXT",
    "int": "N",
    "int range": "N",
    "float": "NUMBER",
    "float range": "NUMBER",
    "path": "PATH",
    "file": "FILE",
    "directory": "FOLDER",
}
"""typer's type labels (`<int range>`) as placeholders in words."""


def _plain_metavar(param: Any, ctx: Any) -> None:
    """A placeholder in words (`N`, `PATH`, `TEXT...`), never typer's `<bool>` or
    `<list[str]>`; a flag takes no value, so it shows none. An argument is shown by its
    name, so its type column is left empty."""
    if param.param_type_name == "argument":
        param.display_type_rich = _no_type
        return
    if param.metavar is not None or not hasattr(param, "display_type"):
        return
    if getattr(param, "is_flag", False):
        param.metavar = ""
        return
    label = param.display_type(ctx).removeprefix("<").removesuffix(">")
    many = label.startswith("list[")
    if many:
        label = label.removeprefix("list[").removesuffix("]")
    word = label if "|" in label else _WORDS.get(label.lower(), label.upper())
    param.metavar = f"{word}..." if many else word


def _no_type(ctx: Any) -> None:
    return None


class _PlainHelp:
    """`--help` with placeholders in words (see `_plain_metavar`), for commands and groups."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _plain_metavar(param, ctx)
        return params


class PlainHelpCommand(_PlainHelp, TyperCommand):
    """Every command's `--help`."""


class PlainHelpGroup(_PlainHelp, TyperGroup):
    """A command group's (`llm-extract --help`, `llm-extract batch --help`)."""
