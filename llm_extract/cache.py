"""Record/replay of model calls: cache keys, entry formats, and the replay stores.

A cache is content-addressed: a call's key hashes the model, the mode, the
messages and the request parameters (tool definitions or response format
included), so an answer is replayed only for exactly the request that
produced it. A conversation with a re-ask is several entries: the first
answer's request, then the request that carries the validation error, each
with its own key.

`ReplayStore` is what the model client needs of a cache (lookup, store, mark
failed). `Cache(path, mode)` opens one of its two stores, picked by the path:

- `DbCache`, a `.db` file (the default: the call log's `logs.db`): the
  entries are rows of the `CallStore` (see `llm_extract.callstore`), the same
  rows the call log writes, so with logging on a call costs one insert, not a
  file plus a row. The latest successful live row with a key is that key's entry;
- `FolderCache`, a folder (anything else): pretty-printed JSON files, one per
  call, under `<dir>/<model>/<key>.json`: reviewable, diffable, and fit to
  commit (the eval harness ships hand-written `fixture-…` conversations this way).

A batch run's answers are a third store (`llm_extract.batch`).

The leading messages every call of a run shares (the system prompt, with the
schema in the JSON modes) are most of each request: an entry names them by
digest (`"shared"`) and they are stored once, in `<dir>/prompts/<digest>.json`,
instead of being serialised and written again on every call. The key still
hashes the whole conversation; `Cache.messages(entry)` puts it back together.

`--no-log` writes no rows: a `.db` cache then only replays, a folder still records.
No store ever sees an API key or an HTTP header: callers pass messages,
parameters and the response body only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from llm_extract.callstore import (
    BUSY_TIMEOUT_S,
    FAILED_OUTCOME,
    CallStore,
    default_log_path,
    join_encoded,
    user_dir,
)
from llm_extract.errors import ConfigError, TransportError
from llm_extract.settings import CACHE_MODES, CacheMode, model_slug

__all__ = [
    "BUSY_TIMEOUT_S",
    "CACHE_FORMAT",
    "FAILED_OUTCOME",
    "SHARED_FOLDER",
    "Cache",
    "CacheMiss",
    "CacheMode",
    "CallLog",
    "CallStore",
    "DbCache",
    "FolderCache",
    "ReplayStore",
    "SharedMessages",
    "cache_key",
    "default_cache_path",
    "default_log_path",
    "encode_messages",
    "endpoint_identity",
    "params_digest",
    "user_dir",
]

CACHE_FORMAT = "llm-extract-cache/2"
"""Entry format. /2 names the shared leading messages by digest; /1 entries (the whole
conversation inline) are still read, since replay needs only their response."""
_READABLE = frozenset({"llm-extract-cache/1", CACHE_FORMAT})
_KEY_VERSION = "llm-extract-cache/1"
"""Hashed into every key: changing it orphans every recorded answer."""
SHARED_FOLDER = "prompts"
"""Where in a cache folder the shared leading messages are, one file per digest."""
CallLog = CallStore
"""The call log's old name: one store is both the log and the `.db` cache."""


def default_cache_path() -> Path:
    """$LLM_EXTRACT_CACHE_DIR (a folder, or a `.db` file), else the call log's database."""
    if env := os.environ.get("LLM_EXTRACT_CACHE_DIR"):
        return Path(env)
    return default_log_path()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def params_digest(params: Mapping[str, Any]) -> str:
    """Digest of a request's fixed part (tools, response format, sampling parameters).

    Computed once per prepared request, so a call hashes only its messages.
    """
    return hashlib.sha256(_canonical(params).encode("utf-8")).hexdigest()


def endpoint_identity(url: str) -> str:
    """scheme://host:port/path of a base URL: no credentials, query or fragment, ever."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    where = f"[{host}]" if ":" in host else host
    return f"{scheme}://{where}{f':{port}' if port else ''}{parts.path.rstrip('/')}"


def encode_messages(messages: list[Any]) -> str:
    """Messages as canonical JSON: hashed for the key and sent as the request body as is."""
    return _canonical(messages)


def cache_key(
    *,
    model: str,
    mode: str,
    messages: list[Any] | str,
    params: str,
    endpoint: str | None = None,
) -> str:
    """The content address of one call; `params` is a `params_digest`, `messages` a list
    or its `encode_messages` form (the same key either way). `endpoint` (see
    `endpoint_identity`) keeps one model name on two servers apart; without it the
    key is what it always was."""
    encoded = messages if isinstance(messages, str) else encode_messages(messages)
    head = [_KEY_VERSION, model, mode, params] + ([endpoint] if endpoint else [])
    blob = _canonical(head)[:-1] + "," + encoded + "]"
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class SharedMessages:
    """Leading messages every call of a run starts with, encoded and hashed once.

    `join(rest)` is `encode_messages(messages + rest)` without encoding `messages`
    again, so the key and the request body cost only what differs per call.
    """

    messages: tuple[Mapping[str, Any], ...]
    encoded: str
    digest: str

    @classmethod
    def of(cls, messages: Sequence[Mapping[str, Any]]) -> SharedMessages:
        encoded = encode_messages(list(messages))
        digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()
        return cls(tuple(messages), encoded, digest)

    def __len__(self) -> int:
        return len(self.messages)

    def join(self, rest: str) -> str:
        """The encoded whole conversation from the encoded messages after these."""
        return join_encoded(self.encoded, rest)


class CacheMiss(TransportError):
    """Replay-only was asked for and this exact request was never recorded."""


class ReplayStore(Protocol):
    """What the model client asks of a cache: one implementation per place answers live."""

    mode: CacheMode

    @property
    def threaded(self) -> bool:
        """`store` touches the file system: the client runs it off the event loop."""

    @property
    def records(self) -> bool:
        """Live answers are stored (and failed ones marked)."""

    def lookup(self, model: str, key: str) -> dict[str, Any] | None:
        """The recorded entry (`response`, and `spent` for an answer paid for on this run's
        behalf), None on a miss; a store that cannot miss quietly raises `CacheMiss`."""

    def store(
        self,
        *,
        key: str,
        model: str,
        mode: str,
        messages: list[Any],
        params: Mapping[str, Any],
        response: Mapping[str, Any],
        latency_s: float | None = None,
        shared: SharedMessages | None = None,
    ) -> Path | None:
        """Record one live answer."""

    def mark_failed(self, model: str, keys: Iterable[str]) -> None:
        """The answers to `keys` led to a failed article: no longer replayed."""

    def logged_by(self, call_log: CallStore | None) -> bool:
        """Is a successful live row in `call_log` already this store's entry?"""


class Cache:
    """Recorded calls by content key, replayed by `mode`; `Cache(path)` opens the store the
    path names: a `.db` file is a `DbCache`, anything else a `FolderCache`."""

    threaded: ClassVar[bool]
    log: CallStore | None = None
    """The database whose rows are the entries; None for a folder."""

    def __new__(cls, directory: str | Path | None = None, *args: Any, **kwargs: Any) -> Cache:
        if cls is Cache:
            path = Path(directory) if directory is not None else default_cache_path()
            cls = DbCache if path.suffix == ".db" and not path.is_dir() else FolderCache
        return super().__new__(cls)

    def __init__(
        self, directory: str | Path | None = None, mode: CacheMode = "use", *, no_log: bool = False
    ) -> None:
        """`no_log` (the CLI's `--no-log`): write no call rows."""
        if mode not in CACHE_MODES:
            raise ConfigError(f"unknown cache mode {mode!r}; choose from {', '.join(CACHE_MODES)}")
        self.directory = Path(directory) if directory is not None else default_cache_path()
        """The store: a `.db` file, or a folder."""
        self.mode: CacheMode = mode
        self.no_log = no_log
        self.hits = 0
        self.misses = 0
        self.writes = 0

    @property
    def reads(self) -> bool:
        return self.mode in ("use", "replay-only")

    @property
    def records(self) -> bool:
        return self.mode in ("use", "refresh")

    def lookup(self, model: str, key: str) -> dict[str, Any] | None:
        """The recorded entry, None on a miss; in replay-only mode a miss raises.

        An answer whose article failed is not replayed (a retry must reach the
        server), except in replay-only mode, which has nowhere else to go.
        """
        if not self.reads:
            return None
        entry = self._entry(model, key, failed=self.mode == "replay-only")
        if entry is None or entry.get("format") not in _READABLE:
            self.misses += 1
            if self.mode == "replay-only":
                raise CacheMiss(
                    f"replay-only: no recorded answer of {model!r} for this request "
                    f"(key {key} in {self.directory}); record it first with --cache use, "
                    "or check that the prompt, schema and mode are the ones recorded"
                )
            return None
        self.hits += 1
        return entry

    def store(
        self,
        *,
        key: str,
        model: str,
        mode: str,
        messages: list[Any],
        params: Mapping[str, Any],
        response: Mapping[str, Any],
        latency_s: float | None = None,
        shared: SharedMessages | None = None,
    ) -> Path | None:
        """Record one call; `params` are the request's sampling parameters (no schema).

        With `shared` (the leading messages of `messages`) the entry names them by
        digest and they are written once, before any entry that refers to them.
        """
        if not self.records:
            return None
        written = self._write(
            key=key, model=model, mode=mode, messages=messages, params=params,
            response=response, latency_s=latency_s, shared=shared,
        )  # fmt: skip
        self.writes += 1
        return written

    def mark_failed(self, model: str, keys: Iterable[str]) -> None:
        """The recorded answers to `keys` led to a failed article: keep them, marked, and
        stop replaying them, so a retry asks the server (a recording mode only)."""
        if self.records:
            self._mark_failed(model, keys)

    def logged_by(self, call_log: CallStore | None) -> bool:
        return False

    def shared_path(self, digest: str) -> Path:
        return self.directory / SHARED_FOLDER / f"{digest}.json"

    def messages(self, entry: Mapping[str, Any]) -> list[Any]:
        """An entry's whole conversation, its shared leading messages put back."""
        request = entry["request"]
        digest = request.get("shared")
        if digest is None:
            return list(request["messages"])
        path = self.shared_path(digest)
        try:
            shared = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(
                f"{path}: shared messages of entry {entry.get('key')} unreadable ({err}); "
                "re-record the entry"
            ) from None
        return [*shared, *request["messages"]]

    def _entry(self, model: str, key: str, *, failed: bool) -> dict[str, Any] | None:
        raise NotImplementedError

    def _write(self, **entry: Any) -> Path | None:
        raise NotImplementedError

    def _mark_failed(self, model: str, keys: Iterable[str]) -> None:
        raise NotImplementedError


class DbCache(Cache):
    """Entries as rows of a `CallStore`: the call log's own rows when it is the same file.

    With `no_log` (the CLI's `--no-log`) it writes nothing, since its entries are log
    rows: it only replays, and a file that does not exist yet is not created.
    """

    threaded = False  # one insert, on the loop like the call log's

    def __init__(
        self, directory: str | Path | None = None, mode: CacheMode = "use", *, no_log: bool = False
    ) -> None:
        super().__init__(directory, mode, no_log=no_log)
        opens = mode != "off" and not (no_log and not self.directory.exists())
        self.log = CallStore(self.directory) if opens else None

    @property
    def records(self) -> bool:
        return super().records and not self.no_log

    def logged_by(self, call_log: CallStore | None) -> bool:
        """The log row of a live call is its entry when the log is this database."""
        return self.log is not None and self.log.same_store(call_log)

    def _entry(self, model: str, key: str, *, failed: bool) -> dict[str, Any] | None:
        entry = self.log.entry(model, key, failed=failed) if self.log is not None else None
        return None if entry is None else {"format": CACHE_FORMAT, **entry}

    def _write(
        self,
        *,
        key: str,
        model: str,
        mode: str,
        messages: list[Any],
        params: Mapping[str, Any],
        response: Mapping[str, Any],
        latency_s: float | None,
        shared: SharedMessages | None,
    ) -> Path | None:
        """One row; the sampling parameters are in the key only."""
        assert self.log is not None
        self.log.record(
            model=model,
            mode=mode,
            status="ok",
            messages=messages[len(shared) :] if shared else messages,
            shared=shared,
            response=response,
            cache_key=key,
            duration_s=latency_s,
        )
        return self.directory

    def _mark_failed(self, model: str, keys: Iterable[str]) -> None:
        if self.log is not None:
            self.log.mark_failed(model, keys)


class FolderCache(Cache):
    """Entries as JSON files in a folder, one per call, the shared messages once each."""

    threaded = True  # file system calls go off the event loop

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared_written: set[str] = set()

    def path(self, model: str, key: str) -> Path:
        return self.directory / model_slug(model) / f"{key}.json"

    def _entry(self, model: str, key: str, *, failed: bool) -> dict[str, Any] | None:
        entry = self._read_file(model, key)
        if entry is not None and entry.get("outcome") == FAILED_OUTCOME and not failed:
            return None
        return entry

    def _read_file(self, model: str, key: str) -> dict[str, Any] | None:
        path = self.path(model, key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path}: unreadable cache entry ({err}); delete it") from None

    def _write(
        self,
        *,
        key: str,
        model: str,
        mode: str,
        messages: list[Any],
        params: Mapping[str, Any],
        response: Mapping[str, Any],
        latency_s: float | None,
        shared: SharedMessages | None,
    ) -> Path | None:
        request: dict[str, Any] = {"params": dict(params)}
        if shared:
            self._store_shared(shared)
            request["shared"] = shared.digest
            messages = messages[len(shared) :]
        request["messages"] = messages
        entry = {
            "format": CACHE_FORMAT,
            "key": key,
            "model": model,
            "mode": mode,
            "recorded": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "latency_s": None if latency_s is None else round(latency_s, 3),
            "request": request,
            "response": dict(response),
        }
        path = self.path(model, key)
        _write_atomically(path, _entry_text(entry))
        return path

    def _mark_failed(self, model: str, keys: Iterable[str]) -> None:
        for key in set(keys):
            try:
                entry = self._read_file(model, key)
            except ConfigError:
                continue
            if entry is not None and entry.get("outcome") != FAILED_OUTCOME:
                entry["outcome"] = FAILED_OUTCOME
                _write_atomically(self.path(model, key), _entry_text(entry))

    def _store_shared(self, shared: SharedMessages) -> None:
        if shared.digest in self._shared_written:
            return
        path = self.shared_path(shared.digest)
        if not path.exists():
            text = json.dumps(list(shared.messages), ensure_ascii=False, indent=1) + "\n"
            _write_atomically(path, text)
        self._shared_written.add(shared.digest)


def _entry_text(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, indent=1) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    """All of `text` at `path` or nothing: a killed run leaves no half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
    except FileNotFoundError:  # the folder's first file (one syscall fewer for every other)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
