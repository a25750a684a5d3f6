"""One article to one result: chunks, the model's answers, grounding, normalisation, checks.

An `Extractor` holds what is built once per run (the model, the settings) and
turns one `Article` into one `ExtractionResult`, never raising for a bad
article: a failure is a result with `status="failed"` and the reason. Only a
`ConfigError` (a wrong key, an unknown model) stops a run, since every other
article would fail the same way.

The flow is the same for every `StructuredModel`: the article is cut into
passages (one, unless it is long and the model is `chunked`), each answer is
grounded against its passage here and only here (quotes not found are put to
the model again through `revise`, up to `grounding_reasks` times), moved back to
article offsets, normalised, merged across chunks, and given a last span check.
The result's `mode` is the mode of the article's own last answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from llm_extract.articles import Article, text_hash
from llm_extract.cache import CacheMiss, CallLog, ReplayStore
from llm_extract.chunks import CHUNK_OVERLAP, merge_extractions, shifted, split_text
from llm_extract.client import CallStats, Client
from llm_extract.errors import (
    ArticleError,
    ConfigError,
    ExtractError,
    TransportError,
)
from llm_extract.ground import GroundingReport, check_spans, ground_extraction, iter_evidence
from llm_extract.models import (
    Answer,
    LLMModel,
    Passage,
    StructuredModel,
    open_model,
)
from llm_extract.normalise import normalise_extraction
from llm_extract.output import RunIdentity
from llm_extract.prompts import Prompt
from llm_extract.schemas import (
    ArticleExtraction,
    ExtractionResult,
    FailureKind,
    PromptInfo,
    schema_hash,
)
from llm_extract.settings import (
    DEFAULT_GROUNDING_REASKS,
    CallSettings,
    EndpointSettings,
    ExtractionSettings,
)
from llm_extract.undated import leave_open

__all__ = ["DEFAULT_GROUNDING_REASKS", "Extractor", "failure_kind"]

log = logging.getLogger(__name__)


class Extractor:
    """Everything built once per run, and `extract(article)` for each article.

    `model` is the endpoint to open the model from (`models.open_model`; a bare name
    stands for `EndpointSettings.from_env(name)`, None for `from_env()`), or a ready
    `StructuredModel`, or a ready `Client` to wrap as one. `call` and the stores
    `cache` and `call_log` are the opened client's; `extraction` says how an article
    is extracted (its `published` and `dates` are the run's, not the extractor's).
    """

    def __init__(
        self,
        model: EndpointSettings | str | StructuredModel | Client | None = None,
        call: CallSettings | None = None,
        extraction: ExtractionSettings | None = None,
        *,
        cache: ReplayStore | None = None,
        call_log: CallLog | None = None,
    ) -> None:
        settings = extraction or ExtractionSettings()
        if isinstance(model, Client):
            self.llm: StructuredModel = LLMModel(
                model, settings.prompt, max_reasks=settings.max_reasks
            )
        elif model is None or isinstance(model, str | EndpointSettings):
            endpoint = model if isinstance(model, EndpointSettings) else None
            self.llm = open_model(
                endpoint or EndpointSettings.from_env(model),
                call,
                prompt=settings.prompt,
                max_reasks=settings.max_reasks,
                cache=cache,
                call_log=call_log,
            )
        else:
            self.llm = model
        self.model = self.llm.name
        self.grounding_reasks = settings.grounding_reasks
        self.chunking = settings.chunking
        self.chunk_chars = settings.chunk_chars
        self.schema_hash = schema_hash()

    @property
    def client(self) -> Client | None:
        """The LLM model's client (None for a model without one, such as the baseline)."""
        return self.llm.client if isinstance(self.llm, LLMModel) else None

    @property
    def prompt(self) -> Prompt | None:
        return self.llm.prompt

    @property
    def prompt_info(self) -> PromptInfo | None:
        return self.llm.prompt.info if self.llm.prompt is not None else None

    @property
    def identity(self) -> RunIdentity:
        """What a results file must have been made with for this extractor to resume it."""
        return RunIdentity(self.model, self.prompt_info, self.schema_hash)

    @property
    def mode(self) -> str | None:
        """The mode the next call would use (a result records its own answers' mode)."""
        client = self.client
        return client.mode if client is not None else None

    async def aclose(self) -> None:
        await self.llm.aclose()

    def passages(self, article: Article) -> list[Passage]:
        """What the model is asked to read: the article, or its chunks when it is long."""
        if not self.llm.chunked:
            return [Passage(article, article.text)]
        if len(article.text) > self.chunk_chars and not self.chunking:
            raise ArticleError(
                f"{article.source}: {len(article.text):,} characters is more than one call "
                f"takes ({self.chunk_chars:,}); allow chunking or raise --chunk-chars"
            )
        pieces = split_text(article.text, self.chunk_chars, CHUNK_OVERLAP)
        count = len(pieces)
        return [
            Passage(article, text, offset, (index, count) if count > 1 else None)
            for index, (offset, text) in enumerate(pieces, start=1)
        ]

    def first_requests(self, article: Article) -> list[dict[str, Any]]:
        """The first request of each chunk, as the client would send it now (batch files)."""
        if not isinstance(self.llm, LLMModel):
            raise ConfigError(f"{self.model} sends no requests")
        return [self.llm.request(passage) for passage in self.passages(article)]

    async def extract(self, article: Article) -> ExtractionResult:
        """One article's result; only a ConfigError escapes, every other failure is recorded."""
        started = time.perf_counter()
        run = _ArticleRun(article, self.prompt_info)
        extraction: ArticleExtraction | None = None
        error: str | None = None
        failure: FailureKind | None = None
        try:
            extraction = await self._extract(article, run)
        except ConfigError:
            raise
        except ExtractError as err:
            error = str(err)
            failure = failure_kind(err)
        except Exception as err:  # a bug must not take the batch down with it
            log.exception("internal error on %s", article.id)
            error = f"internal error ({type(err).__name__}: {err}); please report it"
        run.warnings.extend(run.stats.warnings)
        if error:
            self.llm.failed(run.stats)  # a retry must ask the server, not replay these
        return self.result(
            article,
            status="failed" if error else "ok",
            error=error,
            failure=failure,
            extraction=extraction if not error else None,
            mode=run.mode if not error and run.mode is not None else self.mode,
            stats=run.stats,
            latency_s=round(time.perf_counter() - started - run.waited_s, 4),
            warnings=run.warnings,
        )

    def result(
        self,
        article: Article | None,
        *,
        status: str = "failed",
        error: str | None = None,
        failure: FailureKind | None = None,
        article_id: str | None = None,
        source: str | None = None,
        extraction: ArticleExtraction | None = None,
        mode: str | None = None,
        stats: CallStats | None = None,
        latency_s: float | None = None,
        warnings: Sequence[str] = (),
    ) -> ExtractionResult:
        """The one place a result is built, ok or failed (`article` None: it could not be
        read, and `article_id` and `source` say which)."""
        described = {"latency_s": latency_s} if latency_s is not None else {}
        if stats is not None:
            described.update(usage=stats.usage, attempts=stats.attempts, reasks=stats.reasks)
        return ExtractionResult(
            article_id=article.id if article is not None else article_id,
            source=article.source if article is not None else source,
            published=article.published if article is not None else None,
            model=self.model,
            mode=mode,
            status=status,
            error=error,
            failure=failure,
            extraction=extraction,
            prompt=self.prompt_info,
            schema_hash=self.schema_hash,
            text_hash=text_hash(article.text) if article is not None else None,
            warnings=list(warnings),
            ungrounded=[
                path for path, evidence in iter_evidence(extraction) if not evidence.grounded
            ]
            if extraction is not None
            else [],
            **described,
        )

    def failed(
        self,
        article: Article | None,
        reason: str,
        failure: FailureKind,
        *,
        article_id: str | None = None,
        source: str | None = None,
    ) -> ExtractionResult:
        """A failed result for an article no model saw (unreadable, refused by a batch)."""
        return self.result(
            article,
            error=reason,
            failure=failure,
            article_id=article_id,
            source=source,
            mode=self.mode,
        )

    async def _extract(self, article: Article, run: _ArticleRun) -> ArticleExtraction:
        parts = []
        for passage in self.passages(article):
            part = await self._extract_passage(passage, run)
            parts.append(normalise_extraction(shifted(part, passage.offset), article))
        merged = parts[0] if len(parts) == 1 else merge_extractions(parts)
        return _finish(merged, article, run.warnings)

    async def _extract_passage(self, passage: Passage, run: _ArticleRun) -> ArticleExtraction:
        """Ask, ground; put the quotes not found in the passage to the model again."""
        answer = run.take(await self.llm.extract(passage))
        if answer.error is not None:
            raise answer.error
        assert answer.extraction is not None
        report = ground_extraction(answer.extraction, passage.text)
        for _ in range(self.grounding_reasks):
            if report.complete:
                break
            revised = await self.llm.revise(answer, _grounding_problem(report.ungrounded))
            if revised is None:
                break
            run.take(revised)
            if revised.error is not None:
                run.warnings.append(
                    f"the re-ask for ungrounded quotes failed, kept the answer: {revised.error}"
                )
                break
            assert revised.extraction is not None
            answer = revised
            report = ground_extraction(answer.extraction, passage.text)
        run.warnings.extend(_grounding_warnings(report))
        return report.extraction


class _ArticleRun:
    """One article's answers as they come in: their stats added up, their last mode, and
    the time spent waiting for the model's turn."""

    def __init__(self, article: Article, prompt: PromptInfo | None) -> None:
        self.stats = CallStats(article_id=article.id, prompt=prompt)
        self.warnings: list[str] = []
        self.mode: str | None = None
        self.waited_s = 0.0

    def take(self, answer: Answer) -> Answer:
        _add_stats(self.stats, answer.stats)
        self.waited_s += answer.waited_s
        if answer.error is None and answer.mode is not None:
            self.mode = answer.mode
        return answer


_SUMMED = [f.name for f in fields(CallStats) if f.type in ("int", int)]
_JOINED = [f.name for f in fields(CallStats) if str(f.type).startswith("list")]


def _add_stats(total: CallStats, part: CallStats) -> None:
    """Counts added, lists (warnings, answer keys) joined: `part` is one answer's calls."""
    for name in _SUMMED:
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for name in _JOINED:
        getattr(total, name).extend(getattr(part, name))


def _finish(
    extraction: ArticleExtraction, article: Article, warnings: list[str]
) -> ArticleExtraction:
    """Last check: every span that is set must hold (ungrounded quotes are flagged already);
    relative dates without a publication date are left open, with a warning."""
    warnings.extend(leave_open(extraction, article))
    unset = {path for path, evidence in iter_evidence(extraction) if evidence.start is None}
    warnings.extend(
        f"span check: {problem}"
        for problem in check_spans(extraction, article.text)
        if problem.split(":", 1)[0] not in unset
    )
    return extraction


def _grounding_problem(quotes: Sequence[str]) -> str:
    listed = "\n".join(f"- {quote}" for quote in quotes)
    return (
        "These evidence quotes are not in the article, character for character:\n"
        f"{listed}\n"
        "Copy every quote exactly from the article between the marker lines (same words, "
        "same word forms, same punctuation), or drop the record it supports if the article "
        "does not state it. Answer with the complete corrected extraction."
    )


def _grounding_warnings(report: GroundingReport) -> list[str]:
    """Say which quotes were not found, and where the article's words replaced the model's."""
    return [
        *(
            f"quote not found in the article, left ungrounded: {q[:160]!r}"
            for q in report.ungrounded
        ),
        *(
            f"quote grounded fuzzily: the model wrote {said[:160]!r}, the article has {found[:160]!r}"
            for said, found in report.fuzzy
        ),
    ]


def failure_kind(err: ExtractError) -> FailureKind | None:
    """`ExtractionResult.failure` for an error that failed an article: the kind the error
    names (`ModelOutputError.failure`, or a class's own), else one by its class."""
    named = getattr(err, "failure", None)
    if named is not None:
        return named  # type: ignore[no-any-return]
    if isinstance(err, CacheMiss):  # a TransportError, but no endpoint is at fault
        return "not_recorded"
    if isinstance(err, TransportError):
        return "transport"
    if isinstance(err, ArticleError):
        return "input"
    if isinstance(err, ConfigError):
        return "config"
    return None
