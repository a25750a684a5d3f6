"""The SQLite store of model calls: the call log and the `.db` replay cache in one.

Every call is one row of `calls` (simonw/llm style): what was sent, what came
back, what it cost, live, replayed or failed. The replay cache reads the same
rows: the latest successful live row with a cache key is that key's entry
(`entry`), so with logging on a call costs one insert, not a file plus a row.
Leading messages every call shares (the system prompt, the schema in the JSON
modes) go once into `prompts`, named by digest; a row's `messages` are the rest.

A process opens each database file once: every `CallStore` on one file shares
one connection (a cache and a call log on `logs.db` are one store, not two
connections to keep in step); a forked process opens its own.

Neither rows nor prompts ever hold an API key or an HTTP header: callers pass
messages, parameters and the response body only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from llm_extract.errors import ConfigError

if TYPE_CHECKING:
    from llm_extract.cache import SharedMessages

__all__ = [
    "BUSY_TIMEOUT_S",
    "FAILED_OUTCOME",
    "CallStore",
    "default_log_path",
    "join_encoded",
    "user_dir",
]


def user_dir() -> Path:
    """Where logs and the default cache live: $LLM_EXTRACT_HOME, else the XDG data dir."""
    if home := os.environ.get("LLM_EXTRACT_HOME"):
        return Path(home)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "llm-extract"


def default_log_path() -> Path:
    return user_dir() / "logs.db"


def join_encoded(head: str, rest: str) -> str:
    """Two encoded message lists (JSON arrays) as one."""
    if rest == "[]":
        return head
    return rest if head == "[]" else head[:-1] + "," + rest[1:]


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


class _Connection:
    """The process's one connection to one database file, and the prompts it has written."""

    def __init__(self, path: Path) -> None:
        """Opens (and creates or upgrades) the database; safe when several processes open
        one fresh file at once: the migrations run in one `BEGIN IMMEDIATE` transaction,
        so exactly one process applies each, and every statement waits out another
        process's write (busy timeout) instead of failing."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
        )
        _retrying(lambda: self.db.execute("PRAGMA journal_mode=WAL"))
        self.db.execute("PRAGMA synchronous=NORMAL")
        _retrying(self._migrate)
        self.shared_logged: set[str] = set()
        self.users = 0

    def _migrate(self) -> None:
        if self._version() >= len(_MIGRATIONS):
            return  # the common case: no write lock taken
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()  # again, under the lock: another process may have run
            for number, statement in enumerate(_MIGRATIONS[version:], start=version + 1):
                self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])


_OPEN: weakref.WeakValueDictionary[tuple[int, Path], _Connection] = weakref.WeakValueDictionary()
"""Open connections by (process, file): closed when the last store on them goes."""
_OPENING = threading.Lock()


def _connection(path: Path) -> _Connection:
    where = (os.getpid(), path.resolve())
    with _OPENING:
        connection = _OPEN.get(where)
        if connection is None:
            connection = _OPEN[where] = _Connection(path)
        connection.users += 1
        return connection


class CallStore:
    """Every call as one SQLite row, and the replay entries those rows are.

    A row's `shared` names leading messages stored once in the `prompts` table;
    its `messages` are the rest (`rows()` and `entry()` join them back).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_log_path()
        self._connection: _Connection | None = _connection(self.path)
        self._db = self._connection.db

    def same_store(self, other: CallStore | None) -> bool:
        """Is `other` this database (the same connection), so one row serves both?"""
        return other is not None and other._connection is self._connection is not None

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
        assert self._connection is not None, "the store is closed"
        logged = self._connection.shared_logged
        if shared and shared.digest not in logged:
            _retrying(
                lambda: self._db.execute(
                    "INSERT OR IGNORE INTO prompts (digest, messages) VALUES (?, ?)",
                    (shared.digest, shared.encoded),
                )
            )
            logged.add(shared.digest)
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
        """The replay entry of `key`: its latest successful live row, in the cache entry's
        shape (its `format` is the reader's to add).

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
            messages = json.loads(join_encoded(shared, rest) if shared and rest else rest or "[]")
            response = json.loads(body)
        except ValueError as err:
            raise ConfigError(
                f"{self.path}: unreadable call row for key {key} ({err}); delete the row"
            ) from None
        return {
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
                row["messages"] = join_encoded(shared, row["messages"])
            rows.append(row)
        return rows

    def close(self) -> None:
        """Let go of the file; the connection closes with the process's last store on it."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with _OPENING:
            connection.users -= 1
            if connection.users == 0:
                connection.db.close()
                for where, open_one in list(_OPEN.items()):
                    if open_one is connection:
                        del _OPEN[where]


def _text(value: Any) -> str | None:
    """JSON for a column; a str is JSON already (the encoded messages, the body as sent)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


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
