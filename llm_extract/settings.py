"""Settings as objects: which endpoint, how each call is made, how an article is extracted,
how a run goes. Each is read from the environment once, by its `from_env()` (the CLI calls
it, or a user's own script), and handed to the library; nothing else reads these variables.

This module imports nothing heavy (no openai, instructor, numpy), so the CLI can build the
options of every command from the defaults here before any engine module is loaded.

Every environment variable the package reads is written out here, in `ENV_VARIABLES`, so
that `grep LLM_EXTRACT_TEMPERATURE` finds it. The engine's constants that the CLI shows
(modes, default key variable, chunk sizes, re-asks, batch limits, cache modes, the model
names `baseline` and `fixture-…`) are defined here once and imported by the engine.
Keyword arguments to the library (`extract(..., model=..., base_url=...)`) become these
objects in one place, `with_keywords`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from llm_extract.errors import ConfigError

__all__ = [
    "BASELINE",
    "BATCH_MAX_BYTES",
    "BATCH_MAX_REQUESTS",
    "CACHE_MODES",
    "CHUNK_OVERLAP",
    "COMPATIBLE_ENDPOINTS",
    "DEFAULT_API_KEY_ENV",
    "DEFAULT_CHUNK_CHARS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_GROUNDING_REASKS",
    "DEFAULT_MAX_REASKS",
    "DEFAULT_PROMPT",
    "ENV_VARIABLES",
    "FIXTURE_PREFIX",
    "MODES",
    "OUTPUT_FORMATS",
    "CacheMode",
    "CallSettings",
    "EndpointSettings",
    "ExtractionSettings",
    "ModelKind",
    "RunSettings",
    "Settings",
    "model_kind",
    "model_slug",
    "with_keywords",
]

DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
"""The environment variable a key is read from unless another is named."""
MODES = ("tools", "json_schema", "json", "md_json")
"""Our names for instructor's structured-output modes (the CLI's `--mode` choices)."""
CacheMode = Literal["use", "refresh", "off", "replay-only"]
"""The record/replay cache modes (`--cache`). use: replay a hit, record a miss; refresh:
always call, re-record; off: neither; replay-only: never call, a miss is an error."""
CACHE_MODES: tuple[CacheMode, ...] = get_args(CacheMode)
DEFAULT_PROMPT = "extract"
"""The prompt template used unless another is named (`prompts/extract.*.md`)."""
DEFAULT_CHUNK_CHARS = 12_000
"""About 4k tokens of Russian: room for the prompt and the answer in a 16k context."""
CHUNK_OVERLAP = 800
"""Characters two neighbouring chunks share, so a fact cut at the border is whole in one."""
DEFAULT_MAX_REASKS = 2
"""Re-asks per call after an answer that does not validate."""
DEFAULT_GROUNDING_REASKS = 1
"""Re-asks per article for quotes not found in the text."""
DEFAULT_CONCURRENCY = 8
"""Articles in flight at once, for every command that runs a model."""
BATCH_MAX_REQUESTS = 50_000
"""Requests per Batch API file (the API's limit)."""
BATCH_MAX_BYTES = 200_000_000
"""Bytes per Batch API file (the API's limit)."""
OUTPUT_FORMATS = ("jsonl", "parquet")
"""The result formats of a Ray run (`--format`)."""

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

BASELINE = "baseline"
"""The offline baseline's model name (`--model baseline`)."""
FIXTURE_PREFIX = "fixture-"
"""What a hand-written fixture model's name starts with: it answers only from recordings."""

ModelKind = Literal["baseline", "fixture", "llm"]


def model_kind(name: str) -> ModelKind:
    """What a model name names: the baseline, a hand-written fixture model, or an LLM
    (a provider string or a served name; the client tells those two apart)."""
    if name == BASELINE:
        return "baseline"
    return "fixture" if name.startswith(FIXTURE_PREFIX) else "llm"


_CALL_ENV = {
    "timeout": "LLM_EXTRACT_TIMEOUT",
    "retries": "LLM_EXTRACT_RETRIES",
    "backoff": "LLM_EXTRACT_BACKOFF",
    "backoff_max": "LLM_EXTRACT_BACKOFF_MAX",
    "retry_after_max": "LLM_EXTRACT_RETRY_AFTER_MAX",
    "rpm": "LLM_EXTRACT_RPM",
    "temperature": "LLM_EXTRACT_TEMPERATURE",
    "max_tokens": "LLM_EXTRACT_MAX_TOKENS",
}
"""`CallSettings` field -> the variable that overrides its default."""

ENV_VARIABLES = (
    "LLM_EXTRACT_MODEL",
    "OPENAI_BASE_URL",
    DEFAULT_API_KEY_ENV,
    *_CALL_ENV.values(),
    "LLM_EXTRACT_CACHE_DIR",
    "LLM_EXTRACT_HOME",
    "LLM_EXTRACT_PROMPTS",
    "LLM_EXTRACT_ALIASES",
)
"""Every variable the package reads (the README's table lists them; tests clear them all).
`LLM_EXTRACT_HOME` and `LLM_EXTRACT_PROMPTS` are read where the call log and the prompt
templates are found (`cache.user_dir`, `prompts`), `LLM_EXTRACT_CACHE_DIR` also by
`cache.default_cache_path` for a cache opened with no folder, and `LLM_EXTRACT_ALIASES` also
by `aliases` for a process that set none; a provider string's key variable
(`ANTHROPIC_API_KEY`, ..., `COMPATIBLE_ENDPOINTS`) is read by `EndpointSettings.from_env`."""


@dataclass(frozen=True)
class EndpointSettings:
    """Which model, where it is served, and with which key.

    `model`, `base_url` and `api_key` are what the caller gave; `from_env` fills `model`
    from `$LLM_EXTRACT_MODEL` and keeps what `$OPENAI_BASE_URL` and the key variable hold
    apart (`env_base_url`, `env_api_key`): a provider string (`anthropic/...`) goes to its
    own URL and key even when those are set.
    """

    model: str | None = None
    """A name served at the base URL, `provider/model`, `baseline` or `fixture-...`;
    None: the baseline when no endpoint is configured."""
    base_url: str | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV
    """The variable the key is read from."""
    api_key: str | None = field(default=None, repr=False)
    mode: str | None = None
    """One of `MODES`; None: the engine's default for the provider (tools)."""
    env_base_url: str | None = None
    """`$OPENAI_BASE_URL` as `from_env` found it."""
    env_api_key: str | None = field(default=None, repr=False)
    """`$<api_key_env>` as `from_env` found it: never logged or stored."""

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}; choose from {', '.join(MODES)}")

    @classmethod
    def from_env(
        cls,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        api_key: str | None = None,
        mode: str | None = None,
    ) -> EndpointSettings:
        """What is given, over `$LLM_EXTRACT_MODEL`, `$OPENAI_BASE_URL` and `$<api_key_env>`."""
        given = cls(
            model=model or os.environ.get("LLM_EXTRACT_MODEL") or None,
            base_url=base_url,
            api_key_env=api_key_env,
            api_key=api_key,
            mode=mode,
        )
        return replace(
            given,
            env_base_url=os.environ.get("OPENAI_BASE_URL") or None,
            env_api_key=os.environ.get(given.key_variable) or None,
        )

    @property
    def key_variable(self) -> str:
        """The variable the key is read from: a compatible provider's own
        (`anthropic/...`: `ANTHROPIC_API_KEY`) unless a variable other than the default is named."""
        prefix, _, rest = (self.model or "").partition("/")
        if rest and prefix in COMPATIBLE_ENDPOINTS and self.api_key_env == DEFAULT_API_KEY_ENV:
            return COMPATIBLE_ENDPOINTS[prefix][1]
        return self.api_key_env

    @property
    def key(self) -> str | None:
        """The key to send: the one given, else the key variable's (never logged or stored)."""
        return self.api_key or self.env_api_key

    @property
    def url(self) -> str | None:
        """The base URL for a name an endpoint serves: the one given, else `$OPENAI_BASE_URL`."""
        return self.base_url or self.env_base_url

    @property
    def configured(self) -> bool:
        """Is an endpoint or key configured? Then no model named is an error, not the baseline."""
        return bool(self.base_url or self.api_key or self.env_base_url or self.env_api_key)


@dataclass(frozen=True)
class CallSettings:
    """How each model call is made: transport and sampling. `from_env` reads the overrides
    listed in `_CALL_ENV` (`LLM_EXTRACT_TIMEOUT`, ...). The engine's `ClientConfig` is this
    class under its old name."""

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
    def from_env(cls, **overrides: Any) -> CallSettings:
        """The defaults, then the environment's overrides, then `overrides` that are not None."""
        values: dict[str, Any] = {}
        for name, variable in _CALL_ENV.items():
            raw = os.environ.get(variable)
            if raw is not None:
                kind = int if name in ("retries", "max_tokens") else float
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise ConfigError(f"{variable}={raw!r} is not a number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


@dataclass(frozen=True)
class ExtractionSettings:
    """How one article becomes a result: the prompt, re-asks, chunking, dates, aliases."""

    prompt: str = DEFAULT_PROMPT
    """A template name in `prompts/` (or `$LLM_EXTRACT_PROMPTS`)."""
    max_reasks: int = DEFAULT_MAX_REASKS
    grounding_reasks: int = DEFAULT_GROUNDING_REASKS
    chunking: bool = True
    """Split an article longer than `chunk_chars`; False: refuse it."""
    chunk_chars: int = DEFAULT_CHUNK_CHARS
    published: dt.date | None = None
    """The publication date of every article, over the one it states."""
    dates: Mapping[str, dt.date] | None = None
    """Publication dates by article id (`read_dates`), over `published`."""
    aliases: Path | None = None
    """A user alias file merged over the shipped table (`$LLM_EXTRACT_ALIASES`)."""

    def __post_init__(self) -> None:
        if self.max_reasks < 0 or self.grounding_reasks < 0:
            raise ConfigError("re-ask limits must be 0 or more")
        if self.chunk_chars < 2 * CHUNK_OVERLAP:
            raise ConfigError(f"chunk_chars must be at least {2 * CHUNK_OVERLAP}")

    @classmethod
    def from_env(cls, **given: Any) -> ExtractionSettings:
        """What is given (None: the default), with `aliases` from `$LLM_EXTRACT_ALIASES`."""
        values = {k: v for k, v in given.items() if v is not None}
        if "aliases" not in values and (env := os.environ.get("LLM_EXTRACT_ALIASES")):
            values["aliases"] = Path(env)
        return cls(**values)


@dataclass(frozen=True)
class RunSettings:
    """How a run over many articles goes: load, output, cache, call log, resume, progress."""

    concurrency: int = DEFAULT_CONCURRENCY
    out: Path | None = None
    """JSONL results, appended as articles finish and resumed on a re-run."""
    cache: CacheMode = "use"
    cache_dir: Path | None = None
    """The store: a `.db` file or a folder of JSON files (`$LLM_EXTRACT_CACHE_DIR`);
    None: the call log's `logs.db`."""
    log: bool = True
    """Log every call to `logs.db`; False writes no call rows at all (a `.db` cache then
    only replays)."""
    retry_failed: bool = False
    wait_for_lock: bool = False
    """When another run writes `out`, wait for it to end (then resume) instead of refusing."""
    progress: bool | None = None
    """A bar; None: when stderr is a terminal (else a status line now and then)."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1 (got {self.concurrency})")
        if self.cache not in CACHE_MODES:
            raise ConfigError(
                f"unknown cache mode {self.cache!r}; choose from {', '.join(CACHE_MODES)}"
            )

    @classmethod
    def from_env(cls, **given: Any) -> RunSettings:
        """What is given (None: the default), with `cache_dir` from `$LLM_EXTRACT_CACHE_DIR`."""
        values = {k: v for k, v in given.items() if v is not None}
        if "cache_dir" not in values and (env := os.environ.get("LLM_EXTRACT_CACHE_DIR")):
            values["cache_dir"] = Path(env)
        return cls(**values)

    def open_cache(self) -> Any:
        """The record/replay cache these settings name (`llm_extract.cache.Cache`)."""
        from llm_extract.cache import Cache

        return Cache(self.cache_dir, mode=self.cache, no_log=not self.log)

    def open_call_log(self) -> Any:
        """The call log (`llm_extract.cache.CallLog`), or None with `log=False`."""
        from llm_extract.cache import CallLog

        return CallLog() if self.log else None


@dataclass(frozen=True)
class Settings:
    """The four objects of one run, as `with_keywords` builds them."""

    endpoint: EndpointSettings
    call: CallSettings | None
    """None: the client reads `CallSettings.from_env()`."""
    extraction: ExtractionSettings
    run: RunSettings


_ENDPOINT_KEYWORDS = ("model", "base_url", "api_key", "api_key_env", "mode")
_RUN_KEYWORDS = ("out", "concurrency", "progress", "retry_failed", "wait_for_lock")


def with_keywords(
    endpoint: EndpointSettings | None,
    call: CallSettings | None,
    extraction: ExtractionSettings | None,
    run: RunSettings | None,
    options: dict[str, Any],
) -> Settings:
    """The one place keyword arguments (`extract(..., model=..., base_url=...)`) become the
    objects: each keyword it knows is taken out of `options` and set over its object (a
    keyword that is None leaves the object's value). An endpoint left out is read by
    `EndpointSettings.from_env` from the keywords; call, extraction and run settings left
    out are their defaults (`config` is a `CallSettings`; `rpm` is set over it). What is
    left in `options` is not a setting (`cache`, `call_log`, a ready `model` or `client`)."""

    def take(names: Any) -> dict[str, Any]:
        return {n: v for n in list(names) if n in options and (v := options.pop(n)) is not None}

    model = options.get("model")
    named = take(n for n in _ENDPOINT_KEYWORDS if n != "model" or isinstance(model, str))
    endpoint = replace(endpoint, **named) if endpoint else EndpointSettings.from_env(**named)
    call = options.pop("config", None) or call
    if (rpm := options.pop("rpm", None)) is not None:
        call = replace(call or CallSettings.from_env(), rpm=rpm)
    given = take(f.name for f in fields(ExtractionSettings))
    extraction = replace(extraction or ExtractionSettings(), **given)
    ran = take(_RUN_KEYWORDS)
    if "out" in ran:
        ran["out"] = Path(ran["out"])
    return Settings(endpoint, call, extraction, replace(run or RunSettings(), **ran))


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def model_slug(model: str) -> str:
    """The folder a model's files live in, in a cache folder and a run store alike
    (`openai/gpt-4o-mini` -> `openai--gpt-4o-mini`, `qwen2.5:7b` -> `qwen2.5-7b`)."""
    return _UNSAFE.sub("-", model.replace("/", "--")).strip("-.") or "model"
