"""The model seam: whatever turns a passage of an article into an `ArticleExtraction`.

A `StructuredModel` answers one passage (the whole article, or one chunk of a long
one) with an `Answer`: the raw extraction, the call stats of that answer alone
(returned, never added into the caller's), the mode the answer came in, and the
error when there is none to give. Grounding, normalisation, chunking and the
result belong to the pipeline (`pipeline.py`), the same for every model.

Three implementations: `LLMModel` (a `Client` and a prompt; re-asks for quotes
not found through `revise`), `BaselineModel` (the rules over natasha, one article
at a time under its own lock) and `ScriptedModel` (answers given in-process, in
order: a test double that needs no server and no URL). `open_model` is the one
place a model name is read: `baseline`, a `fixture-…` model (replayed from the
cache), or any other name, which `Client` resolves as a provider string
(`openai/gpt-4o-mini`) or a model an endpoint serves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from llm_extract.articles import Article
from llm_extract.baseline import BaselineExtractor
from llm_extract.cache import CallLog, ReplayStore
from llm_extract.client import CallStats, Client
from llm_extract.errors import ConfigError, ExtractError
from llm_extract.prompts import DEFAULT_PROMPT, Prompt, load_prompt
from llm_extract.schemas import ArticleExtraction
from llm_extract.settings import (
    BASELINE,
    DEFAULT_MAX_REASKS,
    CallSettings,
    EndpointSettings,
    ModelKind,
    model_kind,
)

__all__ = [
    "BASELINE",
    "DEFAULT_MAX_REASKS",
    "Answer",
    "BaselineModel",
    "LLMModel",
    "ModelKind",
    "Passage",
    "ScriptedModel",
    "StructuredModel",
    "choose_model",
    "model_kind",
    "open_model",
]


@dataclass(frozen=True)
class Passage:
    """What a model is asked to read: `text`, the article's own or one chunk of it."""

    article: Article
    text: str
    offset: int = 0
    """Where `text` starts in the article."""
    chunk: tuple[int, int] | None = None
    """(index, count) when the article is split, else None."""


@dataclass
class Answer:
    """One passage's answer: the extraction, or the error that took its place."""

    extraction: ArticleExtraction | None
    stats: CallStats
    """The counts of this answer's calls alone."""
    mode: str | None = None
    """The structured-output mode the answer came in (None for a model with no modes)."""
    error: ExtractError | None = None
    waited_s: float = 0.0
    """Time spent waiting for the model's turn, not working: left out of the latency."""
    follow: Any = None
    """What the model needs to continue this conversation (`revise`)."""


class StructuredModel(Protocol):
    """A model the pipeline can run; only a `ConfigError` may escape its methods."""

    name: str
    prompt: Prompt | None
    chunked: bool
    """Whether a long article is split into chunks for it (a prompt has a context limit)."""

    async def extract(self, passage: Passage) -> Answer: ...

    async def revise(self, answer: Answer, problem: str) -> Answer | None:
        """A corrected answer after `problem` (quotes not found), or None: it cannot."""
        ...

    def failed(self, stats: CallStats) -> None:
        """The article these calls were for failed: their answers must not replay."""
        ...

    async def aclose(self) -> None: ...


def choose_model(endpoint: EndpointSettings) -> tuple[str, bool]:
    """The model to run and whether it is the offline default: the one named (`from_env`
    fills in $LLM_EXTRACT_MODEL), else the baseline, but only when no endpoint or key is
    configured either (`extraction.resolve_model` announces that default)."""
    if endpoint.model:
        return endpoint.model, False
    if endpoint.configured:
        raise ConfigError(
            "an endpoint or key is configured but no model is named: pass --model NAME "
            "(or set LLM_EXTRACT_MODEL), or --model baseline for the offline extractor"
        )
    return BASELINE, True


def open_model(
    endpoint: EndpointSettings | str | None = None,
    call: CallSettings | None = None,
    *,
    prompt: str | Prompt = DEFAULT_PROMPT,
    max_reasks: int = DEFAULT_MAX_REASKS,
    cache: ReplayStore | None = None,
    call_log: CallLog | None = None,
) -> StructuredModel:
    """The model `endpoint` names (a bare name: `EndpointSettings.from_env(name)`); `call`,
    `cache` and `call_log` are its client's."""
    if not isinstance(endpoint, EndpointSettings):
        endpoint = EndpointSettings.from_env(endpoint)
    name, _ = choose_model(endpoint)
    if model_kind(name) == "baseline":
        return BaselineModel()
    client = Client(replace(endpoint, model=name), call, cache=cache, call_log=call_log)
    return LLMModel(client, prompt, max_reasks=max_reasks)


class LLMModel:
    """A chat model behind a `Client`: the prompt rendered per passage, the answer validated
    (re-asked up to `max_reasks` times), and a follow-up turn for `revise`."""

    chunked = True

    def __init__(
        self, client: Client, prompt: str | Prompt = DEFAULT_PROMPT, *, max_reasks: int
    ) -> None:
        self.client = client
        self.name = client.model
        self.prompt: Prompt = load_prompt(prompt) if isinstance(prompt, str) else prompt
        self.max_reasks = max_reasks

    def turns(self, passage: Passage) -> list[dict[str, str]]:
        user = self.prompt.user(
            passage.text, published=passage.article.published, chunk=passage.chunk
        )
        return [{"role": "user", "content": user}]

    def request(self, passage: Passage) -> dict[str, Any]:
        """The first request for `passage`, as the client would send it now (batch files)."""
        return self.client.request(self.prompt.system, self.turns(passage))

    def _stats(self, passage: Passage) -> CallStats:
        return CallStats(article_id=passage.article.id, prompt=self.prompt.info)

    async def extract(self, passage: Passage) -> Answer:
        stats = self._stats(passage)
        try:
            completion = await self.client.complete(
                self.prompt.system, self.turns(passage), stats=stats, max_reasks=self.max_reasks
            )
        except ConfigError:
            raise
        except ExtractError as err:
            return Answer(None, stats, mode=self.client.mode, error=err)
        return Answer(completion.value, stats, mode=completion.mode, follow=completion)

    async def revise(self, answer: Answer, problem: str) -> Answer:
        stats = CallStats(article_id=answer.stats.article_id, prompt=self.prompt.info)
        try:
            completion = await self.client.follow_up(
                answer.follow, problem, stats=stats, max_reasks=self.max_reasks
            )
        except ConfigError:
            raise
        except ExtractError as err:
            return Answer(None, stats, mode=self.client.mode, error=err)
        return Answer(completion.value, stats, mode=completion.mode, follow=completion)

    def failed(self, stats: CallStats) -> None:
        self.client.mark_failed(stats)

    async def aclose(self) -> None:
        await self.client.aclose()


class BaselineModel:
    """The rule-based baseline for Russian news: the whole article at once, one article at a
    time (natasha is not known to be thread-safe), off the event loop."""

    name = BASELINE
    prompt = None
    chunked = False

    def __init__(self, rules: BaselineExtractor | None = None) -> None:
        self.rules = rules or BaselineExtractor()
        self.lock = asyncio.Lock()

    async def extract(self, passage: Passage) -> Answer:
        stats = CallStats(article_id=passage.article.id)
        queued = time.perf_counter()
        async with self.lock:
            waited = time.perf_counter() - queued
            try:
                raw = await asyncio.to_thread(self.rules.extract, passage.article)
            except ConfigError:
                raise
            except ExtractError as err:
                return Answer(None, stats, error=err, waited_s=waited)
        return Answer(raw, stats, waited_s=waited)

    async def revise(self, answer: Answer, problem: str) -> None:
        return None

    def failed(self, stats: CallStats) -> None:
        return None

    async def aclose(self) -> None:
        return None


class ScriptedModel:
    """Answers given in advance, served in order, in-process: a model for tests that needs
    no server, no URL and no cache. A reply is an `ArticleExtraction`, its dict, or an
    `ExtractError` to fail with; `revise` serves the next reply too."""

    prompt = None
    chunked = True

    def __init__(self, replies: Sequence[Any], *, name: str = "fixture-scripted") -> None:
        self.name = name
        self.replies = list(replies)
        self.served = 0
        self.passages: list[Passage] = []
        """What the model was asked to read, in order."""

    async def extract(self, passage: Passage) -> Answer:
        self.passages.append(passage)
        return self._next(CallStats(article_id=passage.article.id))

    async def revise(self, answer: Answer, problem: str) -> Answer:
        stats = CallStats(article_id=answer.stats.article_id, reasks=1)
        return self._next(stats)

    def _next(self, stats: CallStats) -> Answer:
        if self.served >= len(self.replies):
            raise ConfigError(
                f"{self.name}: the script has {len(self.replies)} replies and the pipeline "
                f"asked for reply {self.served + 1}"
            )
        reply = self.replies[self.served]
        self.served += 1
        stats.requests += 1
        if isinstance(reply, ExtractError):
            return Answer(None, stats, error=reply)
        return Answer(ArticleExtraction.model_validate(reply), stats)

    def failed(self, stats: CallStats) -> None:
        return None

    async def aclose(self) -> None:
        return None
