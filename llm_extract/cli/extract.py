"""`llm-extract extract`: articles in, grounded and normalised results out."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from llm_extract.aliases import use_aliases
from llm_extract.cli._common import (
    AliasFile,
    ApiKeyEnv,
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
    Timeout,
    add_data_row,
    announce_to_stderr,
    model_calls,
    user_errors,
)
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


def extract(
    paths: Annotated[
        list[str],
        typer.Argument(help="Article files or folders; '-' reads one article from stdin."),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model name served at --base-url, provider/model (openai/…, ollama/…), "
            "or 'baseline'. Default: $LLM_EXTRACT_MODEL, else the offline baseline when "
            "no endpoint is configured.",
        ),
    ] = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    mode: ModeOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="JSONL results, appended as articles finish; resumable."),
    ] = None,
    concurrency: Concurrency = 8,
    rpm: Rpm = None,
    cache: CacheOption = CacheChoice.use,
    cache_dir: CacheStore = None,
    max_reasks: MaxReasks = DEFAULT_MAX_REASKS,
    grounding_reasks: GroundingReasks = DEFAULT_GROUNDING_REASKS,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format", help="stdout: json (default), jsonl, or table (default with --out)."
        ),
    ] = None,
    no_chunking: NoChunking = False,
    chunk_chars: ChunkChars = DEFAULT_CHUNK_CHARS,
    timeout: Timeout = None,
    max_tokens: MaxTokens = None,
    prompt: PromptName = DEFAULT_PROMPT,
    retry_failed: Annotated[
        bool, typer.Option(help="With --out: redo articles that failed before.")
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
            **model_calls(
                cache, cache_dir, no_log=no_log, timeout=timeout, rpm=rpm, max_tokens=max_tokens
            ),
        )
    chosen = output_format or (Format.table if out else Format.json)
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
        Console().print(_table(results))


def _table(results: list[ExtractionResult]) -> Table:
    table = Table(title=f"{len(results)} articles")
    for column in ("article", "status", "meetings", "positions", "re-asks", "tokens", "s", "note"):
        table.add_column(column, overflow="fold")
    for r in results:
        extraction = r.extraction
        note = r.error or (f"{len(r.warnings)} warnings" if r.warnings else "")
        add_data_row(
            table,
            r.article_id,
            r.status,
            str(len(extraction.meetings)) if extraction else "-",
            str(len(extraction.positions)) if extraction else "-",
            str(r.reasks),
            f"{r.usage.input_tokens}/{r.usage.output_tokens}",
            f"{r.latency_s:.2f}" if r.latency_s is not None else "-",
            note,
        )
    return table
