"""Hand-written model answers for `fixture-…` models, recorded into the cache.

Test and eval doubles live here, apart from the engine: a fixture reply is
played through the real openai client (in-process, no network) so the cache
holds exactly what a live run would have stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx2

from llm_extract.articles import Article
from llm_extract.cache import Cache
from llm_extract.client import Client
from llm_extract.errors import ConfigError
from llm_extract.extraction import Extractor
from llm_extract.schemas import ExtractionResult
from llm_extract.settings import CallSettings, EndpointSettings, ExtractionSettings

__all__ = ["ScriptedReplies", "fixture_completion", "record_conversation"]


def fixture_completion(
    sent: dict[str, Any],
    text: str,
    *,
    model: str,
    number: int = 1,
    finish_reason: str = "stop",
    usage: Sequence[int] | None = None,
) -> dict[str, Any]:
    """A chat completion answering `sent` (the request body) with `text`, shaped as the
    request's mode expects: a tool call, a fenced JSON block, or plain JSON content."""
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if sent.get("tools"):
        name = sent["tools"][0]["function"]["name"]
        message["tool_calls"] = [
            {"id": f"call_{number}", "type": "function",
             "function": {"name": name, "arguments": text}}
        ]  # fmt: skip
    elif any("```json" in str(m.get("content")) for m in sent["messages"]):
        message["content"] = f"```json\n{text}\n```"
    else:
        message["content"] = text
    body: dict[str, Any] = {
        "id": f"chatcmpl-{model}-{number}",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }
    return body


class ScriptedReplies:
    """Hand-written answers served in order to the real openai client, in-process.

    For recording `fixture-…` conversations into the cache without a network:
    an httpx2 `MockTransport` wraps each reply the way the request's mode expects
    (a tool call, JSON content, or a fenced JSON block). A reply is a dict (the
    model's JSON), a str (sent verbatim, e.g. malformed JSON), or
    `{"fixture_reply": ..., "finish_reason": ..., "usage": [input, output]}`.
    """

    def __init__(self, replies: Sequence[Any], *, model: str) -> None:
        self.replies = list(replies)
        self.model = model
        self.served = 0
        self.asked = 0

    @property
    def remaining(self) -> int:
        return len(self.replies) - self.served

    def http_client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self._answer))

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        self.asked += 1
        if self.served >= len(self.replies):
            return httpx2.Response(
                400,
                json={
                    "error": {
                        "message": f"{self.model}: the script has {len(self.replies)} "
                        f"replies and the engine asked for reply {self.served + 1}"
                    }
                },
            )
        reply = self.replies[self.served]
        self.served += 1
        finish, usage = "stop", None
        if isinstance(reply, dict) and "fixture_reply" in reply:
            finish = reply.get("finish_reason", "stop")
            usage = reply.get("usage")
            reply = reply["fixture_reply"]
        text = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
        body = fixture_completion(
            json.loads(request.content),
            text,
            model=self.model,
            number=self.served,
            finish_reason=finish,
            usage=usage,
        )
        return httpx2.Response(200, json=body)


def record_conversation(
    article: Article,
    replies: Sequence[Any],
    *,
    model: str,
    cache: Cache,
    mode: str = "tools",
    extraction: ExtractionSettings | None = None,
) -> ExtractionResult:
    """Play hand-written replies through the real client into the cache, in order.

    For `fixture-…` models: the recorded entries then replay with the cache in
    any mode, offline. Raises ConfigError when the engine asked for more replies
    than given, or some were left unused: the script does not match the run.
    """
    script = ScriptedReplies(replies, model=model)
    recorder = Cache(cache.directory, mode="refresh")

    async def run() -> ExtractionResult:
        client = Client(
            EndpointSettings(
                model, base_url="http://fixture.invalid/v1", api_key="fixture", mode=mode
            ),
            CallSettings(retries=0, rpm=None),
            cache=recorder,
            http_client=script.http_client(),
        )
        extractor = Extractor(client, extraction=extraction)
        try:
            return await extractor.extract(article)
        finally:
            await extractor.aclose()

    result = asyncio.run(run())
    if script.asked > len(script.replies):
        raise ConfigError(f"{model} on {article.id}: {result.error}")
    if script.remaining:
        raise ConfigError(
            f"{model} on {article.id}: {script.remaining} of {len(script.replies)} replies "
            f"were not asked for (the run ended {result.status}"
            f"{': ' + result.error if result.error else ''})"
        )
    return result
