"""Extraction as a Ray Data pipeline: `ray.data.llm` sends the requests, our code does the rest.

A team with its own cluster drives batch inference with Ray Data; we plug into
its processors instead of writing a scheduler. The preprocess step renders the
first request of each article exactly as `batch prepare` does (the offline
client in json_schema mode, so the same prompt hash and request body as live
extraction). `HttpRequestProcessorConfig` posts it to any OpenAI-compatible URL
under Ray's rate cap and concurrency. The postprocess step files the answer as
the recorded answer to that request, the way `batch collect` does, and runs the
live `Extractor`: validation, grounding, normalisation, and the re-asks (sent
from the postprocess worker through the live client, with the same limits as
`--max-reasks`) are the code `extract` runs, not a copy. The further chunks of
an article longer than `chunk_chars` are sent by that worker too.

Between the steps a row is Arrow, which would rewrite the JSON Schema in the
request (a `null` for every key one `anyOf` branch lacks, `0` as `0.0`); so the
payload travels as one JSON string and `_ExactBody` posts that string as it is.
Rows out hold the article id, its status and the result as `ExtractionResult`
JSON (Arrow would rewrite a nested model; JSON keeps it exact). `extract_to_jsonl`
streams them into the `extract` output and skips ids already there on a rerun.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract.articles import Article, load_article
from llm_extract.batch import BATCH_MODE, BATCH_URL, BatchAnswers, answer_error, offline_client
from llm_extract.chunks import DEFAULT_CHUNK_CHARS
from llm_extract.client import DEFAULT_API_KEY_ENV, Client, ClientConfig
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.models import DEFAULT_MAX_REASKS
from llm_extract.output import open_output, resume_output, writable_output
from llm_extract.pipeline import DEFAULT_GROUNDING_REASKS, Extractor
from llm_extract.prompts import DEFAULT_PROMPT
from llm_extract.runlock import OutputLock
from llm_extract.runner import Runner, Tally
from llm_extract.schemas import ExtractionResult
from llm_extract.sources import ArticleIds, expand_sources

if TYPE_CHECKING:
    from ray.data import Dataset

__all__ = [
    "RaySettings",
    "RaySummary",
    "connect",
    "extract_dataset",
    "extract_to_jsonl",
    "require_ray",
]

RAY_EXTRA = "pip install 'llm-extract[ray]'"


def require_ray() -> Any:
    """`ray.data.llm`, or a ConfigError naming the extra to install."""
    try:
        import ray.data.llm
    except ImportError as err:
        raise ConfigError(
            f"Ray Data is not installed ({err}); install it with: {RAY_EXTRA}"
        ) from None
    return ray.data.llm


def connect(address: str | None = None, *, num_cpus: int | None = None) -> None:
    """Join the cluster at `address` ("auto": the one `ray start` made), or start a local one."""
    require_ray()
    import ray

    if not ray.is_initialized():
        ray.init(address=address, num_cpus=num_cpus, include_dashboard=False)


@dataclass(frozen=True)
class RaySettings:
    """What every worker needs to render requests and finish results (pickled to them)."""

    model: str
    base_url: str
    api_key_env: str = DEFAULT_API_KEY_ENV
    prompt: str = DEFAULT_PROMPT
    max_reasks: int = DEFAULT_MAX_REASKS
    grounding_reasks: int = DEFAULT_GROUNDING_REASKS
    chunking: bool = True
    chunk_chars: int = DEFAULT_CHUNK_CHARS
    config: ClientConfig = field(default_factory=ClientConfig)
    body_model: str | None = None
    """body.model sent, for a server that serves the weights under another name."""
    api_key: str | None = field(default=None, repr=False)
    """For the re-asks from the workers, whose environment is not the driver's; default
    `$api_key_env` on the driver. Never in a repr, so never in a log line."""

    def __post_init__(self) -> None:
        if self.max_reasks < 0 or self.grounding_reasks < 0:
            raise ConfigError("re-ask limits must be 0 or more")


@functools.cache
def _renderer(settings: RaySettings) -> Extractor:
    """One offline extractor per worker process: it renders requests and never calls."""
    client = offline_client(settings.model, mode=BATCH_MODE, config=settings.config)
    return Extractor(
        client=client,
        prompt=settings.prompt,
        chunking=settings.chunking,
        chunk_chars=settings.chunk_chars,
    )


class _Finisher:
    """One live extractor per worker process, its batch answers and its event loop."""

    def __init__(self, settings: RaySettings) -> None:
        self.loop = asyncio.new_event_loop()
        self.answers = BatchAnswers(None, live=True)
        client = Client(
            settings.model,
            base_url=settings.base_url,
            api_key=settings.api_key or os.environ.get(settings.api_key_env) or "none",
            api_key_env=settings.api_key_env,
            mode=BATCH_MODE,
            config=settings.config,
            cache=self.answers,
            keyed_by_endpoint=False,
        )
        self.extractor = Extractor(
            client=client,
            prompt=settings.prompt,
            max_reasks=settings.max_reasks,
            grounding_reasks=settings.grounding_reasks,
            chunking=settings.chunking,
            chunk_chars=settings.chunk_chars,
        )

    def finish(self, article: Article, key: str, answer: dict[str, Any]) -> ExtractionResult:
        self.answers.add(key, answer)
        try:
            return self.loop.run_until_complete(self.extractor.extract(article))
        finally:
            self.answers.discard(key)


@functools.cache
def _finisher(settings: RaySettings) -> _Finisher:
    return _Finisher(settings)


def _article(row: dict[str, Any]) -> Article:
    """A row's article: a `path` a worker can read, or `id` and `text` (and `published`)."""
    if row.get("path"):
        return load_article(Path(row["path"]))
    if not row.get("id") or not isinstance(row.get("text"), str):
        raise ArticleError("a row needs a `path`, or an `id` and a `text`")
    return Article(
        id=str(row["id"]),
        text=row["text"],
        published=row.get("published") or None,
        source=str(row.get("source") or row["id"]),
    )


def _row_id(row: dict[str, Any]) -> str:
    return Path(row["path"]).stem if row.get("path") else str(row.get("id"))


_HTTP_WORKER_CPUS = 0.25
_BODY = "llm_extract_body"
"""The payload's one field: the request body as JSON text, posted byte for byte."""


class _ExactBody:
    """An aiohttp session for Ray's HTTP stage that posts the body the payload carries."""

    def __init__(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession()

    async def __aenter__(self) -> _ExactBody:
        await self._session.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._session.__aexit__(*exc)

    def post(self, url: str, *, headers: dict[str, str], data: str) -> Any:
        body = json.loads(data)[_BODY]
        if not body:
            return _Unsent()
        return self._session.post(url, headers=headers, data=body.encode("utf-8"))


class _Unsent:
    """The answer to a row with no request (its article could not be read): nothing is sent."""

    status = 200
    reason = "OK"

    async def _self(self) -> _Unsent:
        return self

    def __await__(self) -> Any:
        return self._self().__await__()

    async def __aenter__(self) -> _Unsent:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    async def json(self) -> dict[str, Any]:
        return {"unsent": True}


def _preprocess(settings: RaySettings) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def preprocess(row: dict[str, Any]) -> dict[str, Any]:
        extractor = _renderer(settings)
        assert extractor.client is not None
        try:
            article = _article(row)
            request = extractor.first_requests(article)[0]
        except ArticleError as err:
            # The row still travels (one row in, one out) but nothing is posted for it;
            # postprocess records the reason and the batch goes on.
            return {
                "article": "",
                "article_id": _row_id(row),
                "source": row.get("path") or _row_id(row),
                "error": str(err),
                "key": "",
                "payload": {_BODY: ""},
            }
        body = {**request, "model": settings.body_model} if settings.body_model else request
        return {
            "article": article.model_dump_json(),
            "article_id": article.id,
            "source": article.source,
            "error": "",
            "key": extractor.client.request_key(request),
            "payload": {_BODY: json.dumps(body, ensure_ascii=False)},
        }

    return preprocess


def _postprocess(settings: RaySettings) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def postprocess(row: dict[str, Any]) -> dict[str, Any]:
        finisher = _finisher(settings)
        if row["error"]:
            result = finisher.extractor.failed(
                None, row["error"], "input", article_id=row["article_id"], source=row["source"]
            )
        else:
            article = Article.model_validate_json(row["article"])
            answer = row.get("http_response")
            problem = answer_error(None, None, answer)
            if isinstance(answer, dict) and "error" in answer and "choices" not in answer:
                inner = answer["error"]
                problem = inner.get("message") if isinstance(inner, dict) else str(inner)
            if problem:
                result = finisher.extractor.failed(
                    article, f"the request failed: {problem}", "transport"
                )
            else:
                result = finisher.finish(article, row["key"], answer)
        return {
            "article_id": result.article_id,
            "status": result.status,
            "reasks": result.reasks,
            "result": result.model_dump_json(),
        }

    return postprocess


def extract_dataset(
    dataset: Dataset,
    settings: RaySettings,
    *,
    concurrency: int = 2,
    qps: int | None = None,
    batch_size: int = 1,
    api_key: str | None = None,
) -> Dataset:
    """A Dataset of results (`article_id`, `status`, `reasks`, `result` as JSON) per article row.

    Rows carry a `path` every worker can read, or an `id` and `text`. `concurrency`
    HTTP workers send the requests, at most `qps` per second each.
    """
    llm = require_ray()
    key = api_key or settings.api_key or os.environ.get(settings.api_key_env)
    settings = replace(settings, api_key=key)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    config = llm.HttpRequestProcessorConfig(
        url=settings.base_url.rstrip("/") + BATCH_URL.removeprefix("/v1"),
        headers=headers,
        qps=qps,
        concurrency=concurrency,
        batch_size=batch_size,
        max_retries=settings.config.retries,
        base_retry_wait_time_in_s=settings.config.backoff,
        session_factory=_ExactBody,
        # The HTTP workers wait on the network: a whole CPU each would leave the
        # postprocess (our CPU work) none on a small node.
        http_request_stage={"num_cpus": _HTTP_WORKER_CPUS},
    )
    processor = llm.build_processor(
        config, preprocess=_preprocess(settings), postprocess=_postprocess(settings)
    )
    return processor(dataset)


@dataclass(kw_only=True)
class RaySummary(Tally):
    out: Path
    done_before: int = 0


def _rows(sources: Iterable[str | Path | Article]) -> Iterator[tuple[str, dict[str, Any]]]:
    ids = ArticleIds()
    for item in expand_sources(sources):
        if isinstance(item, Article):
            ids.add(item.id, item)
            yield item.id, {"path": "", "id": item.id, "text": item.text,
                            "published": item.published, "source": item.source}  # fmt: skip
        elif str(item) == "-":
            raise ConfigError("Ray runs read article files: save stdin to a file first")
        else:
            ids.add(Path(item).stem, item)
            yield Path(item).stem, {"path": str(Path(item).resolve()), "id": "", "text": None}


def extract_to_jsonl(
    sources: Iterable[str | Path | Article],
    settings: RaySettings,
    *,
    out: str | Path,
    progress: Callable[[ExtractionResult], None] | None = None,
    **options: Any,
) -> RaySummary:
    """Run `extract_dataset` over files (or Articles) and stream the results into `out`.

    Needs Ray initialised (`ray.init(address=...)`); a rerun skips ids in `out`.
    """
    import ray.data

    out_path = writable_output(out)
    rows = dict(_rows(sources))
    lock = OutputLock.acquire(out_path)  # one run writes a results file at a time
    try:
        done = resume_output(
            out_path, list(rows), identity=_renderer(settings).identity, keep=False
        )
        summary = RaySummary(out=out_path, done_before=sum(key in done for key in rows))
        todo = [row for key, row in rows.items() if key not in done]
        if not todo:
            return summary
        results = extract_dataset(ray.data.from_items(todo), settings, **options)
        sink = open_output(out_path)
        runner: Runner[Any] = Runner(sink, concurrency=1, progress=summary)
        try:
            for row in results.iter_rows():
                result = ExtractionResult.model_validate_json(row["result"])
                runner.emit(result)
                if progress is not None:
                    progress(result)
        finally:
            sink.close()
    finally:
        lock.release()
    return summary
