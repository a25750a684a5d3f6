"""Batch runs: one request file for the OpenAI Batch API and vLLM's `run_batch`, and back.

`prepare` writes, per article (per chunk of a long one), the first request the
live path would send, as one Batch API line. The mode is `json_schema`: the
schema travels as `response_format`, which both engines honour (vLLM's
`run_batch` has no tool parser). `body.model` can be overridden to name the
model a vLLM server serves. Files are split at the Batch API's limits.

`collect` reads the answers line by line and hands each to the live pipeline
as the recorded answer to exactly that request: a `Cache` whose entries are the
batch answers, keyed by the same content address the client looks up. So
validation, re-asks (through the live endpoint, counted in the result),
grounding, normalisation and the JSONL result are the code `extract` runs, not
a copy. Each `custom_id` carries the request's cache key, so an answer to a
request that has changed since `prepare` (another prompt, schema, mode, model or
article text) is refused rather than filed under the wrong prompt.

Both ends stream: memory stays flat as the number of articles grows. `submit`,
`batch_status` and `download` (the OpenAI files and batches endpoints) live in
`batch_api.py` and are re-exported here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llm_extract.articles import Article, load_article
from llm_extract.batch_api import BATCH_URL, BatchInfo, batch_status, download, submit
from llm_extract.cache import Cache, CacheMiss, CacheMode, CallLog
from llm_extract.client import Client
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.output import lock_output, open_output, resume_output, writable_output
from llm_extract.pipeline import Extractor
from llm_extract.runner import Runner, Tally
from llm_extract.schemas import ExtractionResult
from llm_extract.settings import BATCH_MAX_BYTES as MAX_FILE_BYTES
from llm_extract.settings import BATCH_MAX_REQUESTS as MAX_FILE_REQUESTS
from llm_extract.settings import (
    CallSettings,
    EndpointSettings,
    ExtractionSettings,
    Settings,
    with_keywords,
)
from llm_extract.sources import ArticleIds, DuplicateId, article_states, expand_sources

__all__ = [
    "BATCH_MODE",
    "BATCH_URL",
    "MAX_FILE_BYTES",
    "MAX_FILE_REQUESTS",
    "BatchAnswers",
    "BatchInfo",
    "CollectSummary",
    "PrepareSummary",
    "answer_error",
    "batch_status",
    "collect",
    "collect_async",
    "download",
    "offline_client",
    "prepare",
    "submit",
]

log = logging.getLogger(__name__)

BATCH_MODE = "json_schema"
"""The schema as `response_format`: what the OpenAI Batch API and vLLM's run_batch both take."""

_CUSTOM_ID = re.compile(
    r"^(?P<article>.+?)(?:#(?P<index>\d+)/(?P<count>\d+))?@(?P<key>[0-9a-f]{16})$"
)
_KEY_CHARS = 16
_NO_ENDPOINT = "http://no-endpoint.invalid/v1"
"""Stands in for an endpoint the run never calls (prepare; collect without re-asks)."""


# --- prepare ----------------------------------------------------------------------------


@dataclass
class PrepareSummary:
    """What `prepare` wrote, and what it had to leave out and why."""

    files: list[Path] = field(default_factory=list)
    articles: int = 0
    requests: int = 0
    bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(source, reason) for each article left out; the rest of the batch goes on."""


class _SplitWriter:
    """JSONL lines into `out`, then `out.part2`, … once a file reaches a Batch API limit."""

    def __init__(self, out: Path, *, max_requests: int, max_bytes: int) -> None:
        self.out = out
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.files: list[Path] = []
        self._fh: Any = None
        self._tmp: Path | None = None
        self._lines = 0
        self._bytes = 0

    def _path(self, number: int) -> Path:
        if number == 1:
            return self.out
        return self.out.with_name(f"{self.out.stem}.part{number}{self.out.suffix}")

    def write(self, lines: Sequence[bytes]) -> None:
        """One article's lines, kept in one file."""
        size = sum(len(line) for line in lines)
        if len(lines) > self.max_requests or size > self.max_bytes:
            raise ArticleError(
                f"{len(lines)} requests of {size:,} bytes do not fit in one batch file "
                f"({self.max_requests:,} requests, {self.max_bytes:,} bytes)"
            )
        full = self._lines + len(lines) > self.max_requests or self._bytes + size > self.max_bytes
        if self._fh is None or full:
            self._roll()
        for line in lines:
            self._fh.write(line)
        self._lines += len(lines)
        self._bytes += size

    def _roll(self) -> None:
        self._finish()
        path = self._path(len(self.files) + 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(f".{path.name}.tmp")
        self._fh = self._tmp.open("wb")
        self.files.append(path)
        self._lines = self._bytes = 0

    def _finish(self) -> None:
        if self._fh is not None and self._tmp is not None:
            self._fh.close()
            os.replace(self._tmp, self.files[-1])
            self._fh = None

    def close(self) -> None:
        self._finish()
        part = re.compile(rf"{re.escape(self.out.stem)}\.part\d+{re.escape(self.out.suffix)}")
        for stale in self.out.parent.glob(f"{self.out.stem}.part*{self.out.suffix}"):
            if stale not in self.files and part.fullmatch(stale.name):
                log.warning("%s: removed, left by an earlier prepare with more parts", stale)
                stale.unlink()

    def abort(self) -> None:
        if self._fh is not None and self._tmp is not None:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)


def offline_client(
    endpoint: EndpointSettings, call: CallSettings | None = None, **options: Any
) -> Client:
    """A client in the batch mode that never calls an endpoint (prepare renders requests
    with it; a collect without an endpoint replays the batch answers); `options` go to
    `Client`. Its keys leave the server out: a batch file's keys must not depend on where
    the answers come from."""
    return Client(
        replace(endpoint, base_url=_NO_ENDPOINT, api_key="none", mode=BATCH_MODE),
        call,
        keyed_by_endpoint=False,
        **options,
    )


def _settings(
    endpoint: EndpointSettings | None,
    call: CallSettings | None,
    extraction: ExtractionSettings | None,
    keywords: dict[str, Any],
) -> Settings:
    """The objects with the keywords over them (`settings.with_keywords`); a model is needed."""
    settings = with_keywords(endpoint, call, extraction, None, keywords)
    if keywords:
        raise ConfigError(f"unknown options: {', '.join(sorted(keywords))}")
    if settings.endpoint.model is None:
        raise ConfigError("a batch needs a model: pass --model NAME")
    return settings


def _articles(sources: Iterable[str | Path | Article]) -> Iterator[tuple[str, Article | str]]:
    """(source, article or the reason it cannot be read), one at a time."""
    for item in expand_sources(sources):
        if isinstance(item, Article):
            yield item.source, item
            continue
        if str(item) == "-":
            raise ConfigError("batch runs read article files: save stdin to a file first")
        try:
            yield str(item), load_article(Path(item))
        except ArticleError as err:
            yield str(item), str(err)


def _custom_id(article_id: str, key: str, chunk: tuple[int, int] | None) -> str:
    """`<article id>[#i/n]@<first 16 hex of the request's cache key>`."""
    part = f"#{chunk[0]}/{chunk[1]}" if chunk else ""
    return f"{article_id}{part}@{key[:_KEY_CHARS]}"


def prepare(
    sources: Iterable[str | Path | Article],
    endpoint: EndpointSettings | None = None,
    call: CallSettings | None = None,
    extraction: ExtractionSettings | None = None,
    *,
    out: str | Path,
    body_model: str | None = None,
    max_requests: int = MAX_FILE_REQUESTS,
    max_bytes: int = MAX_FILE_BYTES,
    **keywords: Any,
) -> PrepareSummary:
    """Write one Batch API request line per article (per chunk of a long one).

    The endpoint's model is what results will name and what the cache keys hash (no
    endpoint is called); `keywords` set the objects' fields as `extract`'s do; `body_model`
    replaces `body.model` for a server that serves the weights under another
    name (vLLM's run_batch needs a served model). A file is closed and the next
    one started before either limit would be passed.
    """
    settings = _settings(endpoint, call, extraction, keywords)
    extractor = Extractor(
        offline_client(settings.endpoint, settings.call), extraction=settings.extraction
    )
    writer = _SplitWriter(Path(out), max_requests=max_requests, max_bytes=max_bytes)
    summary = PrepareSummary()
    ids = ArticleIds()
    try:
        for source, article in _articles(sources):
            if isinstance(article, str):
                summary.skipped.append((source, article))
                continue
            try:
                ids.add(article.id, source)
            except DuplicateId as twice:
                summary.skipped.append((source, str(twice)))
                continue
            try:
                lines = _request_lines(extractor, article, body_model)
                writer.write(lines)
            except ArticleError as err:
                summary.skipped.append((source, str(err)))
                continue
            summary.articles += 1
            summary.requests += len(lines)
            summary.bytes += sum(len(line) for line in lines)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    summary.files = writer.files
    return summary


def _request_lines(extractor: Extractor, article: Article, body_model: str | None) -> list[bytes]:
    assert extractor.client is not None
    requests = extractor.first_requests(article)
    lines = []
    for index, request in enumerate(requests, start=1):
        key = extractor.client.request_key(request)
        chunk = (index, len(requests)) if len(requests) > 1 else None
        body = {**request, "model": body_model} if body_model else request
        line = {
            "custom_id": _custom_id(article.id, key, chunk),
            "method": "POST",
            "url": BATCH_URL,
            "body": body,
        }
        lines.append((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
    return lines


# --- collect ----------------------------------------------------------------------------


class ReaskNeedsEndpoint(CacheMiss):
    """A batch answer needs a re-ask and there is no endpoint to send it to: a transport
    failure (the answer was recorded; what is missing is the endpoint)."""

    failure = "transport"


class _BatchAnswers:
    """Batch answers as recorded answers to exactly the requests they answer: a replay
    store (`llm_extract.cache.ReplayStore`) in front of the run's own cache.

    Everything else (the re-asks) goes to `inner`, the run's own cache, and then
    to the endpoint; without an endpoint (`live=False`) a request that is not a
    batch answer is a `CacheMiss` rather than a call.
    """

    mode: CacheMode = "use"

    def __init__(self, inner: Cache | None, *, live: bool) -> None:
        self.inner = inner
        self.live = live
        self.hits = 0
        self._answers: dict[str, list[Any]] = {}

    @property
    def records(self) -> bool:
        return self.inner is not None and self.inner.records

    @property
    def threaded(self) -> bool:
        return self.inner is not None and self.inner.threaded

    def add(self, key: str, body: dict[str, Any]) -> None:
        slot = self._answers.setdefault(key, [body, 0])
        slot[1] += 1

    def discard(self, key: str) -> None:
        slot = self._answers.get(key)
        if slot is not None:
            slot[1] -= 1
            if slot[1] <= 0:
                del self._answers[key]

    def lookup(self, model: str, key: str) -> dict[str, Any] | None:
        slot = self._answers.get(key)
        if slot is not None:
            self.hits += 1
            return {"key": key, "model": model, "response": slot[0], "spent": True}
        if not self.live:
            raise ReaskNeedsEndpoint(
                "this answer needs a re-ask and no endpoint is configured; pass --base-url "
                "(or set OPENAI_BASE_URL / OPENAI_API_KEY) to re-ask through the live path"
            )
        return self.inner.lookup(model, key) if self.inner is not None else None

    def store(self, **entry: Any) -> Path | None:
        return self.inner.store(**entry) if self.inner is not None else None

    def mark_failed(self, model: str, keys: Iterable[str]) -> None:
        if self.inner is not None:
            self.inner.mark_failed(model, keys)

    def logged_by(self, call_log: CallLog | None) -> bool:
        return self.inner is not None and self.inner.logged_by(call_log)


BatchAnswers = _BatchAnswers
"""The public name of the batch answers store (the Ray path files its answers in one)."""


@dataclass
class _Line:
    where: str
    custom_id: str
    article_id: str
    chunk: tuple[int, int] | None
    key: str
    body: dict[str, Any] | None
    error: str | None


@dataclass
class _Group:
    """The answers one article needs: one line, or one per chunk."""

    article_id: str
    lines: list[_Line]
    count: int = 1


class _BadLine(ValueError):
    pass


@dataclass(kw_only=True)
class CollectSummary(Tally):
    """What `collect` did with each line; the results themselves are in `out`."""

    out: Path
    lines: int = 0
    batch_errors: int = 0
    """Articles the batch engine failed (kept as failed results with its reason)."""
    done_before: int = 0
    missing: int = 0
    """Articles among the sources with no line in the responses."""
    skipped: int = 0
    """Lines not collected: unreadable, duplicate, or of no article among the sources."""
    problems: list[str] = field(default_factory=list)
    """The first reasons lines were skipped (at most `_PROBLEMS_KEPT`)."""

    def __call__(self, result: ExtractionResult) -> None:
        super().__call__(result)
        if result.status != "ok" and result.error:
            self.batch_errors += result.error.startswith("the batch request failed")

    def problem(self, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < _PROBLEMS_KEPT:
            self.problems.append(message)
        log.warning("%s", message)


_PROBLEMS_KEPT = 50


def _parse_line(raw: bytes, where: str) -> _Line:
    try:
        item = json.loads(raw)
    except ValueError:
        raise _BadLine(f"{where}: not JSON") from None
    if not isinstance(item, dict) or not isinstance(item.get("custom_id"), str):
        raise _BadLine(f"{where}: no custom_id; is this a batch output file?")
    cid = item["custom_id"]
    match = _CUSTOM_ID.match(cid)
    if match is None:
        raise _BadLine(f"{where}: custom_id {cid!r} was not written by llm-extract batch prepare")
    chunk = None
    if match["index"] is not None:
        chunk = (int(match["index"]), int(match["count"]))
        if not 1 <= chunk[0] <= chunk[1]:
            raise _BadLine(f"{where}: custom_id {cid!r} names chunk {chunk[0]} of {chunk[1]}")
    response = item.get("response") if isinstance(item.get("response"), dict) else {}
    body = response.get("body")
    status = response.get("status_code")
    error = answer_error(item.get("error"), status, body)
    return _Line(
        where=where,
        custom_id=cid,
        article_id=match["article"],
        chunk=chunk,
        key=match["key"],
        body=body if error is None else None,
        error=error,
    )


def answer_error(error: Any, status: Any, body: Any) -> str | None:
    """Why the batch engine gave no usable answer for a line, or None."""
    if error:
        if isinstance(error, dict):
            detail = error.get("message") or json.dumps(error, ensure_ascii=False)
            code = error.get("code")
            return f"{code}: {detail}" if code else str(detail)
        return str(error)
    if status not in (None, 200):
        inner = body.get("error", body) if isinstance(body, dict) else body
        message = inner.get("message") if isinstance(inner, dict) else inner
        return f"HTTP {status}: {message or 'no message'}"
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("choices"), list)
        or not body["choices"]
    ):
        return "the answer is not a chat completion (no choices)"
    return None


def _groups(files: Sequence[Path], summary: CollectSummary) -> Iterator[_Group]:
    """Answers grouped by article, in file order; a chunked article waits for all its chunks."""
    pending: dict[str, dict[int, _Line]] = {}
    counts: dict[str, int] = {}
    for path in files:
        try:
            fh = path.open("rb")
        except OSError as err:
            raise ConfigError(f"{path}: cannot read the responses ({err.strerror})") from None
        with fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                summary.lines += 1
                try:
                    line = _parse_line(raw, f"{path}:{number}")
                except _BadLine as bad:
                    summary.problem(str(bad))
                    continue
                if line.chunk is None:
                    yield _Group(line.article_id, [line])
                    continue
                index, count = line.chunk
                parts = pending.setdefault(line.article_id, {})
                if counts.setdefault(line.article_id, count) != count or index in parts:
                    summary.problem(
                        f"{line.where}: {line.custom_id!r} repeats or contradicts a chunk"
                    )
                    continue
                parts[index] = line
                if len(parts) == count:
                    del pending[line.article_id], counts[line.article_id]
                    yield _Group(line.article_id, [parts[i] for i in sorted(parts)], count)
    for article_id, parts in pending.items():
        yield _Group(article_id, [parts[i] for i in sorted(parts)], counts[article_id])


def _source_map(sources: Iterable[str | Path | Article]) -> dict[str, str | Path | Article]:
    found: dict[str, str | Path | Article] = {}
    ids = ArticleIds()
    for item in expand_sources(sources):
        if not isinstance(item, Article) and str(item) == "-":
            raise ConfigError("batch runs read article files: save stdin to a file first")
        key = item.id if isinstance(item, Article) else Path(item).stem
        ids.add(key, item)
        found[key] = item
    return found


class _Collector:
    """One collect run: the extractor, the batch answers, and one article at a time."""

    def __init__(self, extractor: Extractor, answers: _BatchAnswers) -> None:
        assert extractor.client is not None
        self.extractor = extractor
        self.client = extractor.client
        self.answers = answers

    async def one(self, source: str | Path | Article, group: _Group) -> ExtractionResult:
        article_id = group.article_id
        try:
            article = source if isinstance(source, Article) else load_article(Path(source))
        except ArticleError as err:
            return self.extractor.failed(
                None, str(err), "input", article_id=article_id, source=str(source)
            )
        errors = [f"{line.custom_id}: {line.error}" for line in group.lines if line.error]
        if errors:
            return self.extractor.failed(
                article, "the batch request failed: " + "; ".join(errors), "transport"
            )
        if len(group.lines) < group.count:
            return self.extractor.failed(
                article,
                f"only {len(group.lines)} of {group.count} chunk answers are in the responses",
                "transport",
            )
        try:
            requests = self.extractor.first_requests(article)
        except ArticleError as err:
            return self.extractor.failed(article, str(err), "input")
        keys = [self.client.request_key(request) for request in requests]
        if len(keys) != group.count or any(
            key[:_KEY_CHARS] != line.key for key, line in zip(keys, group.lines, strict=False)
        ):
            return self.extractor.failed(
                article,
                "the batch answered a request that differs from what this run would send "
                "(another prompt, schema, model, chunking or article text); collect with the "
                "settings of prepare, or prepare and run the batch again",
                "config",
            )
        for key, line in zip(keys, group.lines, strict=True):
            assert line.body is not None
            self.answers.add(key, line.body)
        try:
            return await self.extractor.extract(article)
        finally:
            for key in keys:
                self.answers.discard(key)


async def collect_async(
    responses: Iterable[str | Path],
    sources: Iterable[str | Path | Article],
    endpoint: EndpointSettings | None = None,
    call: CallSettings | None = None,
    extraction: ExtractionSettings | None = None,
    *,
    out: str | Path,
    cache: Cache | None = None,
    call_log: CallLog | None = None,
    **keywords: Any,
) -> CollectSummary:
    """Turn batch answers into results in `out`; see `collect`."""
    settings = _settings(endpoint, call, extraction, keywords)
    files = [Path(p) for p in responses]
    if not files:
        raise ConfigError("no responses to collect: pass --responses FILE or --batch ID")
    out_path = writable_output(out)
    by_id = _source_map(sources)
    live = settings.endpoint.configured
    extraction = settings.extraction
    if not live and (extraction.max_reasks or extraction.grounding_reasks):
        log.warning(
            "no endpoint configured: answers that fail validation or grounding are recorded "
            "as they are, not re-asked (pass --base-url to re-ask them live)"
        )
        extraction = replace(extraction, max_reasks=0, grounding_reasks=0)
    answers = _BatchAnswers(cache, live=live)
    stores: dict[str, Any] = {"cache": answers, "call_log": call_log}
    client = (
        Client(
            replace(settings.endpoint, mode=BATCH_MODE),
            settings.call,
            keyed_by_endpoint=False,  # the keys in the batch file's custom_ids
            **stores,
        )
        if live
        else offline_client(settings.endpoint, settings.call, **stores)
    )
    extractor = Extractor(client, extraction=extraction)
    try:
        lock = await lock_output(out_path)
    except BaseException:
        await extractor.aclose()
        raise
    try:
        return await _collect(files, out_path, by_id, extractor, answers, settings.run.concurrency)
    finally:
        lock.release()


async def _collect(
    files: list[Path],
    out_path: Path,
    by_id: dict[str, str | Path | Article],
    extractor: Extractor,
    answers: _BatchAnswers,
    concurrency: int,
) -> CollectSummary:
    """The collect run itself, under the results file's lock."""
    done = resume_output(
        out_path,
        list(by_id),
        identity=extractor.identity,
        keep=False,
        current=article_states(by_id.values()),
    )
    collector = _Collector(extractor, answers)
    summary = CollectSummary(out=out_path)
    seen: set[str] = set()

    def jobs() -> Iterator[tuple[str | Path | Article, _Group]]:
        for group in _groups(files, summary):
            where = group.lines[0].where
            if group.article_id in seen:
                summary.problem(f"{where}: a second answer for {group.article_id!r}, skipped")
                continue
            seen.add(group.article_id)
            if group.article_id in done:
                summary.done_before += 1
                continue
            source = by_id.get(group.article_id)
            if source is None:
                summary.problem(
                    f"{where}: no article {group.article_id!r} among the sources; pass "
                    "the paths given to prepare"
                )
                continue
            yield source, group

    sink = open_output(out_path)
    try:
        runner: Runner[tuple[str | Path | Article, _Group]] = Runner(
            sink, concurrency=concurrency, progress=summary
        )
        await runner.run(jobs(), lambda job: collector.one(*job))
    finally:
        sink.close()
        await extractor.aclose()
    summary.missing = sum(1 for key in by_id if key not in seen and key not in done)
    return summary


def collect(
    responses: Iterable[str | Path],
    sources: Iterable[str | Path | Article],
    endpoint: EndpointSettings | None = None,
    call: CallSettings | None = None,
    extraction: ExtractionSettings | None = None,
    **options: Any,
) -> CollectSummary:
    """Validate, ground and normalise batch answers into the JSONL results `extract` writes.

    `responses` are batch output files (OpenAI's output and error files, or vLLM
    `run_batch` output); `sources` the articles given to `prepare`. An answer
    that fails validation or grounding is re-asked through the live endpoint
    (`endpoint.configured`: a base URL or key given or in the environment) and counted in
    its result; without an endpoint it is recorded as it stands. A line the batch
    engine failed becomes a failed result with its reason. Re-running with the
    same `out` skips articles already there. Options as `extract`'s that apply.
    """
    return asyncio.run(collect_async(responses, sources, endpoint, call, extraction, **options))
