"""One chat-completions POST with transport retries and pacing.

tenacity retries with exponential backoff and jitter, honours `Retry-After` on
429, retries 5xx, timeouts, dropped connections and malformed bodies, and none
of 400/401/403/404. A refused connection to an endpoint that has never
answered in this run is given up on in about two seconds (a dead or mistyped
URL). An HTTP error status comes out as `HTTPStatusError`, which keeps the
status code and body; the caller may stop the retries early on one (a server
rejecting the structured-output mode) and words the rest with `status_error`.
Every other failure comes out as a `TransportError` worded for the user.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential_jitter,
)

from llm_extract.errors import ConfigError, TransportError
from llm_extract.llm.endpoints import Endpoint
from llm_extract.llm.stats import CallStats
from llm_extract.settings import CallSettings

__all__ = ["HTTPStatusError", "Pacer", "Transport", "times"]

_DEAD_ENDPOINT_S = 1.5
"""How long refused connections are retried while the endpoint has never answered."""


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


class HTTPStatusError(TransportError):
    """The server answered an error status: its code, body and message, as it sent them."""

    def __init__(self, status: int, body: str, message: str, *, tries: int) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.body = body
        """The response body as the server sent it."""
        self.message = message
        """The server's own message (at most 300 characters), not yet redacted."""
        self.tries = tries

    @classmethod
    def of(cls, err: openai.APIStatusError, tries: int) -> HTTPStatusError:
        body = err.response.text if err.response is not None else ""
        return cls(err.status_code, body, _server_message(err), tries=tries)


class _Malformed(Exception):
    """A 2xx answer that is not a chat completion: retried like a dropped connection."""


class _Deadline(Exception):
    """An attempt ran past the timeout in all (a server trickling its answer byte by byte
    resets httpx's per-read timeout forever): retried like a timeout."""


class Transport:
    """The run's POSTs to one endpoint, and what they have shown of it so far."""

    def __init__(self, endpoint: Endpoint, config: CallSettings, pacer: Pacer | None) -> None:
        self.endpoint = endpoint
        self.config = config
        self.pacer = pacer
        self._backoff = wait_exponential_jitter(
            multiplier=config.backoff, max=config.backoff_max, jitter=config.backoff
        )
        self.answered = False
        """Has the endpoint answered anything yet (an error status included)?"""
        self.completed = False
        """Has the endpoint answered a chat completion yet?"""
        self.endpoint_fault: str | None = None
        """Why the last call failed, when no server can be at fault but the endpoint itself:
        nothing listens there, or what answers there is not a chat completion server."""

    async def aclose(self) -> None:
        await self.endpoint.client.close()

    async def post(
        self,
        content: bytes,
        stats: CallStats,
        *,
        final: Callable[[HTTPStatusError], bool] | None = None,
    ) -> tuple[dict[str, Any], str]:
        """One call with transport retries; returns the answer's JSON body, parsed and as sent.

        `final` sees every error status as it comes: True ends the retries there.
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
        base_url = self.endpoint.base_url
        tries = 0
        try:
            async for attempt in retrying:
                with attempt:
                    if self.pacer is not None:
                        await self.pacer.wait()
                    tries += 1
                    stats.attempts += 1
                    try:
                        async with asyncio.timeout(self.config.timeout):
                            raw = await self.endpoint.client.post(
                                "/chat/completions", cast_to=httpx2.Response, content=content
                            )
                            text = raw.text
                    except TimeoutError:
                        raise _Deadline() from None
                    except openai.APIStatusError as err:
                        self.answered = True
                        if final is not None and final(status := HTTPStatusError.of(err, tries)):
                            raise status from None
                        raise
                    self.answered = True
                    body = _body(text)
                    self.completed = True
                    return body, text
        except HTTPStatusError:
            raise
        except openai.APIStatusError as err:
            raise HTTPStatusError.of(err, tries) from None
        except (openai.APITimeoutError, _Deadline):
            raise TransportError(
                f"no answer from {base_url} within {self.config.timeout:g} s "
                f"({times(tries)}); raise --timeout or check the server"
            ) from None
        except openai.APIConnectionError as err:
            cause = self.endpoint.redact(str(err.__cause__ or err))
            if _dropped(err):
                raise TransportError(
                    f"{base_url} dropped the connection before answering ({cause}; {times(tries)})"
                ) from None
            if self.answered:
                raise TransportError(
                    f"{base_url} stopped accepting connections ({cause}; {times(tries)}) "
                    "after answering earlier in this run; is it still running?"
                ) from None
            self.endpoint_fault = "nothing answers there"
            raise TransportError(
                f"cannot reach {base_url} ({cause}; {times(tries)}); "
                "is the server running and the URL right?"
            ) from None
        except _Malformed as err:
            if not self.completed:
                self.endpoint_fault = "what answers there is not a chat completion server"
            raise TransportError(
                f"{base_url} answered with something that is not a chat completion "
                f"({err}; {times(tries)})"
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def status_reason(self, err: HTTPStatusError) -> str:
        return f"HTTP {err.status}: {self.endpoint.redact(err.message)}"

    def status_error(self, err: HTTPStatusError) -> Exception:
        """An error status as the user reads it: a bad key or route is a config error."""
        reason = self.status_reason(err)
        status = err.status
        base_url = self.endpoint.base_url
        if status in (401, 403):
            return ConfigError(
                f"{base_url} refused the API key ({reason}); check ${self.endpoint.api_key_env}"
            )
        if status == 404:
            return ConfigError(
                f"{base_url} has no such model or route ({reason}); check --base-url "
                f"and that {self.endpoint.model_name!r} is served there"
            )
        if status == 429:
            return TransportError(
                f"rate limited by {base_url} ({reason}; {times(err.tries)}); "
                "lower --concurrency or set --rpm"
            )
        if status >= 500:
            return TransportError(f"{base_url} kept failing ({reason}; {times(err.tries)})")
        return TransportError(f"{base_url} rejected the request ({reason})")

    def _stop(self, state: RetryCallState) -> bool:
        """After the configured retries; sooner for a refused connection to an endpoint
        that never answered (a dead or mistyped URL fails in about two seconds)."""
        if state.attempt_number > self.config.retries:
            return True
        err = state.outcome.exception() if state.outcome else None
        refused = isinstance(err, openai.APIConnectionError) and not _dropped(err)
        dead = refused and not self.answered
        return dead and state.seconds_since_start >= _DEAD_ENDPOINT_S

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


def times(count: int, what: str = "attempt") -> str:
    """`count` `what`s, in words: "1 attempt", "3 re-asks"."""
    return f"{count} {what}{'' if count == 1 else 's'}"


def _body(text: str) -> dict[str, Any]:
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


def _dropped(err: openai.APIConnectionError) -> bool:
    """A connection made and lost mid-call, as against none made (refused, no such host)."""
    return isinstance(
        err.__cause__, (httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError)
    )


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
