"""Reading stored results back: the one reader of results JSONL, for resume, scoring,
review and the corpus code alike.

Results come from `extract --results`, `batch collect` or an eval run's `predictions/`.
The policy for a bad line, everywhere:

- A last line that is not JSON is what a killed run leaves (cut anywhere, inside a
  UTF-8 character too, with or without a newline after it): it is skipped with a
  warning, and the whole lines before it are kept.
- Any other line that is not a result is an error naming the file and line
  (`ResultsError`): the file is not a results file, or was damaged, and guessing
  would lose or invent an article.
- Files written by older or newer versions are read while the fields we use
  validate: keys this version does not know are dropped, with a warning naming them.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from llm_extract.errors import ResultsError
from llm_extract.schemas import ExtractionResult

__all__ = ["ResultSet", "gc_paused", "iter_results", "read_results", "read_slim"]

T = TypeVar("T")

log = logging.getLogger(__name__)


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
    if path.suffix == ".json":
        dropped: set[str] = set()
        text = path.read_text("utf-8", errors="replace")
        yield str(path), _result(f"{path}", _json(f"{path}", text), dropped)
        _report_dropped(path, dropped, warnings)
    else:
        yield from _lines(path, warnings)


def iter_results(path: str | Path, warnings: list[str] | None = None) -> Iterator[ExtractionResult]:
    """The results in one JSONL file, streamed; the file is never changed, and one not
    yet written holds none. A bad line is handled as the module says; what reading
    noticed goes to `warnings`, or without a list to the log."""
    path = Path(path)
    if not path.exists():
        return
    noticed: list[str] = [] if warnings is None else warnings
    try:
        for _, result in _lines(path, noticed):
            yield result
    finally:
        if warnings is None:
            for warning in noticed:
                log.warning("%s", warning)


def _lines(path: Path, warnings: list[str]) -> Iterator[tuple[str, ExtractionResult]]:
    dropped: set[str] = set()
    broken: tuple[str, ValueError] | None = None
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            if broken is not None:
                raise _not_json(*broken)
            where = f"{path}:{number}"
            try:  # a cut inside a UTF-8 character is one more unfinished line
                data = json.loads(raw.decode("utf-8"))
            except ValueError as err:
                broken = (where, err)
                continue
            yield where, _result(where, data, dropped)
    if broken is not None:
        warnings.append(f"{broken[0]}: torn last line (a killed run?) skipped")
    _report_dropped(path, dropped, warnings)


def _not_json(where: str, err: ValueError) -> ResultsError:
    return ResultsError(
        f"{where}: not JSON ({err}); {where} is not an extraction result, and every line "
        "of a results file must be one"
    )


def _report_dropped(path: Path, dropped: set[str], warnings: list[str]) -> None:
    if dropped:
        warnings.append(
            f"{path}: fields this version does not know ignored: {', '.join(sorted(dropped))}"
        )


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
