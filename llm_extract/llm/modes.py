"""The structured-output protocol: a prepared mode, the conversation, and the fallback.

Why not `instructor.create()` per call: it rebuilds the JSON Schema and walks
the response model for async validators on every call (about 10 ms of CPU,
which caps a 2-core machine long before the network does). A `Prepared` mode
asks instructor's per-mode handlers once per run (and system prompt) for the
tool definitions, response format or schema-bearing system message; per call
only the messages are filled in, and the same handlers parse each answer and
word each re-ask (`converse`).

`ModePolicy` is the run's mode: the one asked for, or the provider's default,
until a server rejects it (llama-cpp-python's server answers HTTP 500 to
`response_format: json_schema`; llama-server without --jinja 500 "tools param
requires --jinja flag"). Whether an error status rejects the mode is decided
here, per call (`Rejection`), not in the transport's retry loop: the loop only
asks it whether to stop. A rejected mode moves the whole run to the next one
of `FALLBACK_MODES`, with a notice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from llm_extract.cache import SharedMessages, params_digest
from llm_extract.errors import ModelOutputError, TransportError
from llm_extract.llm import instructor_adapter
from llm_extract.llm.instructor_adapter import IncompleteOutputException, Provider
from llm_extract.llm.stats import CallStats
from llm_extract.llm.transport import HTTPStatusError, times
from llm_extract.schemas import ArticleExtraction, strict_schema
from llm_extract.settings import CallSettings

__all__ = [
    "FALLBACK_MODES",
    "MODES",
    "Completion",
    "ModePolicy",
    "ModeRejected",
    "Prepared",
    "Rejection",
    "converse",
    "follow_up_request",
    "prepare",
    "render_request",
]

log = logging.getLogger(__name__)

MODES = instructor_adapter.MODES
FALLBACK_MODES: dict[str, tuple[str, ...]] = {
    "tools": ("json_schema", "md_json"),
    "json_schema": ("tools", "md_json"),
    "json": ("md_json",),
    "md_json": (),
}
"""What to try, in order, when a server rejects a mode."""

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


@dataclass
class Prepared:
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

    def request(self, turns: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The first request of a conversation: the fixed part and the messages."""
        return {**self.params, "messages": self.messages(turns)}


@dataclass
class Completion:
    """A validated answer with what it takes to continue the conversation."""

    value: BaseModel
    response: ChatCompletion
    request: dict[str, Any]
    mode: str
    """The mode this answer was asked and parsed in (a fallback changes the run's mode
    for later calls, never this one's)."""
    prepared: Prepared = field(repr=False)


def prepare(
    mode: str,
    system: str,
    *,
    model_name: str,
    provider: Provider = instructor_adapter.OPENAI,
    config: CallSettings | None = None,
    response_model: type[BaseModel] = ArticleExtraction,
) -> Prepared:
    """`mode`'s request for `system` with the article left open, from instructor's handlers."""
    handlers = instructor_adapter.handlers(provider, mode)
    sampling: dict[str, Any] = {}
    if config is not None and config.temperature is not None:
        sampling["temperature"] = config.temperature
    if config is not None and config.max_tokens is not None:
        sampling["max_tokens"] = config.max_tokens
    seed = [{"role": "system", "content": system}, {"role": "user", "content": _SLOT}]
    _, kwargs = handlers.request_handler(
        response_model=response_model,
        kwargs={"model": model_name, **sampling, "messages": seed},
    )
    if mode == "json_schema":
        kwargs["response_format"] = _strict_format(kwargs["response_format"])
    messages = kwargs.pop("messages")
    index = next(i for i, m in enumerate(messages) if _SLOT in (m.get("content") or ""))
    before, after = messages[index]["content"].split(_SLOT)
    return Prepared(
        mode=mode,
        handlers=handlers,
        response_model=response_model,  # instructor's wrapper subclass adds nothing here
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


def render_request(
    system: str,
    turns: Sequence[dict[str, Any]],
    *,
    model_name: str,
    mode: str,
    provider: Provider = instructor_adapter.OPENAI,
    config: CallSettings | None = None,
    response_model: type[BaseModel] = ArticleExtraction,
) -> dict[str, Any]:
    """The first request a client would send for `turns`, without a client (batch files);
    `model_name` is the name the server serves (what `body.model` says)."""
    prepared = prepare(
        mode, system, model_name=model_name, provider=provider, config=config,
        response_model=response_model,
    )  # fmt: skip
    return prepared.request(turns)


class ModeRejected(Exception):
    """The server cannot do this mode: the run falls back to the next one."""

    def __init__(self, mode: str, reason: str) -> None:
        super().__init__(reason)
        self.mode = mode
        self.reason = reason


class Rejection:
    """Does an error status to one call say the server cannot do its mode? It does when
    the server names what the mode sends, or after bare 500s in a row to a response
    format (llama-cpp-python's answer: the same as a passing failure, so one is not
    enough; the fallback lasts the whole run)."""

    def __init__(self, mode: str, bare_limit: int) -> None:
        self.mode = mode
        self.bare_limit = bare_limit
        self.bare = 0
        self.rejected = False

    def __call__(self, err: HTTPStatusError) -> bool:
        if err.status not in _REJECTING_STATUSES:
            return False
        self.bare += err.status in (500, 501) and self.mode in _RESPONSE_FORMAT_MODES
        message = err.message.lower()
        named = any(word in message for word in _MODE_FEATURES[self.mode])
        self.rejected = named or self.bare >= self.bare_limit
        return self.rejected


class ModePolicy:
    """The run's mode, the modes confirmed and rejected so far, and each mode's request."""

    def __init__(
        self,
        mode: str,
        *,
        model_name: str,
        provider: Provider,
        config: CallSettings,
        response_model: type[BaseModel],
        notices: list[str],
    ) -> None:
        self.mode = mode
        self.model_name = model_name
        self.provider = provider
        self.config = config
        self.response_model = response_model
        self.notices = notices
        self._confirmed: set[str] = set()
        self._rejected: set[str] = set()
        self._prepared: dict[tuple[str, str], Prepared] = {}

    def prepare(self, mode: str, system: str) -> Prepared:
        cached = self._prepared.get((mode, system))
        if cached is None:
            cached = self._prepared[(mode, system)] = prepare(
                mode, system, model_name=self.model_name, provider=self.provider,
                config=self.config, response_model=self.response_model,
            )  # fmt: skip
        return cached

    def rejection(self, mode: str) -> Rejection | None:
        """A rejection test for a call in `mode`; none once the mode has answered."""
        if mode in self._confirmed:
            return None
        return Rejection(mode, min(_BARE_REJECTIONS, self.config.retries + 1))

    def confirm(self, mode: str) -> None:
        """The server answered in `mode`: no later error rejects it."""
        self._confirmed.add(mode)

    def fall_back(self, rejected: ModeRejected) -> None:
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


Send = Callable[[dict[str, Any], Prepared, CallStats], Awaitable[ChatCompletion]]
"""One call of a conversation: the request to its answer (see `llm_extract.llm.recorder`)."""


async def converse(
    prepared: Prepared,
    request: dict[str, Any],
    *,
    send: Send,
    stats: CallStats,
    max_reasks: int,
) -> Completion:
    """Ask, parse and validate; re-ask with the error fed back up to `max_reasks` times."""
    response = await send(request, prepared, stats)
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
                    f"the answer failed validation after {times(max_reasks, 're-ask')}: "
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
        response = await send(request, prepared, stats)
    raise AssertionError("unreachable: the last re-ask returns or raises")


class _Problem(ValueError):
    """A problem found after validation, worded for the model by the mode's re-ask handler."""


def follow_up_request(completion: Completion, problem: str) -> dict[str, Any]:
    """The request that continues after a valid answer that still has `problem`."""
    return completion.prepared.handlers.reask_handler(
        kwargs={**completion.request, "messages": list(completion.request["messages"])},
        response=completion.response,
        exception=_Problem(problem),
    )


def _strict_format(response_format: dict[str, Any]) -> dict[str, Any]:
    """instructor's `json_schema` response format made strict: OpenAI then enforces the
    schema instead of taking it as a hint; servers that do not know `strict` (llama.cpp,
    vLLM, Ollama) constrain to the same schema. The answer is validated as before."""
    spec = response_format["json_schema"]
    return {
        **response_format,
        "json_schema": {**spec, "schema": strict_schema(spec["schema"]), "strict": True},
    }


def _text_answer(response: ChatCompletion, prepared: Prepared) -> BaseModel | None:
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
