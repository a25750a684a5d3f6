"""A model string to the endpoint that serves it: URL, key, provider, and what to redact.

`model` is a plain name served at a base URL (the one given, else
$OPENAI_BASE_URL: Ollama, vLLM, llama.cpp, LM Studio), `provider/model` for a
provider reached through its OpenAI-compatible endpoint (`COMPATIBLE_ENDPOINTS`)
or through instructor's `from_provider` (openai, ollama, ... whose client is
OpenAI-compatible), or a hand-written `fixture-…` model that answers only from
recorded conversations. A URL or key that cannot work is refused here, before
any call: a typo fails at once, not after every retry. Every message we word
about the endpoint has the key and the URL's credentials redacted.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import httpx2
import openai

from llm_extract.cache import endpoint_identity
from llm_extract.errors import ConfigError
from llm_extract.llm import instructor_adapter
from llm_extract.llm.instructor_adapter import Provider
from llm_extract.settings import (
    COMPATIBLE_ENDPOINTS,
    DEFAULT_API_KEY_ENV,
    EndpointSettings,
    model_kind,
)

__all__ = [
    "COMPATIBLE_ENDPOINTS",
    "DEFAULT_API_KEY_ENV",
    "MIN_SECRET_CHARS",
    "PLACEHOLDER_KEYS",
    "Endpoint",
    "connect",
    "is_fixture_model",
    "public_url",
    "redact",
    "url_secrets",
]

log = logging.getLogger(__name__)

MIN_SECRET_CHARS = 8
"""Shorter keys and passwords are refused: removing every occurrence of "x" or "b" from
our error messages would garble them, and leaving them in would leak them."""
PLACEHOLDER_KEYS = frozenset({"none", "empty", "ollama", "dummy", "fixture", "no-key"})
"""Keys local servers' docs tell users to set (vLLM's EMPTY, Ollama's ollama): not secret."""
_KEYED_PROVIDERS = frozenset({"openai"})
"""Providers whose key variable is ours ($OPENAI_API_KEY, or the one named) and required."""
_OFFLINE_URL = "http://fixture.invalid/v1"


def is_fixture_model(model: str) -> bool:
    """Hand-written fixture models answer only from recorded conversations."""
    return model_kind(model) == "fixture"


@dataclass
class Endpoint:
    """Where one model is served, resolved once per run."""

    model: str
    """The model as the user named it (what cache keys and results name)."""
    model_name: str
    """The model as the server names it (`provider/` dropped)."""
    provider: Provider
    default_mode: str
    """The mode to start in unless one is asked for."""
    client: openai.AsyncOpenAI
    """Ready to post: the public base URL, the query and login as options, no retries."""
    base_url: str
    """The endpoint as messages name it: no user, password or query."""
    api_key_env: str
    identity: str | None
    """What cache keys hash of the endpoint: a plain model name only (one name, many servers)."""
    offline: bool
    """A fixture model with no endpoint given: a cache miss is the answer's end."""
    secrets: list[str] = field(repr=False)
    """Redacted from every error we word: the key, and the URL's credentials."""
    notices: list[str] = field(default_factory=list)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def connect(
    settings: EndpointSettings,
    *,
    timeout: float,
    http_client: httpx2.AsyncClient | None = None,
    keyed_by_endpoint: bool = True,
) -> Endpoint:
    """The endpoint `settings` name (its model must be set); the key is `api_key`, else
    what `from_env` found in the key variable; the URL `base_url`, else `$OPENAI_BASE_URL`
    as `from_env` found it, for a plain name only.

    `keyed_by_endpoint=False` leaves the server out of cache keys (batch files,
    whose keys must not depend on where the answers come from)."""
    assert settings.model is not None
    model, base_url, api_key, mode = (
        settings.model,
        settings.base_url,
        settings.api_key,
        settings.mode,
    )
    api_key_env = settings.key_variable
    key = settings.key
    offline = is_fixture_model(model) and http_client is None and base_url is None
    key_env = None if api_key else api_key_env
    given_url = base_url or settings.env_base_url or ""
    secrets = _checked_secrets(key, given_url, key_env)
    provider, model_name, openai_client, default_mode, plain = _resolve(
        model, base_url=base_url, env_base_url=settings.env_base_url, api_key=key,
        api_key_env=api_key_env, mode=mode, offline=offline, secrets=secrets,
    )  # fmt: skip
    url = str(openai_client.base_url)
    if urlsplit(url).query:
        url = url.removesuffix("/")  # openai appends a / to the base URL, query and all
    secrets = _checked_secrets(key, url, key_env)
    notices: list[str] = []
    headers = _url_login(url, key, secrets, notices)
    public = public_url(url)
    query = dict(parse_qsl(urlsplit(url).query))
    client = openai_client.with_options(
        base_url=public,
        max_retries=0,
        timeout=timeout,
        default_query=query or None,
        default_headers=headers or None,
        **({} if http_client is None else {"http_client": http_client}),
    )
    return Endpoint(
        model=model,
        model_name=model_name,
        provider=provider,
        default_mode=default_mode,
        client=client,
        base_url=public,
        api_key_env=api_key_env,
        identity=(
            endpoint_identity(url)
            if keyed_by_endpoint and plain and not is_fixture_model(model)
            else None
        ),
        offline=offline,
        secrets=secrets,
        notices=notices,
    )


def _resolve(
    model: str,
    *,
    base_url: str | None,
    env_base_url: str | None,
    api_key: str | None,
    api_key_env: str,
    mode: str | None,
    offline: bool,
    secrets: list[str],
) -> tuple[Provider, str, openai.AsyncOpenAI, str, bool]:
    """Provider, served name, client, default mode, and whether the name is a plain one."""
    if base_url is not None:
        _checked_url(base_url, "the base URL")
    elif env_base_url:
        _checked_url(env_base_url, "$OPENAI_BASE_URL")
    prefix, _, rest = model.partition("/")
    if rest and prefix in COMPATIBLE_ENDPOINTS:
        if api_key is None:
            raise ConfigError(f"{model}: set ${api_key_env} to the provider's API key")
        url = base_url or COMPATIBLE_ENDPOINTS[prefix][0]
        client = openai.AsyncOpenAI(base_url=url, api_key=api_key)
        return instructor_adapter.OPENAI, rest, client, "tools", False
    if rest and prefix in instructor_adapter.providers():
        return _from_provider(
            model, base_url=base_url, api_key=api_key, api_key_env=api_key_env, mode=mode,
            secrets=secrets,
        )  # fmt: skip
    url = base_url or env_base_url
    if offline:
        url, api_key = _OFFLINE_URL, "fixture"
    if url is None and api_key is None:
        raise ConfigError(
            f"no endpoint for model {model!r}: pass --base-url (or set OPENAI_BASE_URL) "
            f"for a local server, set ${api_key_env} for OpenAI, or use "
            "--model baseline to run offline"
        )
    client = openai.AsyncOpenAI(base_url=url, api_key=api_key or "none")
    return instructor_adapter.OPENAI, model, client, "tools", True


def _from_provider(
    model: str,
    *,
    base_url: str | None,
    api_key: str | None,
    api_key_env: str,
    mode: str | None,
    secrets: list[str],
) -> tuple[Provider, str, openai.AsyncOpenAI, str, bool]:
    missing_key = ConfigError(f"{model}: set ${api_key_env} to the provider's API key")
    if api_key is None and model.partition("/")[0] in _KEYED_PROVIDERS:
        raise missing_key  # the SDK would look for its own variable, not the one named
    kwargs: dict[str, Any] = {}
    if mode is not None:
        kwargs["mode"] = mode
    if base_url is not None:
        kwargs["base_url"] = base_url
    if api_key is not None:
        kwargs["api_key"] = api_key
    try:
        client, provider, default, picked = instructor_adapter.from_provider(model, **kwargs)
    except Exception as err:
        if api_key is None and _asks_for_key(str(err)):
            raise missing_key from None
        raise ConfigError(f"{model}: {redact(str(err), secrets)}") from None
    if not isinstance(client, openai.AsyncOpenAI):
        raise ConfigError(
            f"{model}: the engine records, replays and retries OpenAI-compatible calls "
            "only; use the provider's OpenAI-compatible endpoint instead: "
            "--model <name> --base-url <its /v1 URL> --api-key-env <ITS_KEY_VARIABLE>"
        )
    if default is None:
        raise ConfigError(f"{model}: instructor picked mode {picked}, which is not one of ours")
    return provider, model.partition("/")[2], client, default, False


def _url_login(url: str, key: str | None, secrets: list[str], notices: list[str]) -> dict[str, str]:
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
        notices.append(notice)
        log.warning(notice)
        return {}
    login = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    token = base64.b64encode(login.encode("utf-8")).decode("ascii")
    secrets.append(token)
    return {"Authorization": f"Basic {token}"}


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
