"""The results file: one JSONL line per article, appended whole, resumed by run identity.

Every run that writes results (`extract`, `batch collect`, the Ray path) writes
through `ResultSink`, each line in one write(2) to a file opened for appending,
so a killed run leaves whole lines only, or one cut last line that the next run
drops (`resume_output`). A file holds comparable results only: `RunIdentity`
(model, prompt hash, schema hash) is checked against every line before a run
resumes it. One run writes a file at a time (`lock_output`). A result whose
article changed since it was written (its text, by `text_hash`, or its publication
date) is not done: a resume drops its line and the run does it again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from llm_extract.articles import Article, text_hash
from llm_extract.errors import ConfigError
from llm_extract.results import iter_results  # the one results reader and its bad-line policy
from llm_extract.runlock import OutputLock, OutputLocked
from llm_extract.schemas import ExtractionResult, PromptInfo

__all__ = [
    "ArticleState",
    "ResultSink",
    "ResultWriter",
    "RunIdentity",
    "check_resumable",
    "iter_results",
    "lock_output",
    "open_output",
    "read_results",
    "resume_output",
    "writable_output",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunIdentity:
    """What makes two runs' results comparable, and a results file resumable by a run."""

    model: str
    prompt: PromptInfo | None
    schema_hash: str


@dataclass(frozen=True)
class ArticleState:
    """What of an article its result depends on besides the run: its text and date."""

    text_hash: str
    published: dt.date | None

    @classmethod
    def of(cls, article: Article) -> ArticleState:
        return cls(text_hash(article.text), article.published)

    def changed(self, result: ExtractionResult) -> bool:
        """True when `result` was made from another text or publication date; results
        written before `text_hash` existed compare on the date alone."""
        if result.text_hash is not None and result.text_hash != self.text_hash:
            return True
        return result.published != self.published


def read_results(path: str | Path) -> list[ExtractionResult]:
    return list(iter_results(path))


class ResultWriter(Protocol):
    """Where a run files its results: the JSONL `ResultSink`, or a Parquet folder's sink."""

    def write(self, result: ExtractionResult) -> None: ...

    def close(self) -> None: ...


class ResultSink:
    """Results appended to a JSONL file, each line in one write(2) to a file opened for
    appending: a kill leaves a line whole or not at all, never half of it."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, result: ExtractionResult) -> None:
        data = memoryview((result.model_dump_json() + "\n").encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        os.close(self._fd)


def open_output(path: Path) -> ResultSink:
    """`path` opened to append results (after `resume_output` mended its last line)."""
    return ResultSink(path)


def writable_output(out: str | Path) -> Path:
    """`out` as a path a run can append to, checked before anything slow is built."""
    path = Path(out)
    if path.is_dir():
        raise ConfigError(
            f"--results {path} is a folder; give a file path such as {path}/results.jsonl"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(
            f"cannot create the folder for --results {path}: {err.strerror}"
        ) from None
    return path


async def lock_output(path: Path, *, wait: bool = False) -> OutputLock:
    """The exclusive lock on a results file for one run; with `wait`, queue behind the
    run that holds it (polled, so Ctrl-C stops the wait)."""
    announced = False
    while True:
        try:
            return OutputLock.acquire(path)
        except OutputLocked as busy:
            if not wait:
                raise
            if not announced:
                log.warning("%s: waiting for the run that writes it (pid %s)", path, busy.pid)
                announced = True
        await asyncio.sleep(_LOCK_POLL_S)


_LOCK_POLL_S = 0.2


def _mend_last_line(path: Path) -> None:
    """Drop a last line a killed run left unfinished (cut anywhere, inside a UTF-8
    character too, with or without a newline after it), or end a whole one missing
    its newline; only the last line, so any other bad line is still refused. A whole
    line written by another version (fields this one does not know) is kept."""
    with path.open("r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        end = size
        while end > 0:  # the end of the last non-blank line
            fh.seek(end - 1)
            if fh.read(1) not in b" \t\r\n":
                break
            end -= 1
        if end == 0:
            return
        block = 1 << 16
        scan = end
        keep = 0
        while scan > 0:  # its start: after the newline before it, reading backwards
            start = max(0, scan - block)
            fh.seek(start)
            at = fh.read(scan - start).rfind(b"\n")
            if at != -1:
                keep = start + at + 1
                break
            scan = start
        fh.seek(keep)
        try:  # a whole line is a JSON object; whether it is a result is `iter_results`'s call
            whole = isinstance(json.loads(fh.read(end - keep)), dict)
        except ValueError:
            whole = False
        if not whole:
            log.warning("%s: dropping an unfinished last line left by an interrupted run", path)
            fh.truncate(keep)
        elif end == size:
            fh.write(b"\n")


def resume_output(
    path: Path,
    ids: Collection[str],
    *,
    identity: RunIdentity,
    retry_failed: bool = False,
    keep: bool = True,
    current: Callable[[str], ArticleState | None] | None = None,
) -> dict[str, ExtractionResult | None]:
    """Results already in `path` by article id (values None unless `keep`), for a re-run.

    Refuses a file made by another model, prompt or schema: one output holds
    comparable results only. With `retry_failed` the failures are removed first.
    With `current` (an article's state now, by id; None when it cannot be read),
    the results of `ids` whose article changed are removed too, so the run redoes
    them. A last line left unfinished by a killed run is dropped first (with a warning).
    It may rewrite `path`: call it holding the file's lock (`lock_output`).
    """
    if path.exists():
        _mend_last_line(path)
    wanted = set(ids)
    done: dict[str, ExtractionResult | None] = {}
    failed: set[str] = set()
    changed: set[str] = set()
    states: dict[str, ArticleState | None] = {}
    for result in iter_results(path):
        check_resumable(path, result, identity)
        key = result.article_id
        if result.status == "failed":
            failed.add(key)
            if retry_failed:
                continue
        if current is not None and key in wanted:
            if key not in states:
                states[key] = current(key)
            state = states[key]
            if key in changed or (state is not None and state.changed(result)):
                changed.add(key)
                done.pop(key, None)
                continue
        done[key] = result if keep else None
    if (retry_failed and failed) or changed:
        _drop(path, lambda r: r.article_id in changed or (retry_failed and r.status == "failed"))
    if changed:
        log.warning(
            "%s: %d articles changed since their results were written (text or publication "
            "date); their results are replaced",
            path, len(changed),
        )  # fmt: skip
    finished = [key for key in ids if key in done]
    if finished:
        left = sum(key in failed for key in finished)
        note = f"; {left} failed; --retry-failed redoes them" if left else ""
        log.warning(
            "%s: resuming, %d of %d articles already done%s", path, len(finished), len(ids), note
        )
    return done


def _drop(path: Path, dropped: Callable[[ExtractionResult], bool]) -> None:
    """Rewrite `path` without the results `dropped` picks, through `ResultSink`, and put
    the new file in place in one rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    sink = ResultSink(tmp)
    try:
        for result in iter_results(path):
            if not dropped(result):
                sink.write(result)
    finally:
        sink.close()
    os.replace(tmp, path)


def check_resumable(path: Path, result: ExtractionResult, identity: RunIdentity) -> None:
    """Refuse `result` in `path` unless this run could have made it (model, prompt, schema)."""
    run = identity
    if result.model != run.model:
        raise ConfigError(
            f"{path} holds results of {result.model}, not {run.model}; give another --results"
        )
    prompt = run.prompt
    if result.prompt is not None and (prompt is None or result.prompt.hash != prompt.hash):
        raise ConfigError(
            f"{path} holds results made with prompt {result.prompt.name} hash "
            f"{result.prompt.hash}, this run's is {prompt.hash if prompt else 'none'}: the prompt "
            "changed; give a new --results so runs stay comparable"
        )
    if result.schema_hash is not None and result.schema_hash != run.schema_hash:
        raise ConfigError(
            f"{path} holds results made with schema hash {result.schema_hash}, this run's is "
            f"{run.schema_hash}: the schema changed; give a new --results so runs stay comparable"
        )
