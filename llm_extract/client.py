"""The one door to a model: `Client` assembles the parts in `llm_extract.llm`.

- `endpoints`: the model string to a URL, a key and a provider (and what to redact),
- `modes`: instructor's modes, prepared once per run; parse, re-ask, fallback,
- `recorder`: the record/replay cache and the call log around each call
  (a hit never touches the network),
- `transport`: one POST with tenacity retries (backoff with jitter,
  `Retry-After` honoured on 429, 5xx, timeouts, dropped connections and
  malformed bodies; none on 400/401/403/404) and `--rpm` pacing.

Every attempt, answer, re-ask and token is counted into the caller's
`CallStats`. When a server rejects the structured-output mode (llama-cpp-
python's server answers HTTP 500 to `response_format: json_schema`) the client
moves to the next mode for the rest of the run and says so; each `Completion`
names the mode it was answered in. The names this module has always exported
are re-exported from their new homes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx2
from pydantic import BaseModel

from llm_extract.cache import CallLog, ReplayStore
from llm_extract.errors import ConfigError
from llm_extract.llm.endpoints import (
    COMPATIBLE_ENDPOINTS,
    DEFAULT_API_KEY_ENV,
    connect,
    is_fixture_model,
    public_url,
    redact,
    url_secrets,
)
from llm_extract.llm.modes import (
    FALLBACK_MODES,
    MODES,
    Completion,
    ModePolicy,
    ModeRejected,
    Prepared,
    converse,
    follow_up_request,
)
from llm_extract.llm.recorder import Recorder
from llm_extract.llm.stats import CallStats
from llm_extract.llm.transport import HTTPStatusError, Pacer, Transport
from llm_extract.schemas import ArticleExtraction
from llm_extract.settings import CallSettings, EndpointSettings

ClientConfig = CallSettings
"""The call settings' old name (`settings.CallSettings`)."""

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


class Client:
    """One model behind one endpoint, built once per run and shared by all calls.

    `endpoint` names the model: a plain name served at its base URL (else
    $OPENAI_BASE_URL; Ollama, vLLM, llama.cpp, LM Studio) or `provider/model` for
    instructor's `from_provider` (openai, ollama, ... whose client is OpenAI-compatible);
    the key is its `api_key`, else its key variable's. A bare model name stands for
    `EndpointSettings.from_env(name)`, and no `call` for `CallSettings.from_env()`.
    """

    def __init__(
        self,
        endpoint: EndpointSettings | str,
        call: CallSettings | None = None,
        *,
        cache: ReplayStore | None = None,
        call_log: CallLog | None = None,
        http_client: httpx2.AsyncClient | None = None,
        response_model: type[BaseModel] = ArticleExtraction,
        keyed_by_endpoint: bool = True,
        pacer: Pacer | None = None,
    ) -> None:
        """`keyed_by_endpoint=False` leaves the server out of cache keys (batch files,
        whose keys must not depend on where the answers come from)."""
        if isinstance(endpoint, str):
            endpoint = EndpointSettings.from_env(endpoint)
        if endpoint.model is None:
            raise ConfigError("a client needs a model: name one (--model NAME)")
        model = self.model = endpoint.model
        self.config = call or CallSettings.from_env()
        self.cache = cache
        self.call_log = call_log
        self.response_model = response_model
        self.endpoint = connect(
            endpoint, timeout=self.config.timeout, http_client=http_client,
            keyed_by_endpoint=keyed_by_endpoint,
        )  # fmt: skip
        self.provider = self.endpoint.provider
        self.model_name = self.endpoint.model_name
        self.base_url = self.endpoint.base_url
        """The endpoint as messages name it: no user, password or query."""
        self.notices = self.endpoint.notices
        self.transport = Transport(
            self.endpoint,
            self.config,
            pacer or (Pacer(self.config.rpm) if self.config.rpm else None),
        )
        self.modes = ModePolicy(
            endpoint.mode or self.endpoint.default_mode,
            model_name=self.model_name,
            provider=self.provider,
            config=self.config,
            response_model=response_model,
            notices=self.notices,
        )
        self.recorder = Recorder(
            model,
            cache=cache,
            call_log=call_log,
            endpoint=self.endpoint.identity,
            offline=self.endpoint.offline,
        )

    @property
    def mode(self) -> str:
        """The mode new conversations start in (a fallback changes it for the run)."""
        return self.modes.mode

    @property
    def pacer(self) -> Pacer | None:
        return self.transport.pacer

    @property
    def answered(self) -> bool:
        """Has the endpoint answered anything yet (an error status included)?"""
        return self.transport.answered

    @property
    def completed(self) -> bool:
        """Has the endpoint answered a chat completion yet?"""
        return self.transport.completed

    @property
    def endpoint_fault(self) -> str | None:
        """Why the last call failed, when no server can be at fault but the endpoint itself:
        nothing listens there, or what answers there is not a chat completion server."""
        return self.transport.endpoint_fault

    async def aclose(self) -> None:
        await self.transport.aclose()

    def mark_failed(self, stats: CallStats) -> None:
        """The article these answers were for failed: the cache keeps them, not to replay."""
        self.recorder.mark_failed(stats)

    async def complete(
        self, system: str, turns: Sequence[dict[str, Any]], *, stats: CallStats, max_reasks: int
    ) -> Completion:
        """A validated answer to `turns` (user messages after the system message).

        Validation failures are re-asked up to `max_reasks` times with the error
        fed back; a rejected mode moves the whole client to the next one.
        """
        while True:
            prepared = self.modes.prepare(self.modes.mode, system)
            try:
                return await converse(
                    prepared, prepared.request(turns), send=self._send, stats=stats,
                    max_reasks=max_reasks,
                )  # fmt: skip
            except ModeRejected as rejected:
                self.modes.fall_back(rejected)

    def request(self, system: str, turns: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The first request `complete` would send now, in the current mode (e.g. for a batch file)."""
        return self.modes.prepare(self.modes.mode, system).request(turns)

    def request_key(self, request: dict[str, Any], mode: str | None = None) -> str:
        """The cache key a call with exactly this request looks up."""
        return self.recorder.key(request, mode or self.modes.mode)

    async def follow_up(
        self, completion: Completion, problem: str, *, stats: CallStats, max_reasks: int
    ) -> Completion:
        """Continue after a valid answer that still has a problem (e.g. quotes not found)."""
        request = follow_up_request(completion, problem)
        stats.reasks += 1
        return await converse(
            completion.prepared, request, send=self._send, stats=stats, max_reasks=max_reasks
        )

    async def _send(self, request: dict[str, Any], prepared: Prepared, stats: CallStats) -> Any:
        return await self.recorder.send(request, prepared, stats, self._call)

    async def _call(
        self, content: bytes, prepared: Prepared, stats: CallStats
    ) -> tuple[dict[str, Any], str]:
        """The live call: the transport's, with the mode's rejection test on its error statuses."""
        rejection = self.modes.rejection(prepared.mode)
        try:
            answer = await self.transport.post(content, stats, final=rejection)
        except HTTPStatusError as err:
            if rejection is not None and rejection.rejected:
                raise ModeRejected(prepared.mode, self.transport.status_reason(err)) from None
            raise self.transport.status_error(err) from None
        self.modes.confirm(prepared.mode)
        return answer
