"""`llm-extract batch prepare|submit|status|collect`: the OpenAI Batch API and vLLM run_batch."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from llm_extract.cli._common import (
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
    NoChunking,
    NoLog,
    PromptName,
    Rpm,
    Timeout,
    add_data_row,
    announce_to_stderr,
    call_settings,
    run_settings,
    user_errors,
)
from llm_extract.settings import (
    BATCH_MAX_BYTES,
    BATCH_MAX_REQUESTS,
    DEFAULT_API_KEY_ENV,
    DEFAULT_CHUNK_CHARS,
    DEFAULT_CONCURRENCY,
    DEFAULT_GROUNDING_REASKS,
    DEFAULT_MAX_REASKS,
    DEFAULT_PROMPT,
    EndpointSettings,
    ExtractionSettings,
)

if TYPE_CHECKING:
    from llm_extract.batch import BatchInfo

__all__ = ["batch_app"]

batch_app = typer.Typer(
    help="Batch runs: request files for the OpenAI Batch API or vLLM run_batch, and their "
    "answers collected into the results extract writes.",
    no_args_is_help=True,
)

_Model = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="The model results name (and cache keys hash); the same for prepare and collect.",
    ),
]


@batch_app.command("prepare")
def prepare_command(
    paths: Annotated[list[str], typer.Argument(help="Article files or folders.")],
    model: _Model,
    requests: Annotated[
        Path,
        typer.Option(
            "--requests",
            "--out",
            "-o",
            metavar="FILE",
            help="The request file to write (JSONL, one request per line); further parts "
            "get .partN. --out is the old name.",
        ),
    ] = Path("requests.jsonl"),
    body_model: Annotated[
        str | None,
        typer.Option(help="body.model in each line, e.g. the model a vLLM server serves."),
    ] = None,
    max_tokens: MaxTokens = None,
    prompt: PromptName = DEFAULT_PROMPT,
    no_chunking: NoChunking = False,
    chunk_chars: ChunkChars = DEFAULT_CHUNK_CHARS,
    max_requests: Annotated[
        int, typer.Option(min=1, help="Requests per file (Batch API limit).")
    ] = BATCH_MAX_REQUESTS,
    max_bytes: Annotated[
        int, typer.Option(min=1, help="Bytes per file (Batch API limit).")
    ] = BATCH_MAX_BYTES,
) -> None:
    """Write one Batch API request line per article (json_schema response format)."""
    from llm_extract.batch import prepare

    announce_to_stderr()
    with user_errors():
        extraction = ExtractionSettings(
            prompt=prompt, chunking=not no_chunking, chunk_chars=chunk_chars
        )
        summary = prepare(
            paths,
            EndpointSettings(model=model),
            call_settings(max_tokens=max_tokens),
            extraction,
            out=requests,
            body_model=body_model,
            max_requests=max_requests,
            max_bytes=max_bytes,
        )
    for source, reason in summary.skipped:
        typer.secho(f"skipped {source}: {reason}", err=True, fg=typer.colors.YELLOW)
    typer.echo(
        f"{summary.requests} requests for {summary.articles} articles "
        f"({summary.bytes / 1e6:.1f} MB) in {len(summary.files)} file(s):"
    )
    for path in summary.files:
        typer.echo(f"  {path}")
    if summary.skipped:
        raise typer.Exit(1)


@batch_app.command("submit")
def submit_command(
    files: Annotated[list[Path], typer.Argument(help="Request files written by prepare.")],
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    as_json: AsJson = False,
) -> None:
    """Upload request files to the OpenAI Batch API and start one batch per file."""
    from llm_extract.batch import submit

    with user_errors():
        jobs = submit(
            files, endpoint=EndpointSettings.from_env(base_url=base_url, api_key_env=api_key_env)
        )
    _print_jobs(jobs, as_json)


@batch_app.command("status")
def status_command(
    ids: Annotated[list[str], typer.Argument(help="Batch ids printed by submit.")],
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    as_json: AsJson = False,
) -> None:
    """Show how far each batch has got."""
    from llm_extract.batch import batch_status

    with user_errors():
        jobs = batch_status(
            ids, endpoint=EndpointSettings.from_env(base_url=base_url, api_key_env=api_key_env)
        )
    _print_jobs(jobs, as_json)


@batch_app.command("collect")
def collect_command(
    paths: Annotated[
        list[str], typer.Argument(help="The article files or folders given to prepare.")
    ],
    model: _Model,
    results: Annotated[
        Path,
        typer.Option(
            "--results",
            "--out",
            "-o",
            metavar="FILE",
            help="The JSONL results file, as extract writes; resumable. --out is the old name.",
        ),
    ],
    responses: Annotated[
        list[Path] | None,
        typer.Option(help="A batch output file (vLLM run_batch, or downloaded); repeatable."),
    ] = None,
    batch: Annotated[
        list[str] | None,
        typer.Option(help="An OpenAI batch id: its output and error files are downloaded."),
    ] = None,
    save_dir: Annotated[
        Path | None,
        typer.Option(help="Where downloaded batch files go (default: beside --results)."),
    ] = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    rpm: Rpm = None,
    cache: CacheOption = CacheChoice.use,
    cache_dir: CacheStore = None,
    max_reasks: MaxReasks = DEFAULT_MAX_REASKS,
    grounding_reasks: GroundingReasks = DEFAULT_GROUNDING_REASKS,
    prompt: PromptName = DEFAULT_PROMPT,
    no_chunking: NoChunking = False,
    chunk_chars: ChunkChars = DEFAULT_CHUNK_CHARS,
    timeout: Timeout = None,
    no_log: NoLog = False,
    as_json: AsJson = False,
) -> None:
    """Validate, ground and normalise batch answers into results; re-ask invalid ones live."""
    from llm_extract.batch import collect, download

    announce_to_stderr()
    with user_errors():
        endpoint = EndpointSettings.from_env(model, base_url=base_url, api_key_env=api_key_env)
        extraction = ExtractionSettings(
            prompt=prompt,
            max_reasks=max_reasks,
            grounding_reasks=grounding_reasks,
            chunking=not no_chunking,
            chunk_chars=chunk_chars,
        )
        run = run_settings(cache, cache_dir, no_log=no_log, concurrency=concurrency, out=results)
        call = call_settings(timeout=timeout, rpm=rpm)
        files = list(responses or [])
        for batch_id in batch or []:
            folder = save_dir or results.parent
            files.extend(download(batch_id, folder=folder, endpoint=endpoint))
        summary = collect(
            files,
            paths,
            endpoint,
            call,
            extraction,
            out=results,
            concurrency=run.concurrency,
            cache=run.open_cache(),
            call_log=run.open_call_log(),
        )
    if as_json:
        typer.echo(json.dumps(asdict(summary), default=str, ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"{summary.out}: {summary.ok} ok, {summary.failed} failed "
            f"({summary.batch_errors} by the batch engine), {summary.reasked} re-asked live, "
            f"{summary.done_before} done before, {summary.missing} with no answer, "
            f"{summary.skipped} lines skipped"
        )
    if summary.failed or summary.skipped or summary.missing:
        raise typer.Exit(1)


def _print_jobs(jobs: list[BatchInfo], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([asdict(job) for job in jobs], ensure_ascii=False, indent=2))
        return
    table = Table()
    for column in ("batch", "status", "done", "failed", "file", "errors"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        add_data_row(
            table,
            job.id,
            job.status,
            f"{job.completed}/{job.total}",
            str(job.failed),
            job.input_file or "",
            "; ".join(job.errors[:3]),
        )
    Console().print(table)
