"""`llm-extract extract`: articles in, grounded and normalised results out."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from llm_extract.aliases import use_aliases
from llm_extract.articles import read_dates
from llm_extract.cli._common import (
    DEFAULT_CONCURRENCY,
    MODEL_PANEL,
    OUTPUT_PANEL,
    RUN_PANEL,
    AliasFile,
    ApiKeyEnv,
    AsJson,
    BaseUrl,
    CacheChoice,
    CacheOption,
    CacheStore,
    ChunkChars,
    Concurrency,
    GroundingReasks,
    MaxReasks,
    MaxTokens,
    ModeOption,
    NoChunking,
    NoLog,
    PromptName,
    Rpm,
    Temperature,
    Timeout,
    announce_to_stderr,
    choices,
    model_calls,
    user_errors,
)
from llm_extract.cli.records import print_results
from llm_extract.client import DEFAULT_API_KEY_ENV
from llm_extract.extraction import (
    DEFAULT_CHUNK_CHARS,
    DEFAULT_GROUNDING_REASKS,
    DEFAULT_MAX_REASKS,
)
from llm_extract.extraction import extract as run_extract
from llm_extract.prompts import DEFAULT_PROMPT
from llm_extract.schemas import ExtractionResult


class Format(StrEnum):
    json = "json"
    jsonl = "jsonl"
    table = "table"


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


def extract(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH",
            help="Article files (text, HTML, PDF, DOCX) or folders; '-' reads one from stdin.",
            show_default=False,
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            metavar="MODEL",
            help="Model name served at --base-url, provider/model (openai/…, ollama/…), "
            "or 'baseline'. Default: $LLM_EXTRACT_MODEL, else the offline baseline when "
            "no endpoint is configured.",
            rich_help_panel=MODEL_PANEL,
        ),
    ] = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    mode: ModeOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="JSONL results, appended as articles finish; resumable.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    rpm: Rpm = None,
    cache: CacheOption = CacheChoice.use,
    cache_dir: CacheStore = None,
    max_reasks: MaxReasks = DEFAULT_MAX_REASKS,
    grounding_reasks: GroundingReasks = DEFAULT_GROUNDING_REASKS,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format",
            **choices(Format),
            help="stdout: json (default), jsonl, or table (default with --out).",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    as_json: AsJson = False,
    no_chunking: NoChunking = False,
    chunk_chars: ChunkChars = DEFAULT_CHUNK_CHARS,
    timeout: Timeout = None,
    max_tokens: MaxTokens = None,
    temperature: Temperature = None,
    prompt: PromptName = DEFAULT_PROMPT,
    retry_failed: Annotated[
        bool,
        typer.Option(
            metavar="",
            help="With --out: redo articles that failed before.",
            rich_help_panel=RUN_PANEL,
        ),
    ] = False,
    wait_for_lock: Annotated[
        bool,
        typer.Option(
            "--wait-for-lock",
            help="With --out: when another run is writing the file, wait for it to end "
            "(then resume) instead of refusing.",
        ),
    ] = False,
    no_log: NoLog = False,
    published: Annotated[
        dt.date | None,
        typer.Option(
            "--published",
            parser=_day,
            metavar="YYYY-MM-DD",
            help="Publication date of the articles (relative dates resolve against it), "
            "over the one they state.",
            rich_help_panel=RUN_PANEL,
        ),
    ] = None,
    dates: Annotated[
        Path | None,
        typer.Option(
            "--dates",
            metavar="CSV",
            help="Publication dates per file: rows of file,YYYY-MM-DD (over --published).",
            rich_help_panel=RUN_PANEL,
        ),
    ] = None,
    aliases: AliasFile = None,
) -> None:
    """Extract meetings, delegations and positions from articles with a model or the baseline."""
    announce_to_stderr()
    with user_errors():
        use_aliases(aliases)
        results = run_extract(
            paths,
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            mode=mode.value if mode else None,
            out=out,
            concurrency=concurrency,
            max_reasks=max_reasks,
            grounding_reasks=grounding_reasks,
            chunking=not no_chunking,
            chunk_chars=chunk_chars,
            prompt=prompt,
            retry_failed=retry_failed,
            wait_for_lock=wait_for_lock,
            published=published,
            dates=read_dates(dates) if dates else None,
            **model_calls(
                cache,
                cache_dir,
                no_log=no_log,
                timeout=timeout,
                rpm=rpm,
                max_tokens=max_tokens,
                temperature=temperature,
            ),
        )
    chosen = Format.json if as_json else output_format or (Format.table if out else Format.json)
    _print(results, chosen)
    failed = sum(r.status == "failed" for r in results)
    if failed:
        typer.secho(f"{failed} of {len(results)} articles failed", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)


def _print(results: list[ExtractionResult], chosen: Format) -> None:
    if chosen is Format.jsonl:
        for result in results:
            typer.echo(result.model_dump_json())
    elif chosen is Format.json:
        payload = [r.model_dump(mode="json") for r in results]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print_results(results)
