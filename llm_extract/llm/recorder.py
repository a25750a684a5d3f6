"""Record/replay around each call: lookup, call, store, log.

A call's cache key hashes the model, the mode, the messages and the request's
fixed part (and the endpoint, for a plain model name): a hit is the answer and
never touches the network. A miss is the endpoint's to answer (a fixture
model with no endpoint has none: the miss is the end), and the answer is
stored for the next run. Every call, live, replayed or failed, is one row of
the call log; when the log is the cache's own database, that row is the entry.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from llm_extract.cache import (
    CacheMiss,
    CallStore,
    ReplayStore,
    SharedMessages,
    cache_key,
    encode_messages,
    params_digest,
)
from llm_extract.errors import ConfigError, TransportError
from llm_extract.llm.modes import ModeRejected, Prepared
from llm_extract.llm.stats import CallStats

__all__ = ["Call", "Recorder", "request_key"]

Call = Callable[[bytes, Prepared, CallStats], Awaitable[tuple[dict[str, Any], str]]]
"""The live call: the request body to the answer's JSON body, parsed and as sent."""


def request_key(model: str, request: dict[str, Any], mode: str, endpoint: str | None = None) -> str:
    """The cache key a call with exactly this request looks up."""
    fixed = {k: v for k, v in request.items() if k != "messages"}
    return cache_key(
        model=model,
        mode=mode,
        messages=request["messages"],
        params=params_digest(fixed),
        endpoint=endpoint,
    )


class Recorder:
    """One model's calls through its cache and call log."""

    def __init__(
        self,
        model: str,
        *,
        cache: ReplayStore | None,
        call_log: CallStore | None,
        endpoint: str | None,
        offline: bool,
    ) -> None:
        """`endpoint`: the endpoint identity cache keys hash, if any; `offline`: a fixture
        model with no endpoint, answered by the cache alone."""
        self.model = model
        self.cache = cache
        self.call_log = call_log
        self.endpoint = endpoint
        self.offline = offline
        self._logged_is_recorded = cache is not None and cache.logged_by(call_log)
        """One store: the log row of a live call is its cache entry, so the cache writes nothing."""

    def key(self, request: dict[str, Any], mode: str) -> str:
        return request_key(self.model, request, mode, self.endpoint)

    def mark_failed(self, stats: CallStats) -> None:
        """The article these answers were for failed: the cache keeps them, not to replay."""
        if self.cache is not None and stats.answer_keys:
            self.cache.mark_failed(self.model, stats.answer_keys)

    async def send(
        self, request: dict[str, Any], prepared: Prepared, stats: CallStats, call: Call
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
                endpoint=self.endpoint,
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
        if self.offline:
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
            body, text = await call(content, prepared, stats)
        except (TransportError, ConfigError, ModeRejected) as err:
            self._log(stats, prepared, key, logged, error=str(err), started=started,
                      attempts=stats.attempts - attempts_before)  # fmt: skip
            raise
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

    def _log(
        self,
        stats: CallStats,
        prepared: Prepared,
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


def _chat_completion(body: dict[str, Any]) -> ChatCompletion:
    """The answer as openai's type: validated when it fits (ten times cheaper than openai's
    `construct`), else built leniently, since local servers leave out fields they don't fill."""
    try:
        return ChatCompletion.model_validate(body)
    except ValidationError:
        return ChatCompletion.construct(**body)
