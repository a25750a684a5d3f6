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

With a `VLLMEngine` the requests go instead to vLLM inside the Ray workers on the
cluster's GPUs (`vLLMEngineProcessorConfig`): the preprocess hands Ray the same
rendered request's messages, whose chat template Ray applies with the model's
tokenizer as vLLM's server does, and our JSON Schema as the structured-output
constraint (`sampling_params.structured_outputs.json`, vLLM's form of the server's
`response_format`). The engine's row is turned into the chat completion the server
would have answered, and the same postprocess finishes it. Re-asks and further
chunks are new requests known only once an answer is checked, which a one-pass Ray
pipeline cannot send back through the engine: they go to `base_url` (a vLLM server,
say) through the live client, and without one they fail as `batch collect` fails
them without an endpoint.

Between the steps a row is Arrow, which would rewrite the JSON Schema in the
request (a `null` for every key one `anyOf` branch lacks, `0` as `0.0`); so the
payload travels as one JSON string and `_ExactBody` posts that string as it is.
Rows out hold the article id, its status and the result as `ExtractionResult`
JSON (Arrow would rewrite a nested model; JSON keeps it exact). `extract_to_file`
streams them into the `extract` JSONL or a Parquet folder (`results_parquet`) and
skips ids already there on a rerun.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract.articles import Article, load_article
from llm_extract.batch import BATCH_MODE, BATCH_URL, BatchAnswers, answer_error, offline_client
from llm_extract.client import Client
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.output import check_resumable, open_output, resume_output, writable_output
from llm_extract.pipeline import Extractor
from llm_extract.runlock import OutputLock
from llm_extract.runner import Runner, Tally
from llm_extract.schemas import ExtractionResult
from llm_extract.settings import OUTPUT_FORMATS, CallSettings, EndpointSettings, ExtractionSettings
from llm_extract.sources import ArticleIds, expand_sources

if TYPE_CHECKING:
    from ray.data import Dataset

__all__ = [
    "OUTPUT_FORMATS",
    "RaySettings",
    "RaySummary",
    "VLLMEngine",
    "connect",
    "extract_dataset",
    "extract_to_file",
    "http_processor_config",
    "require_ray",
    "vllm_processor_config",
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

    endpoint: EndpointSettings
    """Its model names the results; its `base_url` (as given: the workers' environment is
    not the driver's) is the OpenAI-compatible endpoint of every request on the HTTP path,
    of the re-asks and further chunks on the vLLM path (None there: those fail, naming the
    fix); its key is the driver's (`ray_dataset` sets it), never in a repr or a log line."""
    call: CallSettings = field(default_factory=CallSettings)
    extraction: ExtractionSettings = field(default_factory=ExtractionSettings)
    body_model: str | None = None
    """body.model sent, for a server that serves the weights under another name."""

    def __post_init__(self) -> None:
        if self.endpoint.model is None:
            raise ConfigError("a Ray run needs a model: pass --model NAME")

    @property
    def model(self) -> str:
        assert self.endpoint.model is not None
        return self.endpoint.model

    @property
    def base_url(self) -> str | None:
        return self.endpoint.base_url

    @property
    def api_key(self) -> str | None:
        return self.endpoint.key


@functools.cache
def _renderer(settings: RaySettings) -> Extractor:
    """One offline extractor per worker process: it renders requests and never calls."""
    return Extractor(
        offline_client(settings.endpoint, settings.call), extraction=settings.extraction
    )


class _Finisher:
    """One live extractor per worker process, its batch answers and its event loop."""

    def __init__(self, settings: RaySettings) -> None:
        self.loop = asyncio.new_event_loop()
        self.answers = BatchAnswers(None, live=settings.base_url is not None)
        endpoint = replace(settings.endpoint, api_key=settings.api_key or "none", mode=BATCH_MODE)
        client = Client(endpoint, settings.call, cache=self.answers, keyed_by_endpoint=False)
        self.extractor = Extractor(client, extraction=settings.extraction)

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


@dataclass(frozen=True)
class VLLMEngine:
    """vLLM inside the Ray workers, one engine per replica on the cluster's GPUs."""

    model_source: str
    """The weights: a Hugging Face id or a path every GPU node can read."""
    engine_kwargs: dict[str, Any] = field(default_factory=dict)
    """vLLM engine arguments (`max_model_len`, `tensor_parallel_size`, ...)."""
    replicas: int = 1
    batch_size: int = 32
    accelerator_type: str | None = None
    """The GPU type the engines need ("A100", "H100"), or any."""


def http_processor_config(
    settings: RaySettings,
    *,
    concurrency: int = 2,
    qps: int | None = None,
    batch_size: int = 1,
) -> Any:
    """`HttpRequestProcessorConfig` posting our exact bodies to `settings.base_url`."""
    llm = require_ray()
    if not settings.base_url:
        raise ConfigError("the HTTP path needs --base-url, the OpenAI-compatible endpoint")
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    return llm.HttpRequestProcessorConfig(
        url=settings.base_url.rstrip("/") + BATCH_URL.removeprefix("/v1"),
        headers=headers,
        qps=qps,
        concurrency=concurrency,
        batch_size=batch_size,
        max_retries=settings.call.retries,
        base_retry_wait_time_in_s=settings.call.backoff,
        session_factory=_ExactBody,
        # The HTTP workers wait on the network: a whole CPU each would leave the
        # postprocess (our CPU work) none on a small node.
        http_request_stage={"num_cpus": _HTTP_WORKER_CPUS},
    )


def vllm_processor_config(engine: VLLMEngine) -> Any:
    """`vLLMEngineProcessorConfig` for `engine`; a failed row becomes a failed result."""
    llm = require_ray()
    return llm.vLLMEngineProcessorConfig(
        model_source=engine.model_source,
        engine_kwargs=dict(engine.engine_kwargs),
        concurrency=engine.replicas,
        batch_size=engine.batch_size,
        accelerator_type=engine.accelerator_type,
        # One bad article never stops the run: Ray marks the row and `_settle` files it.
        should_continue_on_error=True,
    )


_BODY_KEYS = {"model", "messages", "response_format", "temperature", "max_tokens"}
_PLACEHOLDER = [{"role": "user", "content": "."}]
"""The engine stage takes every row: one whose article could not be read asks for one
token, which postprocess drops (it files the reading error)."""


def _sampling(settings: RaySettings, schema: str, max_tokens: int | None) -> dict[str, Any]:
    """vLLM sampling params. The schema travels as JSON text (vLLM takes a string or a
    dict; Arrow would rewrite a dict). No max_tokens means up to the context's end, as
    vLLM's server does; vLLM's own default would be 16 tokens."""
    sampling: dict[str, Any] = {"max_tokens": max_tokens, "structured_outputs": {"json": schema}}
    if settings.call.temperature is not None:
        sampling["temperature"] = settings.call.temperature
    return sampling


def _vllm_preprocess(settings: RaySettings) -> Callable[[dict[str, Any]], dict[str, Any]]:
    render = _preprocess(settings)

    def preprocess(row: dict[str, Any]) -> dict[str, Any]:
        rendered = render(row)
        text = rendered.pop("payload")[_BODY]
        if not text:
            return {**rendered, "messages": _PLACEHOLDER, "sampling_params": _sampling(settings, "{}", 1)}  # fmt: skip
        body = json.loads(text)
        extra = set(body) - _BODY_KEYS
        if extra or body["response_format"].get("type") != "json_schema":
            raise ConfigError(
                f"the vLLM engine path cannot carry {sorted(extra) or body['response_format']} "
                "of the request body (it takes json_schema mode's messages and schema)"
            )
        schema = json.dumps(body["response_format"]["json_schema"]["schema"], ensure_ascii=False)
        return {
            **rendered,
            "messages": body["messages"],
            "sampling_params": _sampling(settings, schema, settings.call.max_tokens),
        }

    return preprocess


def _completion(row: dict[str, Any], settings: RaySettings) -> dict[str, Any]:
    """The chat completion vLLM's server would answer for an engine row. The row has no
    finish reason: reaching a set `max_tokens` is read as cut off ("length")."""
    generated = int(row.get("num_generated_tokens") or 0)
    cap = settings.call.max_tokens
    prompt = int(row.get("num_input_tokens") or 0)
    return {
        "id": f"vllm-{row.get('batch_uuid', '')}-{row.get('request_id', '')}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": settings.body_model or settings.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": row["generated_text"]},
                "finish_reason": "length" if cap is not None and generated >= cap else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": generated,
            "total_tokens": prompt + generated,
        },
    }


def _vllm_postprocess(settings: RaySettings) -> Callable[[dict[str, Any]], dict[str, Any]]:
    finish = _postprocess(settings)

    def postprocess(row: dict[str, Any]) -> dict[str, Any]:
        return finish({**row, "http_response": None if row["error"] else _completion(row, settings)})  # fmt: skip

    return postprocess


_RESULT_COLUMNS = ("article_id", "status", "reasks", "result")


def _settle(settings: RaySettings) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A row the engine failed skips Ray's postprocess: file it as a failed request."""
    finish = _postprocess(settings)

    def settle(row: dict[str, Any]) -> dict[str, Any]:
        failure = row.get("__inference_error__")
        if failure:
            row = finish({**row, "http_response": {"error": {"message": f"vLLM: {failure}"}}})
        return {name: row[name] for name in _RESULT_COLUMNS}

    return settle


def extract_dataset(
    dataset: Dataset,
    settings: RaySettings,
    *,
    engine: VLLMEngine | None = None,
    concurrency: int = 2,
    qps: int | None = None,
    batch_size: int = 1,
    api_key: str | None = None,
) -> Dataset:
    """A Dataset of results (`article_id`, `status`, `reasks`, `result` as JSON) per article row.

    Rows carry a `path` every worker can read, or an `id` and `text`. Without
    `engine`, `concurrency` HTTP workers send the requests to `settings.base_url`,
    at most `qps` per second each, `batch_size` rows at a time; with one, vLLM
    engines on the cluster's GPUs answer them.
    """
    llm = require_ray()
    key = api_key or settings.api_key
    settings = replace(settings, endpoint=replace(settings.endpoint, api_key=key))
    if engine is None:
        config = http_processor_config(
            settings, concurrency=concurrency, qps=qps, batch_size=batch_size
        )
        processor = llm.build_processor(
            config, preprocess=_preprocess(settings), postprocess=_postprocess(settings)
        )
        return processor(dataset)
    try:
        processor = llm.build_processor(
            vllm_processor_config(engine),
            preprocess=_vllm_preprocess(settings),
            postprocess=_vllm_postprocess(settings),
        )
    except ImportError as err:
        raise ConfigError(
            f"the vLLM engine path needs Ray's LLM extra ({err}): pip install 'ray[llm]' "
            "(vLLM, transformers) on the driver and the GPU nodes"
        ) from None
    return processor(dataset).map(_settle(settings))


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


def _output_format(out: Path, format: str | None) -> str:
    """`format`, else "parquet" for a `--results` ending in .parquet, else "jsonl"."""
    chosen = format or ("parquet" if out.suffix == ".parquet" else "jsonl")
    if chosen not in OUTPUT_FORMATS:
        raise ConfigError(f"--format {chosen!r}: use one of {', '.join(OUTPUT_FORMATS)}")
    return chosen


def _open_results(
    out: Path, format: str, ids: list[str], settings: RaySettings, part_rows: int | None
) -> tuple[set[str], Any]:
    """The ids already in `out` (refusing another model, prompt or schema) and a sink."""
    extractor = _renderer(settings)
    if format == "jsonl":
        return set(resume_output(out, ids, identity=extractor.identity, keep=False)), None
    from llm_extract.results_parquet import DEFAULT_PART_ROWS, ParquetSink, parquet_done

    check = functools.partial(check_resumable, out, identity=extractor.identity)
    done = parquet_done(out, check)
    return done, functools.partial(ParquetSink, out, part_rows=part_rows or DEFAULT_PART_ROWS)


def extract_to_file(
    sources: Iterable[str | Path | Article],
    settings: RaySettings,
    *,
    out: str | Path,
    format: str | None = None,
    part_rows: int | None = None,
    progress: Callable[[ExtractionResult], None] | None = None,
    **options: Any,
) -> RaySummary:
    """Run `extract_dataset` over files (or Articles) and stream the results into `out`.

    `format` "jsonl" appends to the `extract` JSONL; "parquet" adds parts of
    `part_rows` results to a folder (`results_parquet`); default by `out`'s suffix.
    Needs Ray initialised (`ray.init(address=...)`); a rerun skips ids in `out`.
    """
    import ray.data

    out_path = Path(out)
    chosen = _output_format(out_path, format)
    if chosen == "jsonl":
        out_path = writable_output(out_path)
    else:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    rows = dict(_rows(sources))
    lock = OutputLock.acquire(out_path)  # one run writes a results file at a time
    try:
        done, parquet_sink = _open_results(out_path, chosen, list(rows), settings, part_rows)
        summary = RaySummary(out=out_path, done_before=sum(key in done for key in rows))
        todo = [row for key, row in rows.items() if key not in done]
        if not todo:
            return summary
        results = extract_dataset(ray.data.from_items(todo), settings, **options)
        sink = open_output(out_path) if parquet_sink is None else parquet_sink()
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
