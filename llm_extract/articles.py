"""Reading articles: bytes from a file, stdin or a string, to one `Article`.

`Article.text` is the body the model sees and the one string every evidence
offset in the project points into: the file's text with any BOM and the
` date YYYY-MM-DD` header removed, line ends normalised to `\\n`, HTML, PDF and
DOCX reduced to text, and surrounding white space stripped.
"""

from __future__ import annotations

import csv
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

from llm_extract.documents import DOCUMENT_SUFFIXES, read_document
from llm_extract.errors import ArticleError, ConfigError

__all__ = [
    "ARTICLE_SUFFIXES",
    "MAX_ARTICLE_BYTES",
    "Article",
    "detect_language",
    "find_published",
    "load_article",
    "parse_date",
    "read_dates",
    "text_hash",
]

MAX_ARTICLE_BYTES = 5_000_000
"""Larger inputs are refused: no news article is this long, a dump or a binary is."""

_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+")
_MONTHS = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6,
    "июля": 7, "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
    "січня": 1, "лютого": 2, "березня": 3, "квітня": 4, "травня": 5, "червня": 6,
    "липня": 7, "серпня": 8, "вересня": 9, "жовтня": 10, "листопада": 11, "грудня": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
"""Russian and Ukrainian month names in the genitive, English ones in full and short."""
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_CITY = r"(?:[A-ZА-ЯЁІЇЄҐ][A-ZА-ЯЁІЇЄҐ'.\- ]+(?:\s*\([^)\n]{1,40}\))?,\s*)?"
"""An optional city in capitals, maybe with an agency: "СТАМБУЛ, ", "GENEVA (Reuters), "."""
_WORDED = (
    r"(?:\d{1,2}\s+" + _MONTH + r",?\s+\d{4}(?:\s*(?:г\.|року|р\.|года?))?"
    r"|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})"
)
"""A date in words, day first ("5 марта 2026 года", "5 березня 2026") or month first
("March 5, 2026")."""
_ISO_DAY = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ANY_DATE = r"(?:" + _ISO_DAY + r"|" + _WORDED + r"|\d{1,2}\.\d{1,2}\.\d{4})"
_DATELINE = re.compile(
    r"^" + _CITY + r"(" + _WORDED + r")\s*(?:[,.—–|-]|\d{1,2}:\d{2}|$)",
    re.IGNORECASE | re.MULTILINE,
)
"""A dateline stands at the start of a line ("1 февраля 2026, 07:12", "GENEVA, March 5,
2026 —", "КИЇВ, 5 березня 2026"); a date inside a sentence ("встретился 2 декабря 2025
года") is an event's, not the article's."""
_YEARLESS_DATELINE = re.compile(
    r"^([A-ZА-ЯЁІЇЄҐ][A-ZА-ЯЁІЇЄҐ'.\- ]+(?:\s*\([^)\n]{1,40}\))?,\s*\d{1,2}\s+([^\W\d_]{3,}+))\.?"
    r"(?!,?\s*\d{4})",
    re.MULTILINE,
)
"""A news agency's dateline with a day and month but no year ("МОСКВА, 20 марта.", "МОСКВА, 20
мар — РИА Новости"): it dates nothing on its own, but says why no date was found."""
_LABELLED = re.compile(
    r"^[ \t]*(?:date|published|publication date|posted|дата|опубликовано|опубліковано)"
    r"[ \t]*:[ \t]*(" + _ANY_DATE + r")",
    re.IGNORECASE | re.MULTILINE,
)
"""A header line naming the date: "Date: 2026-03-05", "Published: March 5, 2026"."""
_BARE_ISO = re.compile(r"\A[ \t]*(" + _ISO_DAY + r")[ \t]*$", re.MULTILINE)
"""A first line that is only an ISO date or date-time."""
_ISO_PARTS = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NUMERIC_PARTS = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_WORD_PARTS = re.compile(r"(\d{1,2})?(?:st|nd|rd|th)?\W*([^\W\d_]+)\.?\W*(\d{1,2})?\D*(\d{4})")
_LEGACY_ENCODINGS = frozenset(
    {"cp1251", "koi8_r", "koi8_u", "cp866", "cp1125", "iso8859_5", "mac_cyrillic"}
    | {"utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"}
)
"""Non-UTF-8 encodings we accept: detection is reliable for Cyrillic text, not for Latin ones
(Latin-1 "señor" reads as cp1250 "seńor" without any error)."""
_DATELINE_WINDOW = 600
"""A dateline stands near the top; a date deeper in is about an event, not the article."""
ARTICLE_SUFFIXES = frozenset({".txt", ".text", ".html", ".htm", ".md"} | DOCUMENT_SUFFIXES)
"""What a folder of articles contributes; other files are skipped and counted."""
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


def load_article(
    source: str | Path, *, article_id: str | None = None, published: dt.date | None = None
) -> Article:
    """Load an article from a path, '-' for stdin, or the article text itself.

    A `str` that names an existing file is read as a path; any other string is
    taken as the text. Pass a `Path` to insist on a file. `published` is the
    publication date relative dates resolve against; without it the date the
    article states is used (see `find_published`), else none.
    """
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        if str(path) == "-":
            return _from_bytes(
                sys.stdin.buffer.read(),
                source="<stdin>",
                article_id=article_id,
                published=published,
            )
        return _from_bytes(
            _read_file(path),
            source=str(path),
            article_id=article_id or path.stem,
            published=published,
        )
    return _from_bytes(
        source.encode("utf-8"), source="<text>", article_id=article_id, published=published
    )


def read_dates(path: str | Path) -> dict[str, dt.date]:
    """Publication dates per file from a CSV of `file,published` rows (a header row is
    optional); a file is named by its path, its name or its stem (the article id).
    Keyed by article id, as runs key their results."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as err:
        raise ConfigError(f"cannot read the dates file {path}: {err.strerror}") from None
    dates: dict[str, dt.date] = {}
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) < 2:
            raise ConfigError(f"{path}:{number}: expected two columns, file and date")
        name, value = cells[0], cells[1]
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            if number == 1:
                continue  # a header row
            raise ConfigError(
                f"{path}:{number}: {value!r} is not a date; write it as YYYY-MM-DD"
            ) from None
        key = Path(name).stem
        if key in dates and dates[key] != date:
            raise ConfigError(f"{path}:{number}: {name} is given two dates")
        dates[key] = date
    return dates


def text_hash(text: str) -> str:
    """A short digest of an article's text: the id of text given directly, and what a
    result records so a re-run can tell that its article changed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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
    if Path(value).suffix.lower() in ARTICLE_SUFFIXES:
        return True
    try:
        return Path(value).is_file()
    except OSError:
        return False


def _from_bytes(
    data: bytes, *, source: str, article_id: str | None, published: dt.date | None = None
) -> Article:
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"{source}: {len(data):,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit for one article"
        )
    if not data.strip():
        raise ArticleError(f"{source}: the article is empty")
    document = read_document(data, source)
    if document is not None:
        raw, encoding = document
    else:
        raw, encoding = _decode(data, source)
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    found: dt.date | None = None
    if document is None and _is_html(raw):
        raw, found = _html_to_text(raw)
        if not raw.strip():
            raise ArticleError(f"{source}: this HTML has no visible text")
    header = _HEADER.match(raw)
    if header:
        try:
            found = dt.date.fromisoformat(header.group(1))
        except ValueError:
            raise ArticleError(
                f"{source}: the header date {header.group(1)!r} is not a real date"
            ) from None
        raw = raw[header.end() :]
    text = raw.strip()
    if not text:
        raise ArticleError(f"{source}: the article has a header but no body")
    return Article(
        id=article_id or f"text-{text_hash(text)}",
        text=text,
        published=published or found or find_published(text),
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


def _html_to_text(markup: str) -> tuple[str, dt.date | None]:
    """The visible text, and the publication date the page's markup states."""
    soup = BeautifulSoup(markup, "html.parser")
    published = _html_published(soup)
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        tag.decompose()
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line), published


def find_published(text: str) -> dt.date | None:
    """The publication date the top of an article states, if any.

    In order: a labelled header line ("Date: 2026-03-05", "Published: March 5, 2026"),
    a first line that is only an ISO date, a dateline at the start of a line (Russian,
    Ukrainian or English, with or without a city). Dates deeper in are events' dates.
    """
    top = text[:_DATELINE_WINDOW]
    for pattern in (_LABELLED, _BARE_ISO, _DATELINE):
        for match in pattern.finditer(top):
            date = parse_date(match.group(1))
            if date is not None:
                return date
    return None


def yearless_dateline(text: str) -> str | None:
    """The top's dateline that names a day and month but no year, for a warning to quote."""
    for match in _YEARLESS_DATELINE.finditer(text[:_DATELINE_WINDOW]):
        month = match.group(2).lower()
        if any(name.startswith(month) or month.startswith(name) for name in _MONTHS):
            return match.group(1)
    return None


def parse_date(value: str) -> dt.date | None:
    """A calendar day written as ISO (date or date-time), DD.MM.YYYY, or in Russian,
    Ukrainian or English words ("5 марта 2026", "5 березня 2026", "March 5, 2026");
    None when it is none of these or not a real day."""
    value = value.strip()
    iso = _ISO_PARTS.match(value)
    numeric = _NUMERIC_PARTS.fullmatch(value)
    words = _WORD_PARTS.match(value)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if numeric:
            return dt.date(int(numeric[3]), int(numeric[2]), int(numeric[1]))
        if words and (month := _MONTHS.get(words[2].lower())) and (day := words[1] or words[3]):
            return dt.date(int(words[4]), month, int(day))
    except ValueError:
        return None
    return None


_PUBLISHED_META = (
    ("property", "article:published_time"),
    ("name", "article:published_time"),
    ("itemprop", "datePublished"),
    ("name", "pubdate"),
    ("name", "publish-date"),
    ("name", "date"),
    ("name", "dc.date"),
    ("name", "DC.date.issued"),
)
"""Where pages state their publication date, most specific first."""


def _html_published(soup: BeautifulSoup) -> dt.date | None:
    """The page's own date: a publication `<meta>`, else the first `<time datetime>`
    (one marked `pubdate` first)."""
    for attribute, value in _PUBLISHED_META:
        for tag in soup.find_all(["meta", "time"], attrs={attribute: value}):
            date = parse_date(str(tag.get("content") or tag.get("datetime") or ""))
            if date is not None:
                return date
    times = soup.find_all("time", attrs={"datetime": True})
    marked = [t for t in times if t.has_attr("pubdate")]
    for tag in marked + times:
        date = parse_date(str(tag["datetime"]))
        if date is not None:
            return date
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
