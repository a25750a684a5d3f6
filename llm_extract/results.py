"""Reading stored results back: the corpus-level code starts here, never in the engine.

Results come from `extract --out`, `batch collect` or an eval run's `predictions/`.
Files written by older or newer versions are accepted while the fields we use
validate: keys this version does not know are dropped (and counted), anything
else is an error naming the file and line. A killed run leaves a torn last line;
it is skipped with a warning, the whole lines before it are kept.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from llm_extract.errors import ResultsError
from llm_extract.schemas import ExtractionResult

__all__ = ["ResultSet", "gc_paused", "read_results", "read_slim"]

T = TypeVar("T")


@dataclass
class ResultSet:
    """Every result read, failed ones included (tables list them), and what reading noticed."""

    results: list[ExtractionResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> list[ExtractionResult]:
        return [r for r in self.results if r.status == "ok"]

    @property
    def failed(self) -> int:
        return sum(r.status == "failed" for r in self.results)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a corpus is built: its records hold no cycles
    (reference counting frees them), and collections over a heap of a million live
    objects took half the run time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_results(paths: Iterable[Path]) -> ResultSet:
    """Results from JSONL files, single-result `.json` files or folders of them.

    An article met twice (a re-run, two files) keeps its last reading, with a warning:
    two readings of one article would report every meeting twice.
    """
    kept, warnings = read_slim(paths, lambda result: result)
    return ResultSet(results=list(kept.values()), warnings=warnings)


def read_slim(
    paths: Iterable[Path], slim: Callable[[ExtractionResult], T]
) -> tuple[dict[str, T], list[str]]:
    """`slim(result)` of each result read as `read_results` reads them, by article id, and the
    warnings: a corpus pass that needs a few fields keeps those, not a million validated
    records. Each result is validated whole, then only its slim form is kept."""
    warnings: list[str] = []
    by_article: dict[str, T] = {}
    for path in paths:
        for where, result in _read(path, warnings):
            if result.article_id in by_article:
                warnings.append(f"{where}: article {result.article_id} read again; kept this one")
            by_article[result.article_id] = slim(result)
    return by_article, warnings


def _read(path: Path, warnings: list[str]) -> Iterator[tuple[str, ExtractionResult]]:
    if path.is_dir():
        files = sorted(path.glob("*.json")) + sorted(path.glob("*.jsonl"))
        if not files:
            raise ResultsError(f"{path}: no .json or .jsonl results in this folder")
        for each in files:
            yield from _read(each, warnings)
        return
    if not path.is_file():
        raise ResultsError(f"{path}: no such results file")
    dropped: set[str] = set()
    try:
        if path.suffix == ".json":
            text = path.read_text("utf-8", errors="replace")
            yield str(path), _result(f"{path}", _json(f"{path}", text), dropped)
        else:
            yield from _lines(path, dropped, warnings)
    finally:
        if dropped:
            warnings.append(
                f"{path}: fields this version does not know ignored: {', '.join(sorted(dropped))}"
            )


def _lines(
    path: Path, dropped: set[str], warnings: list[str]
) -> Iterator[tuple[str, ExtractionResult]]:
    """Line by line, never the whole file in memory: a corpus file can hold millions."""
    with path.open(encoding="utf-8", errors="replace", newline="\n") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except ValueError as err:
                if not line.endswith("\n"):  # a torn last line: the run was killed writing it
                    warnings.append(f"{where}: torn last line (a killed run?) skipped")
                    return
                raise ResultsError(
                    f"{where}: not JSON ({err}); every line must be one result"
                ) from None
            yield where, _result(where, data, dropped)


def _json(where: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as err:
        raise ResultsError(f"{where}: not JSON ({err})") from None


def _result(where: str, data: Any, dropped: set[str]) -> ExtractionResult:
    """Validate; keys we do not know are dropped and reported, any other error stops the read."""
    if not isinstance(data, dict):
        raise ResultsError(f"{where}: expected a result object, got {type(data).__name__}")
    for _ in range(8):  # each pass drops one level of unknown keys; results nest four deep
        try:
            result = ExtractionResult.model_validate(data)
        except ValidationError as err:
            errors = err.errors()
            if not all(e["type"] == "extra_forbidden" for e in errors):
                first = next(e for e in errors if e["type"] != "extra_forbidden")
                at = ".".join(str(part) for part in first["loc"]) or "result"
                raise ResultsError(
                    f"{where}: not a result this version can read: {at}: {first['msg']}"
                ) from None
            for e in errors:
                _drop(data, e["loc"])
                dropped.add(".".join(str(p) for p in e["loc"] if not isinstance(p, int)))
            continue
        return result
    raise ResultsError(f"{where}: too many unknown fields to read as a result")


def _drop(data: Any, loc: tuple[int | str, ...]) -> None:
    *parents, key = loc
    for part in parents:
        data = data[part]
    if isinstance(data, dict):
        data.pop(key, None)
