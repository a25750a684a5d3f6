"""Reading articles: bytes from a file, stdin or a string, to one `Article`.

`Article.text` is the body the model sees and the one string every evidence
offset in the project points into: the file's text with any BOM and the
` date YYYY-MM-DD` header removed, line ends normalised to `\\n`, HTML reduced
to text, and surrounding white space stripped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
import sys
from functools import cached_property
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes
from pydantic import BaseModel, Field, ModelWrapValidatorHandler, computed_field, model_validator

from llm_extract.errors import ArticleError

__all__ = ["MAX_ARTICLE_BYTES", "Article", "detect_language", "load_article"]

MAX_ARTICLE_BYTES = 5_000_000
"""Larger inputs are refused: no news article is this long, a dump or a binary is."""

_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+")
_RU_MONTHS = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6,
    "июля": 7, "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
}  # fmt: skip
_DATELINE = re.compile(
    r"^(?:[А-ЯЁA-Z][А-ЯЁA-Z.\- ]+,\s*)?"  # an optional city in capitals: "СТАМБУЛ, "
    r"(\d{1,2})\s+(" + "|".join(_RU_MONTHS) + r")\s+(\d{4})(?:\s*(?:г\.|года?))?"
    r"\s*(?:[,.]|\d{1,2}:\d{2}|$)",
    re.IGNORECASE | re.MULTILINE,
)
"""A dateline stands at the start of a line ("1 февраля 2026, 07:12"); a date inside a
sentence ("встретился 2 декабря 2025 года") is an event's, not the article's."""
_LEGACY_ENCODINGS = frozenset(
    {"cp1251", "koi8_r", "koi8_u", "cp866", "cp1125", "iso8859_5", "mac_cyrillic"}
    | {"utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"}
)
"""Non-UTF-8 encodings we accept: detection is reliable for Cyrillic text, not for Latin ones
(Latin-1 "señor" reads as cp1250 "seńor" without any error)."""
_DATELINE_WINDOW = 600
"""A dateline stands near the top; a date deeper in is about an event, not the article."""
_ARTICLE_SUFFIXES = frozenset({".txt", ".text", ".html", ".htm", ".md"})
_HTML_HINT = re.compile(r"^\s*(<!doctype\s+html|<html\b|<head\b|<body\b)", re.IGNORECASE)
_HTML_TAGS = re.compile(r"</?(p|div|span|br|a|article|section|h[1-6])\b[^>]*>", re.IGNORECASE)


class Article(BaseModel):
    id: str = Field(description="File stem, or a content hash for text given directly.")
    text: str = Field(description="The body the model sees; every offset points into it.")
    published: dt.date | None = None
    source: str = Field(description="Where the text came from: a path, '<stdin>' or '<text>'.")
    encoding: str = "utf-8"

    @computed_field(  # type: ignore[prop-decorator]
        description="ISO 639-1 code: as given, else guessed from the script (ru, uk, en, und)."
    )
    @cached_property
    def language(self) -> str:
        """Guessed on first use: only the offline baseline routes by it, and a live run
        would pay for the guess (0.1-0.4 ms) on every article."""
        return detect_language(self.text)

    @model_validator(mode="wrap")
    @classmethod
    def _given_language(cls, data: Any, handler: ModelWrapValidatorHandler[Article]) -> Article:
        """A `language` passed in (or read back from a dump) is kept instead of guessed."""
        if not isinstance(data, dict) or data.get("language") is None:
            return handler(data)
        article = handler({k: v for k, v in data.items() if k != "language"})
        article.__dict__["language"] = data["language"]  # where cached_property keeps it
        return article


def load_article(source: str | Path, *, article_id: str | None = None) -> Article:
    """Load an article from a path, '-' for stdin, or the article text itself.

    A `str` that names an existing file is read as a path; any other string is
    taken as the text. Pass a `Path` to insist on a file.
    """
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        if str(path) == "-":
            return _from_bytes(sys.stdin.buffer.read(), source="<stdin>", article_id=article_id)
        return _from_bytes(_read_file(path), source=str(path), article_id=article_id or path.stem)
    return _from_bytes(source.encode("utf-8"), source="<text>", article_id=article_id)


def _read_file(path: Path) -> bytes:
    """The file's bytes, or an `ArticleError` saying why not: never an `OSError`, and
    never a wait on a FIFO that nobody writes to."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ArticleError(f"{path}: no such file") from None
    except OSError as err:
        raise ArticleError(f"{path}: cannot read it ({err.strerror or err})") from None
    if stat.S_ISDIR(info.st_mode):
        try:
            os.scandir(path).close()
        except OSError as err:
            raise ArticleError(f"{path}: a folder that cannot be listed ({err.strerror})") from None
        raise ArticleError(f"{path}: a folder, not an article file")
    if not stat.S_ISREG(info.st_mode):
        raise ArticleError(
            f"{path}: not a regular file (a FIFO, socket or device); save the article to a file"
        )
    if info.st_size > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"{path}: {info.st_size:,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit "
            "for one article"
        )
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_ARTICLE_BYTES + 1)  # a file that grows, or lies about its size
    except OSError as err:
        raise ArticleError(f"{path}: cannot read it ({err.strerror or err})") from None


def _looks_like_path(value: str) -> bool:
    """A one-line string is a path when it names a file or ends like one (so typos fail loudly)."""
    if value == "-":
        return True
    if "\n" in value or len(value) > 4096:
        return False
    if Path(value).suffix.lower() in _ARTICLE_SUFFIXES:
        return True
    try:
        return Path(value).is_file()
    except OSError:
        return False


def _from_bytes(data: bytes, *, source: str, article_id: str | None) -> Article:
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"{source}: {len(data):,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit for one article"
        )
    if not data.strip():
        raise ArticleError(f"{source}: the article is empty")
    raw, encoding = _decode(data, source)
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _is_html(raw):
        raw = _html_to_text(raw)
        if not raw.strip():
            raise ArticleError(f"{source}: this HTML has no visible text")
    published: dt.date | None = None
    header = _HEADER.match(raw)
    if header:
        try:
            published = dt.date.fromisoformat(header.group(1))
        except ValueError:
            raise ArticleError(
                f"{source}: the header date {header.group(1)!r} is not a real date"
            ) from None
        raw = raw[header.end() :]
    text = raw.strip()
    if not text:
        raise ArticleError(f"{source}: the article has a header but no body")
    if published is None:
        published = _dateline(text)
    return Article(
        id=article_id or f"text-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}",
        text=text,
        published=published,
        source=source,
        encoding=encoding,
    )


def _decode(data: bytes, source: str) -> tuple[str, str]:
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ArticleError(f"{source}: this is a binary file, not text (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ArticleError(
            f"{source}: the bytes are not UTF-8 and no other text encoding fits; "
            "re-save the file as UTF-8"
        )
    if best.encoding not in _LEGACY_ENCODINGS:
        raise ArticleError(
            f"{source}: the bytes are not UTF-8; they look like {best.encoding}, which is not "
            "guessed reliably enough to trust (only Cyrillic legacy encodings are); "
            "re-save the file as UTF-8"
        )
    text = str(best)
    if _control_ratio(text) > 0.01 or _letter_ratio(text) < 0.5:
        raise ArticleError(
            f"{source}: the bytes are not UTF-8 and decode as {best.encoding} only to "
            "garbage; re-save the file as UTF-8"
        )
    return text, best.encoding


def _control_ratio(text: str) -> float:
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t")
    return controls / max(len(text), 1)


def _letter_ratio(text: str) -> float:
    visible = [c for c in text if not c.isspace()]
    return sum(1 for c in visible if c.isalpha()) / max(len(visible), 1)


def _is_html(text: str) -> bool:
    return bool(_HTML_HINT.match(text)) or len(_HTML_TAGS.findall(text[:20_000])) >= 3


def _html_to_text(markup: str) -> str:
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        tag.decompose()
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _dateline(text: str) -> dt.date | None:
    match = _DATELINE.search(text[:_DATELINE_WINDOW])
    if not match:
        return None
    day, month, year = int(match.group(1)), _RU_MONTHS[match.group(2).lower()], int(match.group(3))
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


_LANGUAGE_SAMPLE = 4000
"""Characters read to tell the script: enough that an opening quote in another language or an
English page header does not decide for a whole Russian article."""


_NOT_LETTERS = re.compile(r"[\W\d_]+")
_NOT_CYRILLIC = re.compile("[^\u0400-\u0481\u048a-\u04ff]+")
_UKRAINIAN = re.compile("[іїєґІЇЄҐ]")
_RUSSIAN = re.compile("[ыэъёЫЭЪЁ]")
_LATIN = re.compile("[A-Za-z]")


def detect_language(text: str) -> str:
    """Guess the language from the script: enough to route Russian, Ukrainian and English.

    Letters are counted by deleting runs of everything else, a third faster than a
    loop over the characters.
    """
    sample = text[:_LANGUAGE_SAMPLE]
    letters = len(_NOT_LETTERS.sub("", sample))
    if not letters:
        return "und"
    if len(_NOT_CYRILLIC.sub("", sample)) / letters >= 0.5:
        ukrainian, russian = len(_UKRAINIAN.findall(sample)), len(_RUSSIAN.findall(sample))
        return "uk" if ukrainian > russian else "ru"
    return "en" if len(_LATIN.findall(sample)) / letters >= 0.5 else "und"
