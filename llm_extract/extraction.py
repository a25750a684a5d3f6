"""Extraction as a library call: `extract`, `extract_async` and `extract_article`.

`extract()` reads its sources (`sources.py`), builds one `Extractor`
(`pipeline.py`: article to result over any `StructuredModel` from `models.py`),
and runs every article through a `Runner` (`runner.py`): concurrently, each
result appended to the JSONL output as it finishes (`output.py`), and on a
re-run with the same output the articles already there skipped.

The names that used to live here are re-exported, so `from llm_extract.extraction
import Extractor, extract, iter_results, split_text, ...` keeps working.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from llm_extract.articles import Article, load_article
from llm_extract.chunks import CHUNK_OVERLAP, DEFAULT_CHUNK_CHARS, merge_extractions, split_text
from llm_extract.client import DEFAULT_API_KEY_ENV, ClientConfig
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.models import BASELINE, DEFAULT_MAX_REASKS, choose_model
from llm_extract.output import (
    ResultSink,
    iter_results,
    lock_output,
    open_output,
    read_results,
    resume_output,
    writable_output,
)
from llm_extract.pipeline import DEFAULT_GROUNDING_REASKS, Extractor
from llm_extract.runner import (
    STATUS_EVERY,
    EndpointStop,
    RunDisplay,
    Runner,
    collect_less,
    interrupted,
)
from llm_extract.schemas import ExtractionResult
from llm_extract.sources import (
    ArticleIds,
    Source,
    article_states,
    check_dates,
    expand_sources,
    load,
    read_stdin,
    source_id,
)

__all__ = [
    "BASELINE",
    "CHUNK_OVERLAP",
    "DEFAULT_CHUNK_CHARS",
    "DEFAULT_GROUNDING_REASKS",
    "DEFAULT_MAX_REASKS",
    "STATUS_EVERY",
    "Extractor",
    "ResultSink",
    "expand_sources",
    "extract",
    "extract_article",
    "extract_async",
    "iter_results",
    "lock_output",
    "merge_extractions",
    "open_output",
    "read_results",
    "resolve_model",
    "resume_output",
    "split_text",
    "writable_output",
]

log = logging.getLogger(__name__)


def resolve_model(
    model: str | None, *, base_url: str | None = None, api_key_env: str = DEFAULT_API_KEY_ENV
) -> str:
    """The model to run: the one named, else $LLM_EXTRACT_MODEL, else the offline baseline.

    The baseline is the default only when no endpoint or key is configured either;
    it is announced in one line on stderr (this module's logger, under `llm_extract`).
    """
    name, default = choose_model(model, base_url=base_url, api_key_env=api_key_env)
    if default:
        log.warning(
            "no model and no endpoint configured: using the offline baseline (--model baseline)"
        )
    return name


def _extractor(options: dict[str, Any]) -> Extractor:
    """The run's extractor; a default model is chosen (and announced) here."""
    model = options.get("model")
    if options.get("client") is None and (model is None or isinstance(model, str)):
        options["model"] = resolve_model(
            model,
            base_url=options.get("base_url"),
            api_key_env=options.get("api_key_env", DEFAULT_API_KEY_ENV),
        )
    return Extractor(**options)


async def extract_async(
    sources: Iterable[str | Path | Article],
    *,
    out: str | Path | None = None,
    concurrency: int = 8,
    rpm: float | None = None,
    progress: bool | None = None,
    status_every: float = STATUS_EVERY,
    retry_failed: bool = False,
    wait_for_lock: bool = False,
    published: dt.date | None = None,
    dates: Mapping[str, dt.date] | None = None,
    extractor: Extractor | None = None,
    **settings: Any,
) -> list[ExtractionResult]:
    """Extract many articles concurrently; see `extract`."""
    if concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    items = [read_stdin(i) for i in expand_sources(sources)]
    ids = ArticleIds()
    for item in items:
        key = source_id(item)
        if key is not None:
            ids.add(key, item)  # type: ignore[arg-type]
    if dates:
        check_dates(dates, ids)
    if rpm is not None:
        if extractor is not None:
            raise ConfigError("set rpm on the extractor's ClientConfig, not on the run")
        settings["config"] = replace(settings.get("config") or ClientConfig.from_env(), rpm=rpm)
    out_path = writable_output(out) if out is not None else None
    lock = await lock_output(out_path, wait=wait_for_lock) if out_path is not None else None
    try:
        owned = extractor is None
        extractor = extractor or _extractor(settings)
        try:
            return await _run(
                items,
                out_path,
                extractor,
                concurrency=concurrency,
                progress=progress,
                status_every=status_every,
                retry_failed=retry_failed,
                published=published,
                dates=dates,
            )
        finally:
            if owned:
                await extractor.aclose()
    finally:
        if lock is not None:
            lock.release()


async def _run(
    items: list[Source],
    out_path: Path | None,
    extractor: Extractor,
    *,
    concurrency: int,
    progress: bool | None,
    status_every: float,
    retry_failed: bool,
    published: dt.date | None,
    dates: Mapping[str, dt.date] | None,
) -> list[ExtractionResult]:
    """The run itself, under the results file's lock."""
    done: dict[str, ExtractionResult | None] = {}
    if out_path is not None:
        done = resume_output(
            out_path,
            [key for i in items if (key := source_id(i)) is not None],
            identity=extractor.identity,
            retry_failed=retry_failed,
            current=article_states(items, published, dates),
        )
    results: list[ExtractionResult | None] = [done.get(source_id(i) or "") for i in items]
    todo = [(n, item) for n, item in enumerate(items) if results[n] is None]
    if not todo and items:
        log.warning("%s: nothing to do, all %d articles are done", out_path, len(items))
    display = RunDisplay(extractor.model, len(todo), progress=progress, status_every=status_every)
    sink = open_output(out_path) if out_path is not None else None
    runner: Runner[tuple[int, Source]] = Runner(
        sink,
        concurrency=concurrency,
        progress=display,
        hold=EndpointStop(extractor.client, len(todo)),
    )

    async def work(job: tuple[int, Source]) -> ExtractionResult:
        item = job[1]
        try:
            article = load(item, published, dates)
        except ArticleError as err:
            return extractor.failed(
                None, str(err), "input", article_id=source_id(item) or "stdin", source=str(item)
            )
        return await extractor.extract(article)

    def keep(job: tuple[int, Source], result: ExtractionResult) -> None:
        results[job[0]] = result

    try:
        with display.shown(), collect_less():
            await runner.run(todo, work, keep)
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels the run, then re-raises
        log.warning("%s", interrupted(runner.written, len(todo), len(items) - len(todo), out_path))
        raise
    finally:
        if sink is not None:
            sink.close()
    return [r for r in results if r is not None]


def extract(sources: Iterable[str | Path | Article], **options: Any) -> list[ExtractionResult]:
    """Extract every source (paths, folders, '-' for stdin, or `Article`s); results in input order.

    Options: `model` (a name or a `StructuredModel`), `base_url`, `api_key_env`,
    `mode`, `cache` (a `Cache`), `call_log`, `prompt`, `max_reasks`,
    `grounding_reasks`, `chunking`, `chunk_chars`, `config` (a `ClientConfig`),
    and for the run `out` (JSONL, appended as articles finish, resumed on a
    re-run), `concurrency`, `rpm`, `progress` (a bar; default: when stderr is a
    terminal, else a status line every `status_every` seconds), `retry_failed`,
    `published` (the publication date of every article, over the one it states)
    and `dates` (publication dates by article id, e.g. from `read_dates`, over both).
    """
    return asyncio.run(extract_async(sources, **options))


def extract_article(article: Article | str | Path, **options: Any) -> ExtractionResult:
    """One article's result (a path, the text itself, or an `Article`); options as `extract`."""
    loaded = article if isinstance(article, Article) else load_article(article)

    async def run() -> ExtractionResult:
        extractor = _extractor(dict(options))
        try:
            return await extractor.extract(loaded)
        finally:
            await extractor.aclose()

    return asyncio.run(run())
