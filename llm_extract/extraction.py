"""The pipeline: article -> prompt -> model -> validated, grounded, normalised result.

An `Extractor` holds what is built once per run (the client or the baseline,
the rendered prompt, the settings) and turns one `Article` into one
`ExtractionResult`, never raising for a bad article: a failure is a result
with `status="failed"` and the reason. Only a `ConfigError` (a wrong key, an
unknown model) stops a run, since every other article would fail the same way.

`extract()` runs many articles concurrently, writes each result to the JSONL
output as it finishes, and on a re-run with the same output skips the
articles already there. An article longer than `chunk_chars` is split into
overlapping chunks, each extracted and grounded on its own, its offsets moved
back to the article, and the records found twice in an overlap merged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from llm_extract.aliases import fold
from llm_extract.articles import ARTICLE_SUFFIXES, Article, load_article
from llm_extract.cache import Cache, CallLog
from llm_extract.client import DEFAULT_API_KEY_ENV, CallStats, Client, ClientConfig
from llm_extract.errors import (
    ArticleError,
    ConfigError,
    ExtractError,
    ModelOutputError,
    TransportError,
)
from llm_extract.ground import GroundingReport, check_spans, ground_extraction, iter_evidence
from llm_extract.normalise import normalise_extraction, person_key
from llm_extract.prompts import DEFAULT_PROMPT, Prompt, load_prompt
from llm_extract.results import iter_results  # the one results reader and its bad-line policy
from llm_extract.runlock import OutputLock, OutputLocked
from llm_extract.schemas import (
    ArticleExtraction,
    Delegation,
    Evidence,
    ExtractionResult,
    FailureKind,
    Meeting,
    Participant,
    Position,
    PromptInfo,
    schema_hash,
)
from llm_extract.undated import leave_open

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
    "open_output",
    "read_results",
    "resolve_model",
    "resume_output",
    "split_text",
    "writable_output",
]

log = logging.getLogger(__name__)

BASELINE = "baseline"
DEFAULT_CHUNK_CHARS = 12_000
"""About 4k tokens of Russian: room for the prompt and the answer in a 16k context."""
CHUNK_OVERLAP = 800
"""Characters two neighbouring chunks share, so a fact cut at the border is whole in one."""
DEFAULT_MAX_REASKS = 2
"""Re-asks per call after an answer that does not validate."""
DEFAULT_GROUNDING_REASKS = 1
"""Re-asks per article for quotes not found in the text."""
STATUS_EVERY = 30.0
"""Seconds between the one-line status a run prints when stderr is not a terminal."""


def resolve_model(
    model: str | None, *, base_url: str | None = None, api_key_env: str = DEFAULT_API_KEY_ENV
) -> str:
    """The model to run: the one named, else $LLM_EXTRACT_MODEL, else the offline baseline.

    The baseline is the default only when no endpoint or key is configured either;
    it is announced in one line on stderr (the `llm_extract` logger).
    """
    model = model or os.environ.get("LLM_EXTRACT_MODEL")
    if model:
        return model
    if base_url or os.environ.get("OPENAI_BASE_URL") or os.environ.get(api_key_env):
        raise ConfigError(
            "an endpoint or key is configured but no model is named: pass --model NAME "
            "(or set LLM_EXTRACT_MODEL), or --model baseline for the offline extractor"
        )
    log.warning(
        "no model and no endpoint configured: using the offline baseline (--model baseline)"
    )
    return BASELINE


class Extractor:
    """Everything built once per run, and `extract(article)` for each article."""

    def __init__(
        self,
        model: str | None = None,
        *,
        client: Client | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        mode: str | None = None,
        config: ClientConfig | None = None,
        cache: Cache | None = None,
        call_log: CallLog | None = None,
        prompt: str | Prompt = DEFAULT_PROMPT,
        max_reasks: int = DEFAULT_MAX_REASKS,
        grounding_reasks: int = DEFAULT_GROUNDING_REASKS,
        chunking: bool = True,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
    ) -> None:
        if max_reasks < 0 or grounding_reasks < 0:
            raise ConfigError("re-ask limits must be 0 or more")
        if chunk_chars < 2 * CHUNK_OVERLAP:
            raise ConfigError(f"chunk_chars must be at least {2 * CHUNK_OVERLAP}")
        self.model = (
            client.model
            if client is not None
            else resolve_model(model, base_url=base_url, api_key_env=api_key_env)
        )
        self.max_reasks = max_reasks
        self.grounding_reasks = grounding_reasks
        self.chunking = chunking
        self.chunk_chars = chunk_chars
        self.schema_hash = schema_hash()
        self._baseline: Any = None
        self._baseline_lock = asyncio.Lock()
        self.client: Client | None = None
        self.prompt: Prompt | None = None
        if self.model == BASELINE:
            from llm_extract.baseline import BaselineExtractor

            self._baseline = BaselineExtractor()
        else:
            self.prompt = load_prompt(prompt) if isinstance(prompt, str) else prompt
            self.client = client or Client(
                self.model,
                base_url=base_url,
                api_key=api_key,
                api_key_env=api_key_env,
                mode=mode,
                config=config,
                cache=cache,
                call_log=call_log,
            )

    @property
    def mode(self) -> str | None:
        return self.client.mode if self.client is not None else None

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def extract(self, article: Article) -> ExtractionResult:
        """One article's result; only a ConfigError escapes, every other failure is recorded."""
        started = time.perf_counter()
        stats = CallStats(article_id=article.id, prompt=self._prompt_info)
        warnings: list[str] = []
        extraction: ArticleExtraction | None = None
        error: str | None = None
        failure: FailureKind | None = None
        try:
            if self._baseline is not None:
                async with self._baseline_lock:  # natasha is not known to be thread-safe
                    started = time.perf_counter()  # another article's turn is not our latency
                    raw = await asyncio.to_thread(self._baseline.extract, article)
                extraction = self._ground_baseline(raw, article, warnings)
            else:
                extraction = await self._extract_llm(article, stats, warnings)
        except ConfigError:
            raise
        except ExtractError as err:
            error = str(err)
            failure = _failure_kind(err)
        except Exception as err:  # a bug must not take the batch down with it
            log.exception("internal error on %s", article.id)
            error = f"internal error ({type(err).__name__}: {err}); please report it"
        warnings.extend(stats.warnings)
        if error and self.client is not None:
            self.client.mark_failed(stats)  # a retry must ask the server, not replay these
        return ExtractionResult(
            article_id=article.id,
            source=article.source,
            published=article.published,
            model=self.model,
            mode=self.mode,
            status="failed" if error else "ok",
            error=error,
            failure=failure,
            extraction=extraction if not error else None,
            prompt=self._prompt_info,
            schema_hash=self.schema_hash,
            usage=stats.usage,
            attempts=stats.attempts,
            reasks=stats.reasks,
            latency_s=round(time.perf_counter() - started, 4),
            warnings=warnings,
            ungrounded=[
                path for path, evidence in iter_evidence(extraction) if not evidence.grounded
            ]
            if extraction is not None and not error
            else [],
        )

    @property
    def _prompt_info(self) -> PromptInfo | None:
        return self.prompt.info if self.prompt is not None else None

    def _ground_baseline(
        self, raw: ArticleExtraction, article: Article, warnings: list[str]
    ) -> ArticleExtraction:
        report = ground_extraction(raw, article.text)
        warnings.extend(_grounding_warnings(report))
        return self._finish(normalise_extraction(report.extraction, article), article, warnings)

    def _chunks(self, article: Article) -> list[tuple[int, str, list[dict[str, str]]]]:
        """(offset, text, first turns) per chunk; one chunk unless the article is long."""
        assert self.prompt is not None
        if len(article.text) > self.chunk_chars and not self.chunking:
            raise ArticleError(
                f"{article.source}: {len(article.text):,} characters is more than one call "
                f"takes ({self.chunk_chars:,}); allow chunking or raise --chunk-chars"
            )
        pieces = split_text(article.text, self.chunk_chars, CHUNK_OVERLAP)
        chunks = []
        for index, (offset, text) in enumerate(pieces, start=1):
            where = (index, len(pieces)) if len(pieces) > 1 else None
            user = self.prompt.user(text, published=article.published, chunk=where)
            chunks.append((offset, text, [{"role": "user", "content": user}]))
        return chunks

    def first_requests(self, article: Article) -> list[dict[str, Any]]:
        """The first request of each chunk, as the client would send it now (batch files)."""
        if self.client is None:
            raise ConfigError("the baseline sends no requests")
        return [
            self.client.request(self.prompt.system, turns) for *_, turns in self._chunks(article)
        ]

    async def _extract_llm(
        self, article: Article, stats: CallStats, warnings: list[str]
    ) -> ArticleExtraction:
        parts = []
        for offset, text, turns in self._chunks(article):
            part = await self._extract_text(text, turns, stats, warnings)
            parts.append(normalise_extraction(_shifted(part, offset), article))
        merged = parts[0] if len(parts) == 1 else merge_extractions(parts)
        return self._finish(merged, article, warnings)

    async def _extract_text(
        self, text: str, turns: list[dict[str, str]], stats: CallStats, warnings: list[str]
    ) -> ArticleExtraction:
        """Ask, validate, ground; re-ask for quotes not found in `text`."""
        assert self.client is not None and self.prompt is not None
        completion = await self.client.complete(
            self.prompt.system, turns, stats=stats, max_reasks=self.max_reasks
        )
        report = ground_extraction(completion.value, text)
        for _ in range(self.grounding_reasks):
            if report.complete:
                break
            try:
                completion = await self.client.follow_up(
                    completion, _grounding_problem(report.ungrounded), stats=stats,
                    max_reasks=self.max_reasks,
                )  # fmt: skip
            except ExtractError as err:
                if isinstance(err, ConfigError):
                    raise
                warnings.append(f"the re-ask for ungrounded quotes failed, kept the answer: {err}")
                break
            report = ground_extraction(completion.value, text)
        warnings.extend(_grounding_warnings(report))
        return report.extraction

    def _finish(
        self, extraction: ArticleExtraction, article: Article, warnings: list[str]
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


# --- chunks -------------------------------------------------------------------------


def split_text(text: str, size: int, overlap: int = CHUNK_OVERLAP) -> list[tuple[int, str]]:
    """(offset, chunk) pairs covering `text`, cut at paragraph or sentence ends, overlapping."""
    if len(text) <= size:
        return [(0, text)]
    chunks: list[tuple[int, str]] = []
    start = 0
    while True:
        end = min(start + size, len(text))
        if end < len(text):
            end = _cut(text, start + size // 2, end)
        chunks.append((start, text[start:end]))
        if end >= len(text):
            return chunks
        start = _begin(text, max(end - overlap, start + 1), end)


def _cut(text: str, lo: int, hi: int) -> int:
    """The last paragraph end in text[lo:hi], else the last sentence end, else a space."""
    for mark in ("\n", ". ", "! ", "? ", " "):
        at = text.rfind(mark, lo, hi)
        if at != -1:
            return at + len(mark)
    return hi


def _begin(text: str, lo: int, hi: int) -> int:
    """The first paragraph, sentence or word start in text[lo:hi), so a chunk opens cleanly
    and still overlaps the one before (which ends at `hi`)."""
    for mark in ("\n", ". ", "! ", "? ", " "):
        at = text.find(mark, lo, hi)
        if at != -1 and at + len(mark) < hi:
            return at + len(mark)
    return lo


def _shifted(extraction: ArticleExtraction, offset: int) -> ArticleExtraction:
    if offset == 0:
        return extraction

    def move(evidence: Evidence) -> Evidence:
        if evidence.start is None or evidence.end is None:
            return evidence
        return evidence.model_copy(
            update={"start": evidence.start + offset, "end": evidence.end + offset}
        )

    moved = extraction.model_copy(deep=True)
    for meeting in moved.meetings:
        meeting.evidence = [move(e) for e in meeting.evidence]
    for position in moved.positions:
        position.evidence = [move(e) for e in position.evidence]
        if position.quote is not None:
            position.quote = move(position.quote)
    return moved


def merge_extractions(parts: Sequence[ArticleExtraction]) -> ArticleExtraction:
    """One extraction from the chunks' extractions: a record found twice is kept once.

    Two records are one when their grounded evidence overlaps in the article, or,
    for meetings, when status, date, sides and people agree; for positions, when
    holder, side, stance and issue agree. The kept record gains the other's
    evidence and fills its empty fields from it.
    """
    meetings: list[Meeting] = []
    positions: list[Position] = []
    for part in parts:
        for meeting in part.meetings:
            _merge_into(meetings, meeting, _same_meeting, _absorb_meeting)
        for position in part.positions:
            _merge_into(positions, position, _same_position, _absorb_position)
    return ArticleExtraction(meetings=meetings, positions=positions)


R = TypeVar("R", Meeting, Position)


def _merge_into(
    kept: list[R], record: R, same: Callable[[R, R], bool], absorb: Callable[[R, R], None]
) -> None:
    """Fold `record` into its twin among `kept`, or keep a copy of it."""
    twin = next((k for k in kept if same(k, record)), None)
    if twin is None:
        kept.append(record.model_copy(deep=True))
    else:
        absorb(twin, record)


def _spans(evidence: Iterable[Evidence]) -> list[tuple[int, int]]:
    return [(e.start, e.end) for e in evidence if e.start is not None and e.end is not None]


def _overlap(a: Iterable[Evidence], b: Iterable[Evidence]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in _spans(a) for s2, e2 in _spans(b))


def _people(meeting: Meeting) -> frozenset[str]:
    names = []
    for delegation in meeting.delegations:
        if delegation.head is not None:
            names.append(delegation.head.name)
        names.extend(member.name for member in delegation.members)
    return frozenset(person_key(name) for name in names)


def _same_meeting(a: Meeting, b: Meeting) -> bool:
    if _overlap(a.evidence, b.evidence):
        return True
    people = _people(a)
    return (
        bool(people)
        and people == _people(b)
        and a.status == b.status
        and a.date == b.date
        and {d.side for d in a.delegations} == {d.side for d in b.delegations}
    )


def _holder_key(position: Position) -> str | None:
    return person_key(position.holder.name) if position.holder is not None else None


def _same_position(a: Position, b: Position) -> bool:
    if _overlap(a.evidence, b.evidence):
        return True
    return (
        _holder_key(a) == _holder_key(b)
        and a.side == b.side
        and a.stance == b.stance
        and fold(a.issue) == fold(b.issue)
    )


def _add_evidence(into: list[Evidence], new: Iterable[Evidence]) -> None:
    for evidence in new:
        if not _overlap([evidence], into) and all(e.text != evidence.text for e in into):
            into.append(evidence)


def _absorb_meeting(kept: Meeting, other: Meeting) -> None:
    _add_evidence(kept.evidence, other.evidence)
    kept.format = kept.format or other.format
    kept.date = kept.date or other.date
    kept.location = kept.location or other.location
    by_side = {d.side: d for d in kept.delegations}
    for delegation in other.delegations:
        mine = by_side.get(delegation.side)
        if mine is None:
            kept.delegations.append(delegation.model_copy(deep=True))
            continue
        mine.head = mine.head or delegation.head
        _add_people(mine, delegation.members)
    kept.topics.extend(t for t in other.topics if t not in kept.topics)
    kept.outcomes.extend(o for o in other.outcomes if o not in kept.outcomes)


def _add_people(delegation: Delegation, people: Iterable[Participant]) -> None:
    known = {person_key(p.name) for p in delegation.members}
    if delegation.head is not None:
        known.add(person_key(delegation.head.name))
    for person in people:
        if person_key(person.name) not in known:
            delegation.members.append(person)
            known.add(person_key(person.name))


def _absorb_position(kept: Position, other: Position) -> None:
    _add_evidence(kept.evidence, other.evidence)
    kept.quote = kept.quote or other.quote
    kept.holder = kept.holder or other.holder
    kept.side = kept.side or other.side


# --- runs -----------------------------------------------------------------------------


def expand_sources(sources: Iterable[str | Path | Article]) -> list[str | Path | Article]:
    """Folders become their article files (sorted); '-' is stdin; other items pass through.

    Files in a folder that are not articles (by suffix, see `ARTICLE_SUFFIXES`) are
    skipped, and how many and which kinds is said in one line.
    """
    expanded: list[str | Path | Article] = []
    for source in sources:
        if isinstance(source, Article) or str(source) == "-":
            expanded.append(source)
            continue
        path = Path(source)
        if not path.exists() and not path.is_symlink():
            raise ArticleError(f"{path}: no such file or folder")
        if not path.is_dir():
            expanded.append(path)
            continue
        try:
            entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        except OSError:
            expanded.append(path)  # cannot be listed: a failed result says why
            continue
        found = [p for p in entries if p.suffix.lower() in ARTICLE_SUFFIXES]
        files = [p for p in entries if not p.is_dir()]
        skipped = Counter(p.suffix.lower() or "no suffix" for p in files if p not in found)
        if skipped:
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
            log.warning(
                "%s: skipped %d files that are not articles (%s); articles are %s files",
                path, skipped.total(), kinds, "/".join(sorted(ARTICLE_SUFFIXES)),
            )  # fmt: skip
        if not found:
            raise ArticleError(
                f"{path}: a folder with no {'/'.join(sorted(ARTICLE_SUFFIXES))} files"
            )
        expanded.extend(found)
    return expanded


def read_results(path: str | Path) -> list[ExtractionResult]:
    return list(iter_results(path))


class ResultSink:
    """Results appended to a JSONL file, each line in one write(2) to a file opened for
    appending: a kill leaves a line whole or not at all, never half of it."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, result: ExtractionResult) -> None:
        data = memoryview((result.model_dump_json() + "\n").encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        os.close(self._fd)


def open_output(path: Path) -> ResultSink:
    """`path` opened to append results (after `resume_output` mended its last line)."""
    return ResultSink(path)


def _mend_last_line(path: Path) -> None:
    """Drop a last line a killed run left unfinished (cut anywhere, inside a UTF-8
    character too, with or without a newline after it), or end a whole one missing
    its newline; only the last line, so any other bad line is still refused."""
    with path.open("r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        end = size
        while end > 0:  # the end of the last non-blank line
            fh.seek(end - 1)
            if fh.read(1) not in b" \t\r\n":
                break
            end -= 1
        if end == 0:
            return
        block = 1 << 16
        scan = end
        keep = 0
        while scan > 0:  # its start: after the newline before it, reading backwards
            start = max(0, scan - block)
            fh.seek(start)
            at = fh.read(scan - start).rfind(b"\n")
            if at != -1:
                keep = start + at + 1
                break
            scan = start
        fh.seek(keep)
        try:
            ExtractionResult.model_validate_json(fh.read(end - keep))
        except ValueError:
            log.warning("%s: dropping an unfinished last line left by an interrupted run", path)
            fh.truncate(keep)
        else:
            if end == size:
                fh.write(b"\n")


class _Unread:
    """stdin that could not be read as an article: a failed result, not the run's end."""

    def __init__(self, error: ArticleError) -> None:
        self.error = error

    def __str__(self) -> str:
        return "<stdin>"


Source = str | Path | Article | _Unread


def _source_id(source: Source) -> str | None:
    if isinstance(source, Article):
        return source.id
    return None if isinstance(source, _Unread) or str(source) == "-" else Path(source).stem


def _stdin_read(source: str | Path | Article) -> Source:
    """stdin is read up front: its id is a hash of its text, needed before the run."""
    if isinstance(source, Article) or str(source) != "-":
        return source
    try:
        return load_article("-")
    except ArticleError as err:
        return _Unread(err)


def _load(
    source: Source,
    published: dt.date | None = None,
    dates: Mapping[str, dt.date] | None = None,
) -> Article:
    """The article, its publication date the one given for its id, else for the run,
    else the one it states."""
    if isinstance(source, _Unread):
        raise source.error
    given = (dates or {}).get(_source_id(source) or "") or published
    if isinstance(source, Article):
        return source.model_copy(update={"published": given}) if given else source
    return load_article(source, published=given)


def _failure_kind(err: ExtractError) -> FailureKind | None:
    """`ExtractionResult.failure` for an error that failed an article."""
    if isinstance(err, ModelOutputError):
        return err.failure
    if isinstance(err, TransportError):
        return "transport"
    if isinstance(err, ArticleError):
        return "input"
    if isinstance(err, ConfigError):
        return "config"
    return None


def _failed(source: Source, model: str, error: str) -> ExtractionResult:
    return ExtractionResult(
        article_id=_source_id(source) or "stdin",
        source=str(source),
        model=model,
        status="failed",
        error=error,
        failure="input",
    )


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
    items = [_stdin_read(i) for i in expand_sources(sources)]
    ids: dict[str, str] = {}
    for item in items:
        key = _source_id(item)
        if key is not None and key in ids:
            raise ConfigError(
                f"two inputs share the article id {key!r} ({ids[key]} and "
                f"{item.source if isinstance(item, Article) else item}); "
                "rename one, results are keyed by id"
            )
        if key is not None:
            ids[key] = item.source if isinstance(item, Article) else str(item)
    if rpm is not None:
        if extractor is not None:
            raise ConfigError("set rpm on the extractor's ClientConfig, not on the run")
        settings["config"] = replace(settings.get("config") or ClientConfig.from_env(), rpm=rpm)
    out_path = writable_output(out) if out is not None else None
    lock = await lock_output(out_path, wait=wait_for_lock) if out_path is not None else None
    try:
        return await _run(
            items,
            out_path,
            concurrency,
            progress,
            retry_failed,
            extractor,
            settings,
            status_every=status_every,
            published=published,
            dates=dates,
        )
    finally:
        if lock is not None:
            lock.release()


async def _run(
    items: list[Source],
    out_path: Path | None,
    concurrency: int,
    progress: bool | None,
    retry_failed: bool,
    extractor: Extractor | None,
    settings: dict[str, Any],
    *,
    status_every: float,
    published: dt.date | None,
    dates: Mapping[str, dt.date] | None,
) -> list[ExtractionResult]:
    """The run itself, under the results file's lock."""
    owned = extractor is None
    extractor = extractor or Extractor(**settings)
    done: dict[str, ExtractionResult] = {}
    if out_path is not None:
        done = resume_output(
            out_path,
            [key for i in items if (key := _source_id(i)) is not None],
            extractor=extractor,
            retry_failed=retry_failed,
        )
    results: list[ExtractionResult | None] = [done.get(_source_id(i) or "") for i in items]
    todo = [(n, item) for n, item in enumerate(items) if results[n] is None]
    if not todo and items:
        log.warning("%s: nothing to do, all %d articles are done", out_path, len(items))
    console = Console(stderr=True)
    show = console.is_terminal if progress is None else progress
    bar = Progress(
        TextColumn("[bold]extract[/bold] {task.fields[model]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not show,
    )
    status = _Status(extractor.model, len(todo), every=status_every if progress is None else None)
    queue: asyncio.Queue[tuple[int, Source]] = asyncio.Queue()
    for entry in todo:
        queue.put_nowait(entry)
    sink = open_output(out_path) if out_path is not None else None
    failed = finished = 0
    unreached: list[ExtractionResult] = []

    async def worker(task_id: Any) -> None:
        nonlocal failed, finished
        while True:
            try:
                index, item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                article = _load(item, published, dates)
            except ArticleError as err:
                result = _failed(item, extractor.model, str(err))
            else:
                result = await extractor.extract(article)
            if _endpoint_broken(extractor, result):
                unreached.append(result)  # not written: a re-run must try it again
                if len(unreached) >= min(_UNREACHED_STOP, len(todo)):
                    raise ConfigError(
                        f"{result.error}; stopped after {len(unreached)} articles failed "
                        "this way and the endpoint has answered no chat completion "
                        "(nothing was written for them; run again when the server is up "
                        "and the URL right)"
                    )
                continue
            results[index] = result
            if sink is not None:
                sink.write(result)
            finished += 1
            failed += result.status == "failed"
            bar.update(task_id, advance=1, failed=failed)
            if not show:
                status.advance(failed)

    try:
        with bar, _collect_less():
            task_id = bar.add_task("extract", total=len(todo), model=extractor.model, failed=0)
            try:
                async with asyncio.TaskGroup() as group:
                    for _ in range(min(concurrency, len(todo))):
                        group.create_task(worker(task_id))
            except ExceptionGroup as errors:  # a ConfigError stops every worker
                raise errors.exceptions[0] from None
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels the run, then re-raises
        log.warning("%s", _interrupted(finished, len(todo), len(items) - len(todo), out_path))
        raise
    finally:
        if sink is not None:
            sink.close()
        if owned:
            await extractor.aclose()
    return [r for r in results if r is not None]


def _interrupted(finished: int, todo: int, before: int, out: Path | None) -> str:
    done = f"interrupted: {finished} of {todo} articles finished in this run"
    if out is None:
        return f"{done}; nothing was kept (give --out to keep finished work)"
    earlier = f", {before} before it" if before else ""
    return (
        f"{done}{earlier}, all written to {out}; the articles in flight were dropped. "
        "Run the same command again to resume"
    )


async def lock_output(path: Path, *, wait: bool = False) -> OutputLock:
    """The exclusive lock on a results file for one run; with `wait`, queue behind the
    run that holds it (polled, so Ctrl-C stops the wait)."""
    announced = False
    while True:
        try:
            return OutputLock.acquire(path)
        except OutputLocked as busy:
            if not wait:
                raise
            if not announced:
                log.warning("%s: waiting for the run that writes it (pid %s)", path, busy.pid)
                announced = True
        await asyncio.sleep(_LOCK_POLL_S)


_LOCK_POLL_S = 0.2


class _RateColumn(ProgressColumn):
    """Articles per second (or per minute when slower than one a second)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed:
            return Text("-/s")
        return Text(f"{speed:.1f}/s" if speed >= 1 else f"{speed * 60:.1f}/min")


class _Status:
    """Where a run stands, as one log line at most every `every` seconds (None: never):
    a log file or CI console gets progress without a bar's control codes."""

    def __init__(self, model: str, total: int, *, every: float | None) -> None:
        self.model, self.total, self.every = model, total, every
        self.done = 0
        self.started = self.last = time.monotonic()

    def advance(self, failed: int) -> None:
        self.done += 1
        now = time.monotonic()
        if self.every is None or now - self.last < self.every:
            return
        self.last = now
        rate = self.done / max(now - self.started, 1e-9)
        eta = (self.total - self.done) / rate
        log.warning(
            "extract %s: %d/%d done, %d failed, %.1f articles/s, ETA %s",
            self.model, self.done, self.total, failed, rate, _clock(eta),
        )  # fmt: skip


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_UNREACHED_STOP = 3
"""Articles that may fail on an endpoint that never answered a chat completion before a run
stops."""


def _endpoint_broken(extractor: Extractor, result: ExtractionResult) -> bool:
    """A transport failure that only the endpoint can be at fault for (nothing listens
    there, or what answers serves no chat completions) while it has answered none in this
    run: it is down or mistyped, and retrying every article against it would only take time."""
    client = extractor.client
    return (
        result.failure == "transport"
        and client is not None
        and client.endpoint_fault is not None
        and not client.completed
    )


@contextmanager
def _collect_less() -> Iterator[None]:
    """Less cyclic garbage collection during a run (process-wide, restored after).

    What exists when the run starts (modules, schemas, the client) lives all run:
    frozen, the collector stops walking it. Many calls in flight keep their objects
    alive across collections, so the young generation is collected less often.
    Measured at 64 calls in flight: 0.6-1.0 ms of collection per call down to 0.15.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], _YOUNG_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


_YOUNG_THRESHOLD = 20_000


def writable_output(out: str | Path) -> Path:
    """`out` as a path a run can append to, checked before anything slow is built."""
    path = Path(out)
    if path.is_dir():
        raise ConfigError(
            f"--out {path} is a folder; give a file path such as {path}/results.jsonl"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the folder for --out {path}: {err.strerror}") from None
    return path


def resume_output(
    path: Path,
    ids: Collection[str],
    *,
    extractor: Extractor,
    retry_failed: bool = False,
    keep: bool = True,
) -> dict[str, ExtractionResult | None]:
    """Results already in `path` by article id (values None unless `keep`), for a re-run.

    Refuses a file made by another model, prompt or schema: one output holds
    comparable results only. With `retry_failed` the failures are removed first.
    A last line left unfinished by a killed run is dropped first (with a warning).
    It may rewrite `path`: call it holding the file's lock (`lock_output`).
    """
    if path.exists():
        _mend_last_line(path)
    prompt = extractor.prompt.info if extractor.prompt is not None else None
    done: dict[str, ExtractionResult | None] = {}
    failed: set[str] = set()
    kept: list[str] = []
    for result in iter_results(path):
        _check_resumable(path, result, extractor.model, prompt, extractor.schema_hash)
        if result.status == "failed":
            failed.add(result.article_id)
            if retry_failed:
                continue
        if retry_failed:
            kept.append(result.model_dump_json())
        done[result.article_id] = result if keep else None
    if retry_failed and failed:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        os.replace(tmp, path)
    finished = [key for key in ids if key in done]
    if finished:
        left = sum(key in failed for key in finished)
        note = f"; {left} failed; --retry-failed redoes them" if left else ""
        log.warning(
            "%s: resuming, %d of %d articles already done%s", path, len(finished), len(ids), note
        )
    return done


def _check_resumable(
    path: Path, result: ExtractionResult, model: str, prompt: PromptInfo | None, schema: str
) -> None:
    if result.model != model:
        raise ConfigError(
            f"{path} holds results of {result.model}, not {model}; give another --out"
        )
    if result.prompt is not None and (prompt is None or result.prompt.hash != prompt.hash):
        raise ConfigError(
            f"{path} holds results made with prompt {result.prompt.name} hash "
            f"{result.prompt.hash}, this run's is {prompt.hash if prompt else 'none'}: the prompt "
            "changed; give a new --out so runs stay comparable"
        )
    if result.schema_hash is not None and result.schema_hash != schema:
        raise ConfigError(
            f"{path} holds results made with schema hash {result.schema_hash}, this run's is "
            f"{schema}: the schema changed; give a new --out so runs stay comparable"
        )


def extract(sources: Iterable[str | Path | Article], **options: Any) -> list[ExtractionResult]:
    """Extract every source (paths, folders, '-' for stdin, or `Article`s); results in input order.

    Options: `model`, `base_url`, `api_key_env`, `mode`, `cache` (a `Cache`),
    `call_log`, `prompt`, `max_reasks`, `grounding_reasks`, `chunking`,
    `chunk_chars`, `config` (a `ClientConfig`), and for the run `out` (JSONL,
    appended as articles finish, resumed on a re-run), `concurrency`, `rpm`,
    `progress` (a bar; default: when stderr is a terminal, else a status line every
    `status_every` seconds), `retry_failed`, `published` (the publication date of
    every article, over the one it states) and `dates` (publication dates by article
    id, e.g. from `read_dates`, over both).
    """
    return asyncio.run(extract_async(sources, **options))


def extract_article(article: Article | str | Path, **options: Any) -> ExtractionResult:
    """One article's result (a path, the text itself, or an `Article`); options as `extract`."""
    loaded = article if isinstance(article, Article) else load_article(article)

    async def run() -> ExtractionResult:
        extractor = Extractor(**options)
        try:
            return await extractor.extract(loaded)
        finally:
            await extractor.aclose()

    return asyncio.run(run())
