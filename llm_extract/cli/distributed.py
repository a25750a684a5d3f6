"""`llm-extract batch ray`: the extraction as a Ray Data pipeline, results as `extract` writes.

Over an OpenAI-compatible endpoint (`--base-url`), or with `--engine vllm` on vLLM
engines inside the Ray workers on the cluster's GPUs; JSONL or a Parquet folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from llm_extract.cli._common import (
    ApiKeyEnv,
    ChunkChars,
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
from llm_extract.errors import ConfigError
from llm_extract.settings import (
    DEFAULT_API_KEY_ENV,
    DEFAULT_CHUNK_CHARS,
    DEFAULT_GROUNDING_REASKS,
    DEFAULT_MAX_REASKS,
    DEFAULT_PROMPT,
    OUTPUT_FORMATS,
    EndpointSettings,
    ExtractionSettings,
)

if TYPE_CHECKING:
    from llm_extract.schemas import ExtractionResult


__all__ = ["ray_command"]


def ray_command(
    paths: Annotated[
        list[str], typer.Argument(help="Article files or folders every Ray worker can read.")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="The model to ask.")],
    results: Annotated[
        Path,
        typer.Option(
            "--results",
            "--out",
            "-o",
            metavar="PATH",
            help="The results: a JSONL file as extract writes, or a Parquet folder (a name "
            "ending .parquet, or --format parquet); a rerun skips the ids in it. --out is the "
            "old name.",
        ),
    ],
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="The OpenAI-compatible endpoint (…/v1); with --engine vllm, where the "
            "re-asks and further chunks go (without it they fail, saying so).",
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format", help=f"{' or '.join(OUTPUT_FORMATS)}; default by --results's name."
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="http: Ray's HTTP processor to --base-url; vllm: vLLM in the Ray workers "
            "on the cluster's GPUs, loading --model-source (needs Ray's 'llm' extra there)."
        ),
    ] = "http",
    model_source: Annotated[
        str | None,
        typer.Option(help="--engine vllm: the weights (Hugging Face id or path); default --model."),
    ] = None,
    engine_arg: Annotated[
        list[str] | None,
        typer.Option(
            help="--engine vllm: a vLLM engine argument KEY=VALUE (VALUE as JSON, else "
            "text), e.g. max_model_len=16384; repeat for more."
        ),
    ] = None,
    accelerator_type: Annotated[
        str | None, typer.Option(help="--engine vllm: the GPU type the engines need (A100, H100).")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            help="The Ray cluster to join ('auto': the local `ray start`); default: a "
            "new local Ray."
        ),
    ] = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            help="HTTP workers, or with --engine vllm engine replicas.",
        ),
    ] = 2,
    qps: Annotated[
        int | None, typer.Option("--qps", min=1, help="Requests per second per HTTP worker.")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            min=1,
            help="Rows per Ray batch; Ray's HTTP stage sends a batch's requests one by one "
            "(default 1); a vLLM engine takes 32 by default.",
        ),
    ] = None,
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
    """Extract on Ray Data (ray.data.llm's HTTP or vLLM processor); needs the 'ray' extra."""
    from llm_extract.distributed import RaySettings, connect, extract_to_file

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
            EndpointSettings.from_env(model, base_url=base_url, api_key_env=api_key_env),
            call_settings(max_tokens=max_tokens, timeout=timeout),
            extraction,
            body_model=body_model,
        )
        options = _engine_options(
            engine,
            base_url,
            model_source or model,
            engine_arg or [],
            accelerator_type,
            concurrency=concurrency,
            qps=qps,
            batch_size=batch_size,
        )
        connect(address)
        summary = extract_to_file(
            paths, settings, out=results, format=output_format, progress=progress, **options
        )
    typer.echo(
        f"{summary.out}: {summary.ok} ok, {summary.failed} failed, {summary.reasked} re-asked, "
        f"{summary.done_before} done before"
    )
    if summary.failed:
        raise typer.Exit(1)


def _engine_arg(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"--engine-arg {text!r}: write KEY=VALUE, e.g. max_model_len=16384")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def _engine_options(
    engine: str,
    base_url: str | None,
    model_source: str,
    engine_args: list[str],
    accelerator_type: str | None,
    *,
    concurrency: int,
    qps: int | None,
    batch_size: int | None,
) -> dict[str, object]:
    """`extract_to_file`'s options for the chosen engine, checked before Ray starts."""
    if engine == "http":
        if base_url is None:
            raise ConfigError("--engine http needs --base-url, the OpenAI-compatible endpoint")
        if engine_args or accelerator_type:
            raise ConfigError("--engine-arg and --accelerator-type are for --engine vllm")
        return {"concurrency": concurrency, "qps": qps, "batch_size": batch_size or 1}
    if engine != "vllm":
        raise ConfigError(f"--engine {engine!r}: use http or vllm")
    if qps is not None:
        raise ConfigError("--qps caps the HTTP workers; a vLLM engine takes --batch-size rows")
    from llm_extract.distributed import VLLMEngine

    vllm = VLLMEngine(
        model_source=model_source,
        engine_kwargs=dict(map(_engine_arg, engine_args)),
        replicas=concurrency,
        accelerator_type=accelerator_type,
        **({"batch_size": batch_size} if batch_size else {}),
    )
    return {"engine": vllm}
