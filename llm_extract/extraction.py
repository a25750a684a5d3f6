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
import logging
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from llm_extract.aliases import use_aliases
from llm_extract.articles import Article, load_article
from llm_extract.chunks import merge_extractions, split_text
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.models import BASELINE, choose_model
from llm_extract.output import (
    ResultSink,
    iter_results,
    lock_output,
    open_output,
    read_results,
    resume_output,
    writable_output,
)
from llm_extract.pipeline import Extractor
from llm_extract.runner import (
    STATUS_EVERY,
    EndpointStop,
    RunDisplay,
    Runner,
    collect_less,
    interrupted,
)
from llm_extract.schemas import ExtractionResult
from llm_extract.settings import (
    CHUNK_OVERLAP,
    DEFAULT_CHUNK_CHARS,
    DEFAULT_GROUNDING_REASKS,
    DEFAULT_MAX_REASKS,
    CallSettings,
    EndpointSettings,
    ExtractionSettings,
    RunSettings,
    Settings,
    with_keywords,
)
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


def resolve_model(endpoint: EndpointSettings) -> str:
    """The model to run: the one `endpoint` names, else the offline baseline.

    The baseline is the default only when no endpoint or key is configured either;
    it is announced in one line on stderr (this module's logger, under `llm_extract`).
    """
    name, default = choose_model(endpoint)
    if default:
        log.warning(
            "no model and no endpoint configured: using the offline baseline (--model baseline)"
        )
    return name


def _extractor(settings: Settings, options: dict[str, Any]) -> Extractor:
    """The run's extractor; a default model is chosen (and announced) here. `options`:
    the stores (`cache`, `call_log`; from the run settings when left out and `opened`),
    or a ready `model` (a `StructuredModel`) or `client`."""
    ready = options.pop("client", None) or options.pop("model", None)
    model = ready or replace(settings.endpoint, model=resolve_model(settings.endpoint))
    return Extractor(
        model,
        settings.call,
        settings.extraction,
        cache=options.pop("cache", None),
        call_log=options.pop("call_log", None),
    )


def _stores(run: RunSettings | None, options: dict[str, Any]) -> None:
    """The run settings' cache and call log, unless the caller gave its own."""
    if run is not None:
        if "cache" not in options:
            options["cache"] = run.open_cache()
        if "call_log" not in options:
            options["call_log"] = run.open_call_log()


async def extract_async(
    sources: Iterable[str | Path | Article],
    endpoint: EndpointSettings | None = None,
    call: CallSettings | None = None,
    extraction: ExtractionSettings | None = None,
    run: RunSettings | None = None,
    *,
    extractor: Extractor | None = None,
    status_every: float = STATUS_EVERY,
    **options: Any,
) -> list[ExtractionResult]:
    """Extract many articles concurrently; see `extract`."""
    if extractor is None:
        _stores(run, options)
    settings = with_keywords(endpoint, call, extraction, run, options)
    if extractor is not None and settings.call is not call:
        raise ConfigError("set rpm on the extractor's CallSettings, not on the run")
    items = [read_stdin(i) for i in expand_sources(sources)]
    ids = ArticleIds()
    for item in items:
        key = source_id(item)
        if key is not None:
            ids.add(key, item)  # type: ignore[arg-type]
    if settings.extraction.dates:
        check_dates(settings.extraction.dates, ids)
    ran = settings.run
    out_path = writable_output(ran.out) if ran.out is not None else None
    lock = await lock_output(out_path, wait=ran.wait_for_lock) if out_path is not None else None
    try:
        owned = extractor is None
        extractor = extractor or _extractor(settings, options)
        if options:
            raise ConfigError(f"unknown options: {', '.join(sorted(options))}")
        try:
            return await _run(
                items, out_path, extractor, ran, settings.extraction, status_every=status_every
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
    run: RunSettings,
    extraction: ExtractionSettings,
    *,
    status_every: float,
) -> list[ExtractionResult]:
    """The run itself, under the results file's lock."""
    done: dict[str, ExtractionResult | None] = {}
    if out_path is not None:
        done = resume_output(
            out_path,
            [key for i in items if (key := source_id(i)) is not None],
            identity=extractor.identity,
            retry_failed=run.retry_failed,
            current=article_states(items, extraction.published, extraction.dates),
        )
    results: list[ExtractionResult | None] = [done.get(source_id(i) or "") for i in items]
    todo = [(n, item) for n, item in enumerate(items) if results[n] is None]
    if not todo and items:
        log.warning("%s: nothing to do, all %d articles are done", out_path, len(items))
    display = RunDisplay(
        extractor.model, len(todo), progress=run.progress, status_every=status_every
    )
    sink = open_output(out_path) if out_path is not None else None
    runner: Runner[tuple[int, Source]] = Runner(
        sink,
        concurrency=run.concurrency,
        progress=display,
        hold=EndpointStop(extractor.client, len(todo)),
    )

    async def work(job: tuple[int, Source]) -> ExtractionResult:
        item = job[1]
        try:
            article = load(item, extraction.published, extraction.dates)
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


def extract(
    sources: Iterable[str | Path | Article],
    endpoint: EndpointSettings | None = None,
    call: CallSettings | None = None,
    extraction: ExtractionSettings | None = None,
    run: RunSettings | None = None,
    **options: Any,
) -> list[ExtractionResult]:
    """Extract every source (paths, folders, '-' for stdin, or `Article`s); results in input order.

    The settings objects say which endpoint, how calls are made, how each article is
    extracted (`published`, the publication date of every article over the one it states,
    and `dates`, by article id, over both) and how the run goes (`out`: JSONL, appended as
    articles finish, resumed on a re-run); with `run`, its cache and call log are opened
    unless `cache` or `call_log` is given. Keyword options set the objects' fields
    (`settings.with_keywords`: `model`, `base_url`, `api_key_env`, `mode`, `config`,
    `rpm`, `prompt`, `max_reasks`, `chunk_chars`, `out`, `concurrency`, `progress`,
    `retry_failed`, ...); besides them: `cache`, `call_log`, `status_every`, a ready
    `model` (a `StructuredModel`) or `client`, or a ready `extractor`. `extraction.aliases`,
    when set, becomes the process's alias file, as `--aliases` does.
    """
    _use_aliases(extraction)
    return asyncio.run(extract_async(sources, endpoint, call, extraction, run, **options))


def extract_article(
    article: Article | str | Path,
    endpoint: EndpointSettings | None = None,
    call: CallSettings | None = None,
    extraction: ExtractionSettings | None = None,
    **options: Any,
) -> ExtractionResult:
    """One article's result (a path, the text itself, or an `Article`); settings as `extract`."""
    _use_aliases(extraction)
    settings = with_keywords(endpoint, call, extraction, None, options)
    loaded = article if isinstance(article, Article) else load_article(article)
    dates, published = settings.extraction.dates, settings.extraction.published
    given = (dates or {}).get(loaded.id) or published  # as a run dates its articles
    if given:
        loaded = loaded.model_copy(update={"published": given})

    async def run() -> ExtractionResult:
        extractor = _extractor(settings, options)
        try:
            return await extractor.extract(loaded)
        finally:
            await extractor.aclose()

    return asyncio.run(run())


def _use_aliases(extraction: ExtractionSettings | None) -> None:
    if extraction is not None and extraction.aliases is not None:
        use_aliases(extraction.aliases)
