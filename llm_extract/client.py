"""The one module that talks to a model: instructor's modes over the openai client.

Why not `instructor.create()` per call: it rebuilds the JSON Schema and walks
the response model for async validators on every call (about 10 ms of CPU,
which caps a 2-core machine long before the network does). A `Client` asks
instructor's per-mode handlers (from its registry) once per run for the tool
definitions, response format or schema-bearing system message, then per call
only fills in the messages, and uses the same handlers to parse each answer
and to word each re-ask. Under that sits one raw `chat.completions` call per
attempt, wrapped in three things:

- the record/replay `Cache` (a hit never touches the network),
- tenacity transport retries: exponential backoff with jitter, `Retry-After`
  honoured on 429, retries on 5xx, timeouts, dropped connections and
  malformed bodies; none on 400/401/403/404,
- the `CallLog`.

Every attempt, answer, re-ask and token is counted into the caller's
`CallStats`. When a server rejects the structured-output mode (llama-cpp-
python's server answers HTTP 500 to `response_format: json_schema`) the client
moves to the next mode for the rest of the run and says so.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import functools
import json
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import httpx2
import openai
from instructor import Mode
from instructor.core import IncompleteOutputException
from instructor.v2.core.providers import Provider
from instructor.v2.core.registry import mode_registry
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential_jitter,
)

from llm_extract.cache import (
    CacheMiss,
    CallLog,
    ReplayStore,
    SharedMessages,
    cache_key,
    encode_messages,
    endpoint_identity,
    params_digest,
)
from llm_extract.errors import ConfigError, ModelOutputError, TransportError
from llm_extract.schemas import ArticleExtraction, PromptInfo, Usage, strict_schema

__all__ = [
    "COMPATIBLE_ENDPOINTS",
    "DEFAULT_API_KEY_ENV",
    "FALLBACK_MODES",
    "MODES",
    "CallStats",
    "Client",
    "ClientConfig",
    "Completion",
    "Pacer",
    "is_fixture_model",
    "public_url",
    "redact",
    "url_secrets",
]

log = logging.getLogger("llm_extract")

DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
"""The environment variable a key is read from unless another is named."""

MODES: dict[str, Mode] = {
    "tools": Mode.TOOLS,
    "json_schema": Mode.JSON_SCHEMA,
    "json": Mode.JSON,
    "md_json": Mode.MD_JSON,
}
"""Our names for instructor's modes (the CLI's `--mode` choices)."""

FALLBACK_MODES: dict[str, tuple[str, ...]] = {
    "tools": ("json_schema", "md_json"),
    "json_schema": ("tools", "md_json"),
    "json": ("md_json",),
    "md_json": (),
}
"""What to try, in order, when a server rejects a mode."""

COMPATIBLE_ENDPOINTS: dict[str, tuple[str, str]] = {
    "anthropic": ("https://api.anthropic.com/v1/", "ANTHROPIC_API_KEY"),
    "google": ("https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY"),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY"),
    "mistral": ("https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "xai": ("https://api.x.ai/v1", "XAI_API_KEY"),
    "fireworks": ("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    "cerebras": ("https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
}
"""Providers whose instructor builder needs their own SDK, reached instead through their
OpenAI-compatible endpoint (URL, key variable): one transport, one cache format for all."""

_MODE_NAMES = {mode: name for name, mode in MODES.items()}
_SLOT = "\x00article\x00"
_RESPONSE_FORMAT_MODES = {"json_schema", "json"}
_RESPONSE_FORMAT_WORDS = ("response_format", "json_schema", "schema", "grammar")
_MODE_FEATURES: dict[str, tuple[str, ...]] = {
    "tools": ("tool", "function"),
    "json_schema": _RESPONSE_FORMAT_WORDS,
    "json": (*_RESPONSE_FORMAT_WORDS, "json_object"),
    "md_json": (),
}
"""Words in a server's error that name what a mode sends (llama-server without --jinja:
HTTP 500 "tools param requires --jinja flag")."""
_REJECTING_STATUSES = (400, 422, 500, 501)
_BARE_REJECTIONS = 3
_DEAD_ENDPOINT_S = 1.5
"""How long refused connections are retried while the endpoint has never answered."""
_FIXTURE_PREFIX = "fixture-"


def is_fixture_model(model: str) -> bool:
    """Hand-written fixture models answer only from recorded conversations."""
    return model.startswith(_FIXTURE_PREFIX)


@dataclass(frozen=True)
class ClientConfig:
    """Transport and sampling settings; `from_env` reads `LLM_EXTRACT_<FIELD>` overrides."""

    timeout: float = 120.0
    """Seconds to wait for one answer."""
    retries: int = 4
    """Transport retries after the first attempt (re-asks are counted separately)."""
    backoff: float = 1.0
    """First backoff in seconds; doubles per retry, with as much jitter again."""
    backoff_max: float = 30.0
    retry_after_max: float = 300.0
    """A server asking for a longer wait than this fails the call instead."""
    rpm: float | None = None
    """Requests per minute across the run (attempts and re-asks included)."""
    temperature: float | None = None
    """Sent only when set: reasoning models accept none but their own default."""
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        """A zero or negative cap would silently mean no cap or no call, and nan or inf
        no wait at all or one forever: refuse them."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number (got {value})")
        positive = {"timeout": self.timeout, "rpm": self.rpm, "max_tokens": self.max_tokens}
        for name, value in positive.items():
            if value is not None and value <= 0:
                raise ConfigError(
                    f"{name} must be more than 0 (got {value:g}); leave it out for none"
                )
        if self.retries < 0:
            raise ConfigError(f"retries must be 0 or more (got {self.retries})")

    @classmethod
    def from_env(cls, **overrides: Any) -> ClientConfig:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"LLM_EXTRACT_{f.name.upper()}")
            if raw is not None:
                kind = int if f.name in ("retries", "max_tokens") else float
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    raise ConfigError(
                        f"LLM_EXTRACT_{f.name.upper()}={raw!r} is not a number"
                    ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


@dataclass
class CallStats:
    """One article's counts across every call it needed: the result's metadata."""

    article_id: str | None = None
    prompt: PromptInfo | None = None
    requests: int = 0
    """Answers received, live or replayed."""
    attempts: int = 0
    """HTTP attempts (transport retries included) plus replayed answers."""
    cached: int = 0
    reasks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    replayed_input_tokens: int = 0
    replayed_output_tokens: int = 0
    """Tokens of replayed answers: spent by the run that recorded them, not this one."""
    text_answers: int = 0
    """Tools-mode answers accepted from the message text (the server ignored tool_choice)."""
    warnings: list[str] = field(default_factory=list)
    answer_keys: list[str] = field(default_factory=list)
    """Cache keys of the answers this article used: marked if the article fails."""

    @property
    def usage(self) -> Usage:
        return Usage(
            requests=self.requests,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            replayed_input_tokens=self.replayed_input_tokens,
            replayed_output_tokens=self.replayed_output_tokens,
        )

    def add_answer(
        self, response: ChatCompletion, *, cached: bool, key: str | None, spent: bool = False
    ) -> None:
        """`spent`: a cached answer paid for on this run's behalf (a batch answer)."""
        self.requests += 1
        if key is not None:
            self.answer_keys.append(key)
        if cached:
            self.cached += 1
            self.attempts += 1
        usage = getattr(response, "usage", None)
        if usage is None:
            return
        tokens_in = getattr(usage, "prompt_tokens", 0) or 0
        tokens_out = getattr(usage, "completion_tokens", 0) or 0
        if cached and not spent:
            self.replayed_input_tokens += tokens_in
            self.replayed_output_tokens += tokens_out
        else:
            self.input_tokens += tokens_in
            self.output_tokens += tokens_out


class Pacer:
    """Evenly spaced request starts under a requests-per-minute cap.

    `clock` and `sleep` default to the running loop's; a test passes its own.
    """

    def __init__(
        self,
        rpm: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interval = 60.0 / rpm
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")

    async def wait(self) -> float:
        """Wait for the next free slot; returns the slot's time on the clock."""
        now = self._clock() if self._clock else asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)
        return slot


@dataclass
class Completion:
    """A validated answer with what it takes to continue the conversation."""

    value: BaseModel
    response: ChatCompletion
    request: dict[str, Any]
    mode: str
    prepared: _Prepared = field(repr=False)


@dataclass
class _Prepared:
    """A mode's fixed request part, built once: schema, tools, system message."""

    mode: str
    handlers: Any
    response_model: type[BaseModel]
    params: dict[str, Any]
    digest: str
    body_head: bytes
    """The request body up to its messages: encoded once, the schema included."""
    head: list[dict[str, Any]]
    shared: SharedMessages
    """`head` encoded and hashed once: stored once by the cache and the log."""
    slot: dict[str, Any]
    wrap: tuple[str, str]
    tail: list[dict[str, Any]]
    sampling: dict[str, Any]
    """What the cache entry shows of the parameters (the schema is in the key only)."""

    def messages(self, turns: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        first, *rest = turns
        before, after = self.wrap
        filled = {**self.slot, "content": before + first["content"] + after}
        return [*self.head, filled, *self.tail, *rest]


class _ModeRejected(Exception):
    def __init__(self, mode: str, reason: str) -> None:
        super().__init__(reason)
        self.mode = mode
        self.reason = reason


class _Malformed(Exception):
    """A 2xx answer that is not a chat completion: retried like a dropped connection."""


class _Deadline(Exception):
    """An attempt ran past the timeout in all (a server trickling its answer byte by byte
    resets httpx's per-read timeout forever): retried like a timeout."""


class Client:
    """One model behind one endpoint, built once per run and shared by all calls.

    `model` is a plain name served at `base_url` (else $OPENAI_BASE_URL; Ollama,
    vLLM, llama.cpp, LM Studio) or `provider/model` for instructor's
    `from_provider` (openai, ollama, ... whose client is OpenAI-compatible).
    The key is read from `api_key`, else the environment variable `api_key_env`.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        mode: str | None = None,
        config: ClientConfig | None = None,
        cache: ReplayStore | None = None,
        call_log: CallLog | None = None,
        http_client: httpx2.AsyncClient | None = None,
        response_model: type[BaseModel] = ArticleExtraction,
        keyed_by_endpoint: bool = True,
        pacer: Pacer | None = None,
    ) -> None:
        """`keyed_by_endpoint=False` leaves the server out of cache keys (batch files,
        whose keys must not depend on where the answers come from)."""
        if mode is not None and mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
        self.model = model
        self.config = config or ClientConfig.from_env()
        self.cache = cache
        self.call_log = call_log
        self._logged_is_recorded = cache is not None and cache.logged_by(call_log)
        """One store: the log row of a live call is its cache entry, so the cache writes nothing."""
        self.response_model = response_model
        self._api_key_env = api_key_env
        prefix, _, rest = model.partition("/")
        if rest and prefix in COMPATIBLE_ENDPOINTS and api_key_env == DEFAULT_API_KEY_ENV:
            api_key_env = COMPATIBLE_ENDPOINTS[prefix][1]
            self._api_key_env = api_key_env
        key = api_key or os.environ.get(api_key_env)
        self._offline = is_fixture_model(model) and http_client is None and base_url is None
        self._plain = False
        self.notices: list[str] = []
        key_env = None if api_key else self._api_key_env
        given_url = base_url or os.environ.get("OPENAI_BASE_URL") or ""
        self._secrets = _checked_secrets(key, given_url, key_env)
        """Redacted from every error we word: the key, and the URL's credentials."""
        self.provider, self.model_name, openai_client, default_mode = self._connect(
            model, base_url=base_url, api_key=key, mode=mode
        )
        url = str(openai_client.base_url)
        if urlsplit(url).query:
            url = url.removesuffix("/")  # openai appends a / to the base URL, query and all
        self._secrets = _checked_secrets(key, url, key_env)
        self.base_url = public_url(url)
        """The endpoint as messages name it: no user, password or query."""
        query = dict(parse_qsl(urlsplit(url).query))
        headers = self._url_login(url, key)
        self._openai = openai_client.with_options(
            base_url=self.base_url,
            max_retries=0,
            timeout=self.config.timeout,
            default_query=query or None,
            default_headers=headers or None,
            **_http(http_client),
        )
        self._endpoint = (
            endpoint_identity(url)
            if keyed_by_endpoint and self._plain and not is_fixture_model(model)
            else None
        )
        self.mode = mode or default_mode
        self._confirmed: set[str] = set()
        self._rejected: set[str] = set()
        self._prepared: dict[tuple[str, str], _Prepared] = {}
        self.pacer = pacer or (Pacer(self.config.rpm) if self.config.rpm else None)
        self._backoff = wait_exponential_jitter(
            multiplier=self.config.backoff, max=self.config.backoff_max, jitter=self.config.backoff
        )
        self.answered = False
        """Has the endpoint answered anything yet (an error status included)?"""
        self.completed = False
        """Has the endpoint answered a chat completion yet?"""
        self.endpoint_fault: str | None = None
        """Why the last call failed, when no server can be at fault but the endpoint itself:
        nothing listens there, or what answers is not a chat completion server."""

    def _url_login(self, url: str, key: str | None) -> dict[str, str]:
        """A base URL's user:password as Basic auth, unless a key is set (Authorization
        carries one or the other); httpx would otherwise send them instead of the key."""
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return {}
        if key is not None:
            notice = (
                "the base URL's user and password are not sent, the API key is: "
                "the Authorization header carries one or the other"
            )
            self.notices.append(notice)
            log.warning(notice)
            return {}
        login = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        token = base64.b64encode(login.encode("utf-8")).decode("ascii")
        self._secrets.append(token)
        return {"Authorization": f"Basic {token}"}

    def _connect(
        self, model: str, *, base_url: str | None, api_key: str | None, mode: str | None
    ) -> tuple[Provider, str, openai.AsyncOpenAI, str]:
        if base_url is not None:
            _checked_url(base_url, "the base URL")
        elif os.environ.get("OPENAI_BASE_URL"):
            _checked_url(os.environ["OPENAI_BASE_URL"], "$OPENAI_BASE_URL")
        prefix, _, rest = model.partition("/")
        if rest and prefix in COMPATIBLE_ENDPOINTS:
            if api_key is None:
                raise ConfigError(f"{model}: set ${self._api_key_env} to the provider's API key")
            url = base_url or COMPATIBLE_ENDPOINTS[prefix][0]
            return Provider.OPENAI, rest, openai.AsyncOpenAI(base_url=url, api_key=api_key), "tools"
        if rest and prefix in _providers():
            return self._from_provider(model, base_url=base_url, api_key=api_key, mode=mode)
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if self._offline:
            url, api_key = "http://fixture.invalid/v1", "fixture"
        if url is None and api_key is None:
            raise ConfigError(
                f"no endpoint for model {model!r}: pass --base-url (or set OPENAI_BASE_URL) "
                f"for a local server, set ${self._api_key_env} for OpenAI, or use "
                "--model baseline to run offline"
            )
        self._plain = True  # one name, many servers: the endpoint goes into cache keys
        client = openai.AsyncOpenAI(base_url=url, api_key=api_key or "none")
        return Provider.OPENAI, model, client, "tools"

    def _from_provider(
        self, model: str, *, base_url: str | None, api_key: str | None, mode: str | None
    ) -> tuple[Provider, str, openai.AsyncOpenAI, str]:
        import instructor

        missing_key = ConfigError(f"{model}: set ${self._api_key_env} to the provider's API key")
        if api_key is None and model.partition("/")[0] in _KEYED_PROVIDERS:
            raise missing_key  # the SDK would look for its own variable, not the one named
        kwargs: dict[str, Any] = {"async_client": True}
        if mode is not None:
            kwargs["mode"] = MODES[mode]
        if base_url is not None:
            kwargs["base_url"] = base_url
        if api_key is not None:
            kwargs["api_key"] = api_key
        quiet = logging.NullHandler()  # instructor logs a traceback for what we report in a line
        logging.getLogger("instructor").addHandler(quiet)
        try:
            built = instructor.from_provider(model, **kwargs)
        except Exception as err:
            if api_key is None and _asks_for_key(str(err)):
                raise missing_key from None
            raise ConfigError(f"{model}: {self._redact(str(err))}") from None
        finally:
            logging.getLogger("instructor").removeHandler(quiet)
        if not isinstance(built.client, openai.AsyncOpenAI):
            raise ConfigError(
                f"{model}: the engine records, replays and retries OpenAI-compatible calls "
                "only; use the provider's OpenAI-compatible endpoint instead: "
                "--model <name> --base-url <its /v1 URL> --api-key-env <ITS_KEY_VARIABLE>"
            )
        default = _MODE_NAMES.get(built.mode)
        if default is None:
            raise ConfigError(
                f"{model}: instructor picked mode {built.mode}, which is not one of ours"
            )
        return built.provider, model.partition("/")[2], built.client, default

    async def aclose(self) -> None:
        await self._openai.close()

    def mark_failed(self, stats: CallStats) -> None:
        """The article these answers were for failed: the cache keeps them, not to replay."""
        if self.cache is not None and stats.answer_keys:
            self.cache.mark_failed(self.model, stats.answer_keys)

    # --- one conversation ------------------------------------------------------------

    async def complete(
        self, system: str, turns: Sequence[dict[str, Any]], *, stats: CallStats, max_reasks: int
    ) -> Completion:
        """A validated answer to `turns` (user messages after the system message).

        Validation failures are re-asked up to `max_reasks` times with the error
        fed back; a rejected mode moves the whole client to the next one.
        """
        while True:
            mode = self.mode
            prepared = self._prepare(mode, system)
            request = {**prepared.params, "messages": prepared.messages(turns)}
            try:
                return await self._converse(prepared, request, stats=stats, max_reasks=max_reasks)
            except _ModeRejected as rejected:
                self._fall_back(rejected)

    def request(self, system: str, turns: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The first request `complete` would send now, in the current mode (e.g. for a batch file)."""
        prepared = self._prepare(self.mode, system)
        return {**prepared.params, "messages": prepared.messages(turns)}

    def request_key(self, request: dict[str, Any], mode: str | None = None) -> str:
        """The cache key a call with exactly this request looks up."""
        fixed = {k: v for k, v in request.items() if k != "messages"}
        return cache_key(
            model=self.model,
            mode=mode or self.mode,
            messages=request["messages"],
            params=params_digest(fixed),
            endpoint=self._endpoint,
        )

    async def follow_up(
        self, completion: Completion, problem: str, *, stats: CallStats, max_reasks: int
    ) -> Completion:
        """Continue after a valid answer that still has a problem (e.g. quotes not found)."""
        prepared = completion.prepared
        request = prepared.handlers.reask_handler(
            kwargs={**completion.request, "messages": list(completion.request["messages"])},
            response=completion.response,
            exception=_Problem(problem),
        )
        stats.reasks += 1
        return await self._converse(prepared, request, stats=stats, max_reasks=max_reasks)

    def _prepare(self, mode: str, system: str) -> _Prepared:
        cached = self._prepared.get((mode, system))
        if cached is not None:
            return cached
        handlers = mode_registry.get_handlers(self.provider, MODES[mode])
        sampling: dict[str, Any] = {}
        if self.config.temperature is not None:
            sampling["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            sampling["max_tokens"] = self.config.max_tokens
        seed = [{"role": "system", "content": system}, {"role": "user", "content": _SLOT}]
        _, kwargs = handlers.request_handler(
            response_model=self.response_model,
            kwargs={"model": self.model_name, **sampling, "messages": seed},
        )
        if mode == "json_schema":
            kwargs["response_format"] = _strict_format(kwargs["response_format"])
        messages = kwargs.pop("messages")
        index = next(i for i, m in enumerate(messages) if _SLOT in (m.get("content") or ""))
        before, after = messages[index]["content"].split(_SLOT)
        prepared = _Prepared(
            mode=mode,
            handlers=handlers,
            response_model=self.response_model,  # instructor's wrapper subclass adds nothing here
            params=kwargs,
            digest=params_digest(kwargs),
            body_head=json.dumps(kwargs, ensure_ascii=False, separators=(",", ":"))[:-1].encode()
            + b',"messages":',
            head=messages[:index],
            shared=SharedMessages.of(messages[:index]),
            slot=messages[index],
            wrap=(before, after),
            tail=messages[index + 1 :],
            sampling=sampling,
        )
        self._prepared[(mode, system)] = prepared
        return prepared

    def _fall_back(self, rejected: _ModeRejected) -> None:
        if self.mode != rejected.mode:
            return  # another call already moved on
        options = [m for m in FALLBACK_MODES[rejected.mode] if m not in self._rejected]
        if not options:
            raise TransportError(
                f"the server rejected mode {rejected.mode} ({rejected.reason}) and every "
                "fallback; pick a mode it supports with --mode"
            )
        self._rejected.add(rejected.mode)
        self.mode = options[0]
        notice = (
            f"the server rejected mode {rejected.mode} ({rejected.reason}); "
            f"falling back to {self.mode}"
        )
        self.notices.append(notice)
        log.warning(notice)

    async def _converse(
        self,
        prepared: _Prepared,
        request: dict[str, Any],
        *,
        stats: CallStats,
        max_reasks: int,
    ) -> Completion:
        response = await self._send(request, prepared, stats)
        for reask in range(max_reasks + 1):
            if prepared.mode == "tools" and (value := _text_answer(response, prepared)):
                stats.text_answers += 1
                stats.warnings.append(
                    "tools mode: the answer came as message text, not a tool call (the server "
                    "may ignore tool_choice); accepted it because it validates"
                )
                return Completion(value, response, request, prepared.mode, prepared)
            try:
                value = prepared.handlers.response_parser(
                    response=response,
                    response_model=prepared.response_model,
                    validation_context=None,
                    strict=False,
                    stream=False,
                    is_async=True,
                )
                return Completion(value, response, request, prepared.mode, prepared)
            except IncompleteOutputException:
                raise ModelOutputError(
                    "the answer was cut off at the token limit (finish_reason=length"
                    f"{_output_tokens(response)}); raise --max-tokens, or let long "
                    "articles be chunked",
                    raw=_answer_text(response),
                    failure="truncated",
                ) from None
            except AssertionError as refusal:  # instructor's signal for a refusal
                raise ModelOutputError(
                    f"the model refused: {refusal}", raw=_answer_text(response)
                ) from None
            except ValueError as error:  # pydantic, JSON and instructor parse errors
                if reask == max_reasks:
                    raise ModelOutputError(
                        f"the answer failed validation after {_times(max_reasks, 're-ask')}: "
                        f"{_summary(error)}",
                        raw=_answer_text(response),
                        failure=_failure_kind(error),
                    ) from None
                stats.reasks += 1
                request = prepared.handlers.reask_handler(
                    kwargs={**request, "messages": list(request["messages"])},
                    response=response,
                    exception=error,
                )
            response = await self._send(request, prepared, stats)
        raise AssertionError("unreachable: the last re-ask returns or raises")

    # --- one call -----------------------------------------------------------------------

    async def _send(
        self, request: dict[str, Any], prepared: _Prepared, stats: CallStats
    ) -> ChatCompletion:
        messages = request["messages"]
        shared: SharedMessages | None = prepared.shared
        if shared and messages[: len(shared)] == prepared.head:
            rest = encode_messages(messages[len(shared) :])
            encoded = shared.join(rest)
        else:
            shared = None
            encoded = rest = encode_messages(messages)
        logged = (rest, shared)
        key = None
        started = time.monotonic()
        if self.cache is not None and self.cache.mode != "off":
            key = cache_key(
                model=self.model,
                mode=prepared.mode,
                messages=encoded,
                params=prepared.digest,
                endpoint=self._endpoint,
            )
            try:
                entry = self.cache.lookup(self.model, key)
            except CacheMiss as miss:
                self._log(stats, prepared, key, logged, error=str(miss), started=started)
                raise
            if entry is not None:
                response = _chat_completion(entry["response"])
                stats.add_answer(response, cached=True, key=key, spent=entry.get("spent", False))
                self._log(
                    stats,
                    prepared,
                    key,
                    logged,
                    body=entry["response"],
                    cached=True,
                    started=started,
                )
                return response
        if self._offline:
            miss = CacheMiss(
                f"{self.model} is a hand-written fixture model: it answers only from "
                "recorded conversations, and this request was never recorded in this cache "
                "(the shipped ones replay with --cache-dir evals/fixtures/cache; record new "
                "ones with llm_extract.fixtures.record_conversation)"
            )
            self._log(stats, prepared, key, logged, error=str(miss), started=started)
            raise miss
        attempts_before = stats.attempts
        try:
            content = prepared.body_head + encoded.encode("utf-8") + b"}"
            body, text = await self._post(content, prepared.mode, stats)
        except (TransportError, ConfigError, _ModeRejected) as err:
            self._log(stats, prepared, key, logged, error=str(err), started=started,
                      attempts=stats.attempts - attempts_before)  # fmt: skip
            raise
        self._confirmed.add(prepared.mode)
        response = _chat_completion(body)
        stats.add_answer(response, cached=False, key=key)
        latency = time.monotonic() - started
        if (
            key is not None
            and self.cache is not None
            and self.cache.records
            and not self._logged_is_recorded
        ):
            record = functools.partial(
                self.cache.store,
                key=key,
                model=self.model,
                mode=prepared.mode,
                messages=messages,
                params=prepared.sampling,
                response=body,
                latency_s=latency,
                shared=shared,
            )
            if self.cache.threaded:
                await asyncio.to_thread(record)  # file system calls off the event loop
            else:
                record()  # one insert, on the loop like the call log's
        self._log(stats, prepared, key, logged, body=body, text=text, started=started,
                  attempts=stats.attempts - attempts_before)  # fmt: skip
        return response

    async def _post(
        self, content: bytes, mode: str, stats: CallStats
    ) -> tuple[dict[str, Any], str]:
        """One call with transport retries; returns the answer's JSON body, parsed and as sent.

        The body goes as ready bytes through the openai client's `post`: its
        `chat.completions.create` would walk the whole tool schema through its
        type-driven transform on every call (about 1 ms) to produce the same JSON.
        """
        retrying = AsyncRetrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception(self._transient),
            reraise=True,
        )
        tries = bare = 0
        try:
            async for attempt in retrying:
                with attempt:
                    if self.pacer is not None:
                        await self.pacer.wait()
                    tries += 1
                    stats.attempts += 1
                    try:
                        async with asyncio.timeout(self.config.timeout):
                            raw = await self._openai.post(
                                "/chat/completions", cast_to=httpx2.Response, content=content
                            )
                            text = raw.text
                    except TimeoutError:
                        raise _Deadline() from None
                    except openai.APIStatusError as err:
                        self.answered = True
                        if mode not in self._confirmed:
                            bare += _may_reject_mode(mode, err)
                            if _names_mode(mode, err) or bare >= self._bare_rejections:
                                raise _ModeRejected(mode, self._status_reason(err)) from None
                        raise
                    self.answered = True
                    body = self._body(text)
                    self.completed = True
                    return body, text
        except _ModeRejected:
            raise
        except openai.APIStatusError as err:
            raise self._status_error(err, tries) from None
        except (openai.APITimeoutError, _Deadline):
            raise TransportError(
                f"no answer from {self.base_url} within {self.config.timeout:g} s "
                f"({_times(tries)}); raise --timeout or check the server"
            ) from None
        except openai.APIConnectionError as err:
            cause = self._redact(str(err.__cause__ or err))
            if _dropped(err):
                raise TransportError(
                    f"{self.base_url} dropped the connection before answering "
                    f"({cause}; {_times(tries)})"
                ) from None
            if self.answered:
                raise TransportError(
                    f"{self.base_url} stopped accepting connections ({cause}; {_times(tries)}) "
                    "after answering earlier in this run; is it still running?"
                ) from None
            self.endpoint_fault = "nothing answers there"
            raise TransportError(
                f"cannot reach {self.base_url} ({cause}; {_times(tries)}); "
                "is the server running and the URL right?"
            ) from None
        except _Malformed as err:
            if not self.completed:
                self.endpoint_fault = "what answers there is not a chat completion server"
            raise TransportError(
                f"{self.base_url} answered with something that is not a chat completion "
                f"({err}; {_times(tries)})"
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    @property
    def _bare_rejections(self) -> int:
        """Bare 500s in a row to a mode not yet confirmed that count as rejecting it: one
        may be a passing failure, and the fallback lasts the whole run."""
        return min(_BARE_REJECTIONS, self.config.retries + 1)

    def _stop(self, state: RetryCallState) -> bool:
        """After the configured retries; sooner for a refused connection to an endpoint
        that never answered (a dead or mistyped URL fails in about two seconds)."""
        if state.attempt_number > self.config.retries:
            return True
        err = state.outcome.exception() if state.outcome else None
        refused = isinstance(err, openai.APIConnectionError) and not _dropped(err)
        dead = refused and not self.answered
        return dead and state.seconds_since_start >= _DEAD_ENDPOINT_S

    def _body(self, text: str) -> dict[str, Any]:
        try:
            body = json.loads(text)
        except ValueError:
            raise _Malformed(f"not JSON: {text[:80]!r}") from None
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("choices"), list)
            or not body["choices"]
        ):
            raise _Malformed(f"no choices in {text[:80]!r}")
        return body

    def _transient(self, err: BaseException) -> bool:
        if isinstance(err, openai.APIStatusError):
            if err.status_code == 429:
                wait = _retry_after(err)
                return wait is None or wait <= self.config.retry_after_max
            return err.status_code in (408, 409) or err.status_code >= 500
        return isinstance(err, (openai.APIConnectionError, _Malformed, _Deadline))

    def _wait(self, state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        if isinstance(err, openai.APIStatusError):
            wait = _retry_after(err)
            if wait is not None:
                return wait
        if isinstance(err, openai.APIConnectionError) and not self.answered:
            return min(self._backoff(state), _DEAD_ENDPOINT_S / 3)
        return self._backoff(state)

    def _status_reason(self, err: openai.APIStatusError) -> str:
        return f"HTTP {err.status_code}: {self._redact(_server_message(err))}"

    def _status_error(self, err: openai.APIStatusError, tries: int) -> Exception:
        reason = self._status_reason(err)
        status = err.status_code
        if status in (401, 403):
            return ConfigError(
                f"{self.base_url} refused the API key ({reason}); check ${self._api_key_env}"
            )
        if status == 404:
            return ConfigError(
                f"{self.base_url} has no such model or route ({reason}); check --base-url "
                f"and that {self.model_name!r} is served there"
            )
        if status == 429:
            return TransportError(
                f"rate limited by {self.base_url} ({reason}; {_times(tries)}); "
                "lower --concurrency or set --rpm"
            )
        if status >= 500:
            return TransportError(f"{self.base_url} kept failing ({reason}; {_times(tries)})")
        return TransportError(f"{self.base_url} rejected the request ({reason})")

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _log(
        self,
        stats: CallStats,
        prepared: _Prepared,
        key: str | None,
        messages: tuple[str, SharedMessages | None],
        *,
        started: float,
        body: dict[str, Any] | None = None,
        text: str | None = None,
        error: str | None = None,
        cached: bool = False,
        attempts: int | None = None,
    ) -> None:
        if self.call_log is None:
            return
        usage = (body or {}).get("usage") or {}
        rest, shared = messages
        self.call_log.record(
            model=self.model,
            mode=prepared.mode,
            status="error" if error else "ok",
            messages=rest,
            shared=shared,
            response=text if text is not None else body,
            error=error,
            article_id=stats.article_id,
            prompt_name=stats.prompt.name if stats.prompt else None,
            prompt_hash=stats.prompt.hash if stats.prompt else None,
            cache_key=key,
            cached=cached,
            attempts=attempts,
            input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            duration_s=round(time.monotonic() - started, 4),
        )


class _Problem(ValueError):
    """A problem found after validation, worded for the model by the mode's re-ask handler."""


def _providers() -> set[str]:
    from instructor.v2.auto_client import supported_providers

    return set(supported_providers)


_KEYED_PROVIDERS = frozenset({"openai"})
"""Providers whose key variable is ours ($OPENAI_API_KEY, or the one named) and required."""


def _asks_for_key(message: str) -> bool:
    lowered = message.lower()
    return "api_key" in lowered or "api key" in lowered or "credentials" in lowered


def _checked_url(url: str, where: str) -> None:
    """Refuse what cannot name an endpoint: a typo fails here, not after every retry."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        shown = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
        raise ConfigError(
            f"{where} {shown!r} is not an http(s) URL with a host and a valid port, "
            "e.g. http://127.0.0.1:11434/v1"
        )


def public_url(url: str) -> str:
    """`url` without user, password, query or fragment, which may hold credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret (a key, a URL's credentials) replaced by a marker."""
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that may be credentials: password, user and query values
    (decoded and as written), those long enough to tell apart from ordinary text."""
    parts = urlsplit(url)
    raw = [value for part in parts.query.split("&") for value in part.split("=", 1)[1:]]
    values = [*raw, *(value for _, value in parse_qsl(parts.query))]
    login = [parts.password, parts.username]
    login += [unquote(value) for value in login if value]
    found = [s for s in (*login, *values) if s and len(s) >= MIN_SECRET_CHARS]
    return list(dict.fromkeys(found))


MIN_SECRET_CHARS = 8
"""Shorter keys and passwords are refused: removing every occurrence of "x" or "b" from
our error messages would garble them, and leaving them in would leak them."""
PLACEHOLDER_KEYS = frozenset({"none", "empty", "ollama", "dummy", "fixture", "no-key"})
"""Keys local servers' docs tell users to set (vLLM's EMPTY, Ollama's ollama): not secret."""


def _checked_secrets(key: str | None, url: str, key_env: str | None) -> list[str]:
    """What to redact from our messages: the key and the URL's credentials; a key or
    password too short to redact safely is refused (a known placeholder is no secret)."""
    password = urlsplit(url).password
    named = {f"${key_env}" if key_env else "the API key": key, "the base URL's password": password}
    if key and not key.isascii():
        raise ConfigError(f"{next(iter(named))} holds non-ASCII characters: no HTTP header can")
    for where, value in named.items():
        if value and len(value) < MIN_SECRET_CHARS and value.lower() not in PLACEHOLDER_KEYS:
            raise ConfigError(
                f"{where} is {len(value)} characters: too short to keep out of logs and "
                f"messages safely (at least {MIN_SECRET_CHARS}); use the real one, or leave "
                "it unset for a server that needs none"
            )
    secrets = [] if not key or key.lower() in PLACEHOLDER_KEYS else [key]
    return [*secrets, *url_secrets(url)]


def _strict_format(response_format: dict[str, Any]) -> dict[str, Any]:
    """instructor's `json_schema` response format made strict: OpenAI then enforces the
    schema instead of taking it as a hint; servers that do not know `strict` (llama.cpp,
    vLLM, Ollama) constrain to the same schema. The answer is validated as before."""
    spec = response_format["json_schema"]
    return {
        **response_format,
        "json_schema": {**spec, "schema": strict_schema(spec["schema"]), "strict": True},
    }


def _chat_completion(body: dict[str, Any]) -> ChatCompletion:
    """The answer as openai's type: validated when it fits (ten times cheaper than openai's
    `construct`), else built leniently, since local servers leave out fields they don't fill."""
    try:
        return ChatCompletion.model_validate(body)
    except ValidationError:
        return ChatCompletion.construct(**body)


def _http(http_client: httpx2.AsyncClient | None) -> dict[str, Any]:
    return {} if http_client is None else {"http_client": http_client}


def _names_mode(mode: str, err: openai.APIStatusError) -> bool:
    """Does this error say the server cannot do `mode` (it names what the mode sends)?"""
    if err.status_code not in _REJECTING_STATUSES:
        return False
    message = _server_message(err).lower()
    return any(word in message for word in _MODE_FEATURES[mode])


def _may_reject_mode(mode: str, err: openai.APIStatusError) -> bool:
    """llama-cpp-python's server answers a bare 500 to a response_format it cannot do:
    the same as a passing failure, so only repeated ones count."""
    return err.status_code in (500, 501) and mode in _RESPONSE_FORMAT_MODES


def _dropped(err: openai.APIConnectionError) -> bool:
    """A connection made and lost mid-call, as against none made (refused, no such host)."""
    return isinstance(
        err.__cause__, (httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError)
    )


def _text_answer(response: ChatCompletion, prepared: _Prepared) -> BaseModel | None:
    """A valid answer in the message text where a tool call was asked for.

    llama-server treats an object `tool_choice` (what instructor sends) as "auto", so a
    model may answer in text; JSON that validates is the same answer.
    """
    choices = getattr(response, "choices", None) or []
    if not choices or choices[0].finish_reason == "length":
        return None
    message = choices[0].message
    if message is None or message.tool_calls or not message.content:
        return None
    try:
        return prepared.response_model.model_validate_json(message.content.strip())
    except ValueError:
        return None


def _server_message(err: openai.APIStatusError) -> str:
    body = err.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:300]
    text = err.response.text if err.response is not None else ""
    return (text or err.message)[:300]


def _retry_after(err: openai.APIStatusError) -> float | None:
    headers = err.response.headers if err.response is not None else {}
    if value := headers.get("retry-after-ms"):
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


def _times(count: int, what: str = "attempt") -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def _output_tokens(response: Any) -> str:
    used = getattr(getattr(response, "usage", None), "completion_tokens", None)
    return f", {used} output tokens" if used else ""


def _answer_text(response: Any) -> str | None:
    try:
        message = response.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    if message.tool_calls:
        return message.tool_calls[0].function.arguments
    return message.content


def _failure_kind(error: ValueError) -> str:
    """schema: JSON the schema refuses; parse: no JSON, or no tool call, at all."""
    if isinstance(error, ValidationError) and any(
        e["type"] != "json_invalid" for e in error.errors()
    ):
        return "schema"
    return "parse"


def _summary(error: Exception | None) -> str:
    if isinstance(error, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in error.errors()[:3]
        ]
        more = error.error_count() - len(parts)
        return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    return str(error)[:300]
