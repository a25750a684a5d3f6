"""What a run reads: folders expanded to their article files, stdin read once, ids unique.

Sources are paths, folders, '-' for stdin, or `Article`s. A folder's files that
are not articles (by suffix, `ARTICLE_SUFFIXES`) are skipped with one line
saying so, its subfolders with another. Results are keyed by article id, so two sources with one id are
refused here, by `ArticleIds`, the one check every run uses.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from llm_extract.articles import ARTICLE_SUFFIXES, Article, load_article
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.output import ArticleState

__all__ = [
    "ArticleIds",
    "DuplicateId",
    "Source",
    "Unread",
    "article_states",
    "check_dates",
    "expand_sources",
    "load",
    "source_id",
]

log = logging.getLogger(__name__)


def expand_sources(sources: Iterable[str | Path | Article]) -> list[str | Path | Article]:
    """Folders become their article files (sorted); '-' is stdin; other items pass through.

    Files in a folder that are not articles (by suffix, see `ARTICLE_SUFFIXES`) are
    skipped, and how many and which kinds is said in one line. Subfolders are not
    read (a folder of articles often holds other runs' data, such as dev/ and test/
    splits, that a run must not take in unasked) and are named in another line.
    """
    expanded: list[str | Path | Article] = []
    for source in sources:
        if isinstance(source, Article) or str(source) == "-":
            expanded.append(source)
            continue
        path = Path(source)
        if not path.exists() and not path.is_symlink():
            raise ArticleError(f"{path}: no such file or folder")
        if not path.is_dir():
            expanded.append(path)
            continue
        try:
            entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        except OSError:
            expanded.append(path)  # cannot be listed: a failed result says why
            continue
        found = [p for p in entries if p.suffix.lower() in ARTICLE_SUFFIXES]
        folders = [p for p in entries if p.is_dir() and p not in found]  # x.txt/: a failed result
        files = [p for p in entries if not p.is_dir()]
        skipped = Counter(p.suffix.lower() or "no suffix" for p in files if p not in found)
        if skipped:
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
            log.warning(
                "%s: skipped %d files that are not articles (%s); articles are %s files",
                path, skipped.total(), kinds, "/".join(sorted(ARTICLE_SUFFIXES)),
            )  # fmt: skip
        if folders:
            log.warning(
                "%s: skipped %d subfolders (%s): a folder's own files are read, not its "
                "subfolders'; name them or use a glob",
                path, len(folders), ", ".join(p.name for p in folders),
            )  # fmt: skip
        if not found:
            raise ArticleError(
                f"{path}: a folder with no {'/'.join(sorted(ARTICLE_SUFFIXES))} files"
                + ("; its subfolders are not read: name them or use a glob" if folders else "")
            )
        expanded.extend(found)
    return expanded


class Unread:
    """stdin that could not be read as an article: a failed result, not the run's end."""

    def __init__(self, error: ArticleError) -> None:
        self.error = error

    def __str__(self) -> str:
        return "<stdin>"


Source = str | Path | Article | Unread


def source_id(source: Source) -> str | None:
    """The article id a source's result will carry (None: stdin, known once read)."""
    if isinstance(source, Article):
        return source.id
    return None if isinstance(source, Unread) or str(source) == "-" else Path(source).stem


def read_stdin(source: str | Path | Article) -> Source:
    """stdin is read up front: its id is a hash of its text, needed before the run."""
    if isinstance(source, Article) or str(source) != "-":
        return source
    try:
        return load_article("-")
    except ArticleError as err:
        return Unread(err)


def load(
    source: Source,
    published: dt.date | None = None,
    dates: Mapping[str, dt.date] | None = None,
) -> Article:
    """The article, its publication date the one given for its id, else for the run,
    else the one it states."""
    if isinstance(source, Unread):
        raise source.error
    given = (dates or {}).get(source_id(source) or "") or published
    if isinstance(source, Article):
        return source.model_copy(update={"published": given}) if given else source
    return load_article(source, published=given)


def article_states(
    sources: Iterable[Source],
    published: dt.date | None = None,
    dates: Mapping[str, dt.date] | None = None,
) -> Callable[[str], ArticleState | None]:
    """Each source's state now by article id, read when asked (for `resume_output`, which
    asks only for the ids it has results of): reading and hashing, no model. None for an
    id the run was not given and for an article that cannot be read now (its result
    stands; the file may be back)."""
    by_id = {key: source for source in sources if (key := source_id(source)) is not None}

    def state(key: str) -> ArticleState | None:
        source = by_id.get(key)
        if source is None:
            return None
        try:
            return ArticleState.of(load(source, published, dates))
        except ArticleError:
            return None

    return state


class DuplicateId(ConfigError):
    """Two sources share an article id: results are keyed by id, so one would be lost."""


class ArticleIds:
    """The article ids a run has seen, each with where it came from."""

    def __init__(self) -> None:
        self._where: dict[str, str] = {}

    def add(self, key: str, source: str | Path | Article) -> None:
        """Note `key`, or raise `DuplicateId` when another source has it."""
        where = source.source if isinstance(source, Article) else str(source)
        if key in self._where:
            raise DuplicateId(
                f"two inputs share the article id {key!r} ({self._where[key]} and {where}); "
                "rename one, results are keyed by id"
            )
        self._where[key] = where

    def __contains__(self, key: str) -> bool:
        return key in self._where


def check_dates(dates: Mapping[str, dt.date], ids: ArticleIds) -> None:
    """Warn of the dates given for files that are not among the run's articles: a
    typo in a dates file would otherwise lose that article's date without a word."""
    unmatched = sorted(key for key in dates if key not in ids)
    if unmatched:
        shown = ", ".join(unmatched[:10]) + (
            f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else ""
        )
        log.warning(
            "dates given for %d files that are not among this run's articles: %s "
            "(a file is named by its path, name or stem)",
            len(unmatched), shown,
        )  # fmt: skip
