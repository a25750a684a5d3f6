"""Record/replay of model calls, and the log of every call.

`Cache` is content-addressed: a call's key hashes the model, the mode, the
messages and the request parameters (tool definitions or response format
included), so an answer is replayed only for exactly the request that
produced it. A conversation with a re-ask is several entries: the first
answer's request, then the request that carries the validation error, each
with its own key. Two stores, picked by the path:

- a `.db` file (the default: the call log's `logs.db`): the entries are the
  call log's rows, so with logging on a call costs one insert, not a file
  plus a row. The latest successful live row with a key is that key's entry;
- a folder (anything else): pretty-printed JSON files, one per call, under
  `<dir>/<model>/<key>.json`: reviewable, diffable, and fit to commit (the
  eval harness ships hand-written `fixture-…` conversations this way).

The leading messages every call of a run shares (the system prompt, with the
schema in the JSON modes) are most of each request: an entry names them by
digest (`"shared"`) and they are stored once, in `<dir>/prompts/<digest>.json`,
instead of being serialised and written again on every call. The key still
hashes the whole conversation; `Cache.messages(entry)` puts it back together.

`CallLog` is an append-only SQLite table of every call, live, replayed or
failed (simonw/llm style). Shared messages go once into its `prompts` table
the same way. `--no-log` turns the log off; a `.db` cache then still writes
the rows it replays (successful live calls), and nothing else.

Neither ever sees an API key or an HTTP header: callers pass messages,
parameters and the response body only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

from llm_extract.errors import ConfigError, TransportError

__all__ = [
    "BUSY_TIMEOUT_S",
    "CACHE_FORMAT",
    "FAILED_OUTCOME",
    "SHARED_FOLDER",
    "Cache",
    "CacheMiss",
    "CacheMode",
    "CallLog",
    "SharedMessages",
    "cache_key",
    "default_cache_path",
    "default_log_path",
    "encode_messages",
    "endpoint_identity",
    "params_digest",
    "user_dir",
]

CacheMode = Literal["use", "refresh", "off", "replay-only"]
"""use: replay a hit, record a miss; refresh: always call, re-record; off: neither;
replay-only: never call, a miss is an error."""

CACHE_FORMAT = "llm-extract-cache/2"
"""Entry format. /2 names the shared leading messages by digest; /1 entries (the whole
conversation inline) are still read, since replay needs only their response."""
_READABLE = frozenset({"llm-extract-cache/1", CACHE_FORMAT})
_KEY_VERSION = "llm-extract-cache/1"
"""Hashed into every key: changing it orphans every recorded answer."""
SHARED_FOLDER = "prompts"
"""Where in a cache folder the shared leading messages are, one file per digest."""


def user_dir() -> Path:
    """Where logs and the default cache live: $LLM_EXTRACT_HOME, else the XDG data dir."""
    if home := os.environ.get("LLM_EXTRACT_HOME"):
        return Path(home)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "llm-extract"


def default_cache_path() -> Path:
    """$LLM_EXTRACT_CACHE_DIR (a folder, or a `.db` file), else the call log's database."""
    if env := os.environ.get("LLM_EXTRACT_CACHE_DIR"):
        return Path(env)
    return default_log_path()


def default_log_path() -> Path:
    return user_dir() / "logs.db"


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
        return _join(self.encoded, rest)


def _join(head: str, rest: str) -> str:
    """Two encoded message lists as one."""
    if rest == "[]":
        return head
    return rest if head == "[]" else head[:-1] + "," + rest[1:]


class CacheMiss(TransportError):
    """Replay-only was asked for and this exact request was never recorded."""


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _slug(model: str) -> str:
    return _UNSAFE.sub("-", model.replace("/", "--")).strip("-") or "model"


class Cache:
    """Recorded calls by content key: rows of a call-log database, or JSON files in a folder."""

    def __init__(self, directory: str | Path | None = None, mode: CacheMode = "use") -> None:
        if mode not in get_args(CacheMode):
            raise ConfigError(
                f"unknown cache mode {mode!r}; choose from {', '.join(get_args(CacheMode))}"
            )
        self.directory = Path(directory) if directory is not None else default_cache_path()
        """The store: a `.db` file, or a folder."""
        self.mode: CacheMode = mode
        is_db = self.directory.suffix == ".db" and not self.directory.is_dir()
        self.log: CallLog | None = CallLog(self.directory) if is_db and mode != "off" else None
        """The database whose rows are the entries; None for a folder."""
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._shared_written: set[str] = set()

    @property
    def reads(self) -> bool:
        return self.mode in ("use", "replay-only")

    @property
    def records(self) -> bool:
        return self.mode in ("use", "refresh")

    def path(self, model: str, key: str) -> Path:
        return self.directory / _slug(model) / f"{key}.json"

    def lookup(self, model: str, key: str) -> dict[str, Any] | None:
        """The recorded entry, None on a miss; in replay-only mode a miss raises.

        An answer whose article failed is not replayed (a retry must reach the
        server), except in replay-only mode, which has nowhere else to go.
        """
        if not self.reads:
            return None
        failed = self.mode == "replay-only"
        if self.log is None:
            entry = self._read_file(model, key)
            if entry is not None and entry.get("outcome") == FAILED_OUTCOME and not failed:
                entry = None
        else:
            entry = self.log.entry(model, key, failed=failed)
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

    def _read_file(self, model: str, key: str) -> dict[str, Any] | None:
        path = self.path(model, key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path}: unreadable cache entry ({err}); delete it") from None

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
        A `.db` store writes one row (a call log on the same file writes it instead:
        see `Client`); the sampling parameters are then in the key only.
        """
        if not self.records:
            return None
        if self.log is not None:
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
            self.writes += 1
            return self.directory
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
        self.writes += 1
        return path

    def mark_failed(self, model: str, keys: Iterable[str]) -> None:
        """The recorded answers to `keys` led to a failed article: keep them, marked, and
        stop replaying them, so a retry asks the server (a recording mode only)."""
        if not self.records:
            return
        if self.log is not None:
            self.log.mark_failed(model, keys)
            return
        for key in set(keys):
            try:
                entry = self._read_file(model, key)
            except ConfigError:
                continue
            if entry is not None and entry.get("outcome") != FAILED_OUTCOME:
                entry["outcome"] = FAILED_OUTCOME
                _write_atomically(self.path(model, key), _entry_text(entry))

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


_MIGRATIONS = [
    """CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        model TEXT NOT NULL,
        mode TEXT,
        article_id TEXT,
        prompt_name TEXT,
        prompt_hash TEXT,
        cache_key TEXT,
        cached INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        error TEXT,
        attempts INTEGER,
        input_tokens INTEGER,
        output_tokens INTEGER,
        duration_s REAL,
        messages TEXT,
        response TEXT
    )""",
    "CREATE INDEX calls_article ON calls (article_id)",
    "CREATE TABLE prompts (digest TEXT PRIMARY KEY, messages TEXT NOT NULL)",
    "ALTER TABLE calls ADD COLUMN shared TEXT REFERENCES prompts (digest)",
    "CREATE INDEX calls_cache_key ON calls (cache_key)",
    "ALTER TABLE calls ADD COLUMN outcome TEXT",
]
"""Append-only: a schema change is a new statement at the end, never an edit."""

_COLUMNS = set(re.findall(r"^\s+(\w+) [A-Z]", _MIGRATIONS[0], re.MULTILINE)) | {
    "shared",
    "outcome",
}
FAILED_OUTCOME = "failed"
"""`outcome` of an answer whose article ended failed: kept for the record, never replayed."""
BUSY_TIMEOUT_S = 30.0
"""How long one statement waits for another process's write to finish."""
_WRITE_TRIES = 5
"""Attempts of a write that still finds the database locked after the busy timeout."""
_T = TypeVar("_T")


def _text(value: Any) -> str | None:
    """JSON for a column; a str is JSON already (the encoded messages, the body as sent)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class CallLog:
    """Every call as one SQLite row: what was sent, what came back, what it cost.

    A row's `shared` names leading messages stored once in the `prompts` table;
    its `messages` are the rest (`rows()` joins them back).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        """Opens (and creates or upgrades) the database; safe when several processes open
        one fresh file at once: the migrations run in one `BEGIN IMMEDIATE` transaction,
        so exactly one process applies each, and every statement waits out another
        process's write (busy timeout) instead of failing."""
        self.path = Path(path) if path is not None else default_log_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
        )
        _retrying(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
        self._db.execute("PRAGMA synchronous=NORMAL")
        _retrying(self._migrate)
        self._shared_logged: set[str] = set()

    def _migrate(self) -> None:
        if self._version() >= len(_MIGRATIONS):
            return  # the common case: no write lock taken
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()  # again, under the lock: another process may have run
            for number, statement in enumerate(_MIGRATIONS[version:], start=version + 1):
                self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def record(
        self,
        *,
        model: str,
        mode: str | None,
        status: str,
        messages: list[Any] | str | None = None,
        response: Mapping[str, Any] | str | None = None,
        error: str | None = None,
        article_id: str | None = None,
        prompt_name: str | None = None,
        prompt_hash: str | None = None,
        cache_key: str | None = None,
        cached: bool = False,
        attempts: int | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        duration_s: float | None = None,
        shared: SharedMessages | None = None,
    ) -> None:
        """One call; with `shared`, `messages` are those after the shared ones."""
        if shared and shared.digest not in self._shared_logged:
            _retrying(
                lambda: self._db.execute(
                    "INSERT OR IGNORE INTO prompts (digest, messages) VALUES (?, ?)",
                    (shared.digest, shared.encoded),
                )
            )
            self._shared_logged.add(shared.digest)
        row = (
            dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            model,
            mode,
            article_id,
            prompt_name,
            prompt_hash,
            cache_key,
            int(cached),
            status,
            error,
            attempts,
            input_tokens,
            output_tokens,
            duration_s,
            _text(messages),
            _text(response),
            shared.digest if shared else None,
        )
        _retrying(
            lambda: self._db.execute(
                "INSERT INTO calls (at, model, mode, article_id, prompt_name, prompt_hash, "
                "cache_key, cached, status, error, attempts, input_tokens, output_tokens, "
                "duration_s, messages, response, shared) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )
        )

    def mark_failed(self, model: str, keys: Iterable[str]) -> None:
        """The live answers to `keys` led to a failed article: no longer replayed."""
        keys = sorted(set(keys))
        if not keys:
            return
        marks = ",".join("?" * len(keys))
        _retrying(
            lambda: self._db.execute(
                f"UPDATE calls SET outcome = ? WHERE model = ? AND cache_key IN ({marks}) "
                "AND cached = 0 AND status = 'ok'",
                (FAILED_OUTCOME, model, *keys),
            )
        )

    def entry(self, model: str, key: str, *, failed: bool = False) -> dict[str, Any] | None:
        """The replay entry of `key`: its latest successful live row, as a cache entry.

        A row whose article failed (see `mark_failed`) is an entry only with `failed`,
        and then only when no other row is.
        """
        skip = "" if failed else "AND calls.outcome IS NULL "
        row = self._db.execute(
            "SELECT calls.mode, calls.at, calls.duration_s, calls.messages, calls.response, "
            "prompts.messages, calls.outcome FROM calls "
            "LEFT JOIN prompts ON prompts.digest = calls.shared "
            "WHERE calls.cache_key = ? AND calls.model = ? AND calls.status = 'ok' "
            f"AND calls.cached = 0 AND calls.response IS NOT NULL {skip}"
            "ORDER BY calls.outcome IS NOT NULL, calls.id DESC LIMIT 1",
            (key, model),
        ).fetchone()
        if row is None:
            return None
        mode, at, duration, rest, body, shared, outcome = row
        try:
            messages = json.loads(_join(shared, rest) if shared and rest else rest or "[]")
            response = json.loads(body)
        except ValueError as err:
            raise ConfigError(
                f"{self.path}: unreadable call row for key {key} ({err}); delete the row"
            ) from None
        return {
            "format": CACHE_FORMAT,
            "key": key,
            "model": model,
            "mode": mode,
            "recorded": at,
            "latency_s": duration,
            "request": {"messages": messages},
            "response": response,
            "outcome": outcome,
        }

    def rows(self, **where: Any) -> list[dict[str, Any]]:
        """Logged calls, oldest first, filtered by equal column values; `messages` whole."""
        unknown = set(where) - _COLUMNS
        if unknown:
            raise ValueError(f"no such log column: {', '.join(sorted(unknown))}")
        clause = " AND ".join(f"calls.{column} = ?" for column in where) or "1"
        cursor = self._db.execute(
            "SELECT calls.*, prompts.messages FROM calls LEFT JOIN prompts "
            f"ON prompts.digest = calls.shared WHERE {clause} ORDER BY calls.id",
            tuple(where.values()),
        )
        names = [d[0] for d in cursor.description][:-1]
        rows = []
        for *values, shared in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            if shared is not None and row["messages"] is not None:
                row["messages"] = _join(shared, row["messages"])
            rows.append(row)
        return rows

    def close(self) -> None:
        self._db.close()


def _retrying(write: Callable[[], _T]) -> _T:
    """`write`, tried again while another process holds the database past the busy timeout."""
    for attempt in range(_WRITE_TRIES):
        try:
            return write()
        except sqlite3.OperationalError as err:
            busy = "locked" in str(err) or "busy" in str(err)
            if not busy or attempt == _WRITE_TRIES - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable: the last try returns or raises")
