"""The results file: one JSONL line per article, appended whole, resumed by run identity.

Every run that writes results (`extract`, `batch collect`, the Ray path) writes
through `ResultSink`, each line in one write(2) to a file opened for appending,
so a killed run leaves whole lines only, or one cut last line that the next run
drops (`resume_output`). A file holds comparable results only: `RunIdentity`
(model, prompt hash, schema hash) is checked against every line before a run
resumes it. One run writes a file at a time (`lock_output`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from llm_extract.errors import ConfigError
from llm_extract.results import iter_results  # the one results reader and its bad-line policy
from llm_extract.runlock import OutputLock, OutputLocked
from llm_extract.schemas import ExtractionResult, PromptInfo

__all__ = [
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
            f"--out {path} is a folder; give a file path such as {path}/results.jsonl"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot create the folder for --out {path}: {err.strerror}") from None
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
    its newline; only the last line, so any other bad line is still refused."""
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
        try:
            ExtractionResult.model_validate_json(fh.read(end - keep))
        except ValueError:
            log.warning("%s: dropping an unfinished last line left by an interrupted run", path)
            fh.truncate(keep)
        else:
            if end == size:
                fh.write(b"\n")


def resume_output(
    path: Path,
    ids: Collection[str],
    *,
    identity: RunIdentity,
    retry_failed: bool = False,
    keep: bool = True,
) -> dict[str, ExtractionResult | None]:
    """Results already in `path` by article id (values None unless `keep`), for a re-run.

    Refuses a file made by another model, prompt or schema: one output holds
    comparable results only. With `retry_failed` the failures are removed first.
    A last line left unfinished by a killed run is dropped first (with a warning).
    It may rewrite `path`: call it holding the file's lock (`lock_output`).
    """
    if path.exists():
        _mend_last_line(path)
    done: dict[str, ExtractionResult | None] = {}
    failed: set[str] = set()
    kept: list[ExtractionResult] = []
    for result in iter_results(path):
        check_resumable(path, result, identity)
        if result.status == "failed":
            failed.add(result.article_id)
            if retry_failed:
                continue
        if retry_failed:
            kept.append(result)
        done[result.article_id] = result if keep else None
    if retry_failed and failed:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.unlink(missing_ok=True)
        sink = ResultSink(tmp)
        try:
            for result in kept:
                sink.write(result)
        finally:
            sink.close()
        os.replace(tmp, path)
    finished = [key for key in ids if key in done]
    if finished:
        left = sum(key in failed for key in finished)
        note = f"; {left} failed; --retry-failed redoes them" if left else ""
        log.warning(
            "%s: resuming, %d of %d articles already done%s", path, len(finished), len(ids), note
        )
    return done


def check_resumable(path: Path, result: ExtractionResult, identity: RunIdentity) -> None:
    """Refuse `result` in `path` unless this run could have made it (model, prompt, schema)."""
    run = identity
    if result.model != run.model:
        raise ConfigError(
            f"{path} holds results of {result.model}, not {run.model}; give another --out"
        )
    prompt = run.prompt
    if result.prompt is not None and (prompt is None or result.prompt.hash != prompt.hash):
        raise ConfigError(
            f"{path} holds results made with prompt {result.prompt.name} hash "
            f"{result.prompt.hash}, this run's is {prompt.hash if prompt else 'none'}: the prompt "
            "changed; give a new --out so runs stay comparable"
        )
    if result.schema_hash is not None and result.schema_hash != run.schema_hash:
        raise ConfigError(
            f"{path} holds results made with schema hash {result.schema_hash}, this run's is "
            f"{run.schema_hash}: the schema changed; give a new --out so runs stay comparable"
        )
