"""`llm-extract extract`: articles in, grounded and normalised results out."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import llm_extract
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
    call_settings,
    choices,
    run_settings,
    user_errors,
)
from llm_extract.cli.records import print_results
from llm_extract.settings import (
    DEFAULT_API_KEY_ENV,
    DEFAULT_CHUNK_CHARS,
    DEFAULT_GROUNDING_REASKS,
    DEFAULT_MAX_REASKS,
    DEFAULT_PROMPT,
    EndpointSettings,
    ExtractionSettings,
)

if TYPE_CHECKING:
    from llm_extract.schemas import ExtractionResult

__all__ = ["extract"]


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
    results_file: Annotated[
        Path | None,
        typer.Option(
            "--results",
            "--out",
            "-o",
            metavar="FILE",
            help="The JSONL results file, appended as articles finish; a re-run resumes it. "
            "--out is the old name.",
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
            help="stdout: json (default), jsonl, or table (default with --results).",
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
            help="With --results: redo articles that failed before.",
            rich_help_panel=RUN_PANEL,
        ),
    ] = False,
    wait_for_lock: Annotated[
        bool,
        typer.Option(
            "--wait-for-lock",
            help="With --results: when another run is writing the file, wait for it to end "
            "(then resume) instead of refusing.",
            rich_help_panel=RUN_PANEL,
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
        results = llm_extract.extract(
            paths,
            endpoint=EndpointSettings.from_env(
                model, base_url=base_url, api_key_env=api_key_env, mode=mode.value if mode else None
            ),
            call=call_settings(
                timeout=timeout, rpm=rpm, max_tokens=max_tokens, temperature=temperature
            ),
            extraction=ExtractionSettings.from_env(
                prompt=prompt,
                max_reasks=max_reasks,
                grounding_reasks=grounding_reasks,
                chunking=not no_chunking,
                chunk_chars=chunk_chars,
                published=published,
                dates=read_dates(dates) if dates else None,
                aliases=aliases,
            ),
            run=run_settings(
                cache,
                cache_dir,
                no_log=no_log,
                concurrency=concurrency,
                out=results_file,
                retry_failed=retry_failed,
                wait_for_lock=wait_for_lock,
            ),
        )
    chosen = (
        Format.json if as_json else output_format or (Format.table if results_file else Format.json)
    )
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
