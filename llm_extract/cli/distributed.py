"""`llm-extract batch ray`: the extraction as a Ray Data pipeline, results as `extract` writes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from llm_extract.cli._common import (
    ApiKeyEnv,
    ChunkChars,
    Concurrency,
    GroundingReasks,
    MaxReasks,
    MaxTokens,
    NoChunking,
    PromptName,
    Timeout,
    announce_to_stderr,
    call_settings,
    user_errors,
)
from llm_extract.settings import (
    DEFAULT_API_KEY_ENV,
    DEFAULT_CHUNK_CHARS,
    DEFAULT_GROUNDING_REASKS,
    DEFAULT_MAX_REASKS,
    DEFAULT_PROMPT,
    ExtractionSettings,
    client_config,
)

if TYPE_CHECKING:
    from llm_extract.schemas import ExtractionResult

__all__ = ["ray_command"]


def ray_command(
    paths: Annotated[
        list[str], typer.Argument(help="Article files or folders every Ray worker can read.")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="The model to ask.")],
    base_url: Annotated[
        str, typer.Option("--base-url", help="The OpenAI-compatible endpoint (…/v1).")
    ],
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
    address: Annotated[
        str | None,
        typer.Option(
            help="The Ray cluster to join ('auto': the local `ray start`); default: a "
            "new local Ray."
        ),
    ] = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    concurrency: Concurrency = 2,
    qps: Annotated[
        int | None, typer.Option("--qps", min=1, help="Requests per second per HTTP worker.")
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            min=1,
            help="Rows per Ray batch; Ray's HTTP stage sends a batch's requests one by one.",
        ),
    ] = 1,
    body_model: Annotated[
        str | None, typer.Option(help="body.model sent, e.g. the model a vLLM server serves.")
    ] = None,
    max_reasks: MaxReasks = DEFAULT_MAX_REASKS,
    grounding_reasks: GroundingReasks = DEFAULT_GROUNDING_REASKS,
    prompt: PromptName = DEFAULT_PROMPT,
    no_chunking: NoChunking = False,
    chunk_chars: ChunkChars = DEFAULT_CHUNK_CHARS,
    max_tokens: MaxTokens = None,
    timeout: Timeout = None,
) -> None:
    """Extract on Ray Data (ray.data.llm's HTTP processor); needs the optional 'ray' extra."""
    from llm_extract.distributed import RaySettings, connect, extract_to_jsonl

    announce_to_stderr()

    def progress(result: ExtractionResult) -> None:
        typer.echo(f"{result.article_id}: {result.status}", err=True)

    with user_errors():
        extraction = ExtractionSettings(
            prompt=prompt,
            max_reasks=max_reasks,
            grounding_reasks=grounding_reasks,
            chunking=not no_chunking,
            chunk_chars=chunk_chars,
        )
        settings = RaySettings(
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            prompt=extraction.prompt,
            max_reasks=extraction.max_reasks,
            grounding_reasks=extraction.grounding_reasks,
            chunking=extraction.chunking,
            chunk_chars=extraction.chunk_chars,
            config=client_config(call_settings(max_tokens=max_tokens, timeout=timeout)),
            body_model=body_model,
        )
        connect(address)
        summary = extract_to_jsonl(
            paths,
            settings,
            out=results,
            progress=progress,
            concurrency=concurrency,
            qps=qps,
            batch_size=batch_size,
        )
    typer.echo(
        f"{summary.out}: {summary.ok} ok, {summary.failed} failed, {summary.reasked} re-asked, "
        f"{summary.done_before} done before"
    )
    if summary.failed:
        raise typer.Exit(1)
