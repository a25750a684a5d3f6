"""Grounding: find each quote a model gave in the article and pin it to offsets.

A quote is looked for three ways, strictest first:

1. exact: the quote is a substring of `Article.text`;
2. normalised: equal once case, white-space runs, quote marks (« » " “ ” „ ' ‘ ’ ‹ ›),
   dashes (- – —), ё/е and invisible characters are ignored. Quote marks are dropped,
   not read as spaces, so a quote that differs only in its marks and the punctuation
   beside them (`…співпраці.` for `…співпраці».`) is normalised, not fuzzy; the span
   is still the article's own characters, its marks included;
3. fuzzy: rapidfuzz's best partial alignment scores at least `fuzzy_threshold`
   (0-100) on the normalised strings, the span is snapped to whole words, and a
   word-level diff of quote and span shows nothing that could change the meaning
   (see `_same_meaning`): a fuzzy match repairs a typo or an ending, never a "не",
   a name, a number or a verb. The model's own words are reported
   (`GroundingReport.fuzzy`), since grounding replaces them with the article's.

A quote abbreviated with an ellipsis ("A … B") is grounded part by part, in
order, to the span running from A to B. Whatever matched, the returned span is
always `text[start:end]` of the original text: the normalised copy carries, for
each of its characters, the offset it came from. That copy is built once per
article text and reused for every quote (a small LRU cache), so grounding 50
quotes against 100k characters costs one normalisation pass, not 50.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from llm_extract.schemas import ArticleExtraction, Evidence, MatchKind

__all__ = [
    "FUZZY_MIN_CHARS",
    "FUZZY_THRESHOLD",
    "GroundingReport",
    "check_spans",
    "ground_extraction",
    "ground_quote",
    "iter_evidence",
]

FUZZY_THRESHOLD = 90.0
"""Partial-alignment score (0-100) a fuzzy match needs: one wrong word ending or a
fixed typo in a sentence passes, a paraphrase or an invented sentence does not."""

FUZZY_MIN_CHARS = 16
"""Shorter quotes (normalised) are never matched fuzzily: in 100k characters a short
string is always 'almost' somewhere."""

_ELLIPSIS_GAP = 1500
"""How far (normalised characters) the part after an ellipsis may start from the end
of the part before it: models abbreviate within a passage, not across an article."""

_QUOTE_MARKS = "«»\"“”„‟'‘’‚‹›`´"
_DASHES = "‐‑‒–—―−"
_TABLE = str.maketrans(
    {**dict.fromkeys(_QUOTE_MARKS, "\u2060"), **dict.fromkeys(_DASHES, "-"), "ё": "е", "Ё": "Е"}
)
"""Quote marks become an invisible word joiner, which `_normalise` drops like other
invisibles: one pass keeps, per character, the offset it came from."""
_GAP = re.compile(r"[\s\u00ad\u200b-\u200d\u2060\ufeff]+")
_ELLIPSIS = re.compile(r"\s*(?:[\[(<]\s*(?:…|\.{3,})\s*[\])>]|…|\.{3,})\s*")


@dataclass(frozen=True, slots=True)
class _Normalised:
    """A normalised copy of a text and, per character, its offset in the original."""

    text: str
    origin: list[int]


def _normalise(text: str) -> _Normalised:
    mapped = text.translate(_TABLE)
    lowered = mapped.lower()
    if len(lowered) != len(mapped):  # a few letters (İ) lower to two characters
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in mapped)
    pieces: list[str] = []
    origin: list[int] = []
    pos = 0
    for gap in _GAP.finditer(lowered):
        pieces.append(lowered[pos : gap.start()])
        origin.extend(range(pos, gap.start()))
        if any(c.isspace() for c in gap.group()):  # a run of only invisibles just vanishes
            pieces.append(" ")
            origin.append(gap.start())
        pos = gap.end()
    pieces.append(lowered[pos:])
    origin.extend(range(pos, len(lowered)))
    return _Normalised("".join(pieces), origin)


@lru_cache(maxsize=16)
def _prepared(text: str) -> _Normalised:
    return _normalise(text)


def _normalise_quote(quote: str) -> str:
    return _normalise(quote).text.strip()


def ground_quote(
    quote: str,
    text: str,
    *,
    fuzzy_threshold: float = FUZZY_THRESHOLD,
    hint: int | None = None,
) -> Evidence:
    """Locate `quote` in `text`; an Evidence with `start=None` means it is not there.

    When the quote occurs more than once the first occurrence wins, or the one
    nearest `hint` (an offset into `text`) when given.
    """
    stripped = quote.strip()
    if not stripped:
        raise ValueError("an empty quote cannot be grounded")
    starts = _occurrences(stripped, text)
    start = _pick(starts, hint)
    if start is not None:
        return _evidence(text, start, start + len(stripped), MatchKind.EXACT)
    span = _ground_parts(stripped, _prepared(text), fuzzy_threshold, hint)
    if span is None:
        return Evidence(text=stripped)
    start, end, kind = span
    start, end = _keep_quote_marks(stripped, text, start, end)
    return _evidence(text, start, end, kind)


def _evidence(text: str, start: int, end: int, kind: MatchKind) -> Evidence:
    evidence = Evidence(text=text[start:end], start=start, end=end, match=kind)
    # The schema folds white space in `text`; a span across a line break keeps it verbatim.
    evidence.text = text[start:end]
    return evidence


def _occurrences(needle: str, haystack: str, lo: int = 0, hi: int | None = None) -> Iterator[int]:
    hi = len(haystack) if hi is None else hi
    at = haystack.find(needle, lo, hi)
    while at != -1:
        yield at
        at = haystack.find(needle, at + 1, hi)


def _pick(
    starts: Iterator[int], hint: int | None, origin: Sequence[int] | None = None
) -> int | None:
    """The first start, or the one whose original offset lies nearest `hint`."""
    if hint is None:
        return next(starts, None)
    where = (lambda s: origin[s]) if origin is not None else (lambda s: s)
    return min(starts, key=lambda s: abs(where(s) - hint), default=None)


def _ground_parts(
    quote: str, norm: _Normalised, threshold: float, hint: int | None
) -> tuple[int, int, MatchKind] | None:
    """Ground each ellipsis-separated part in order; a plain quote is one part.

    With several parts, every occurrence of the first is tried and the tightest
    span wins: "Уиткофф и Кушнер … в Москве" belongs where both stand close.
    """
    parts = [p for p in (_normalise_quote(p) for p in _ELLIPSIS.split(quote)) if p]
    if not parts:
        return None
    head, rest = parts[0], parts[1:]
    if rest and hint is None:
        starts = list(_occurrences(head, norm.text)) or [None]
    else:
        starts = [_pick(_occurrences(head, norm.text), hint, norm.origin)]
    best: tuple[int, int, MatchKind] | None = None
    for first in starts:
        if first is None:
            found = _find(head, norm, 0, len(norm.text), threshold)
        else:
            found = (first, first + len(head), MatchKind.NORMALISED)
        span = _follow(found, rest, norm, threshold)
        if span is not None and (best is None or span[1] - span[0] < best[1] - best[0]):
            best = span
    if best is None:
        return None
    start, end, kind = best
    return norm.origin[start], norm.origin[end - 1] + 1, kind


def _follow(
    found: tuple[int, int, MatchKind] | None,
    rest: list[str],
    norm: _Normalised,
    threshold: float,
) -> tuple[int, int, MatchKind] | None:
    """Extend a first part's span over the parts after the ellipses, each close after the last."""
    if found is None:
        return None
    start, end, kind = found
    for part in rest:
        hi = min(len(norm.text), end + _ELLIPSIS_GAP + len(part))
        found = _find(part, norm, end, hi, threshold)
        if found is None:
            return None
        end = found[1]
        if found[2] is MatchKind.FUZZY:
            kind = MatchKind.FUZZY
    return start, end, kind


def _find(
    part: str, norm: _Normalised, lo: int, hi: int, threshold: float
) -> tuple[int, int, MatchKind] | None:
    """A part's first span in normalised coordinates: as is, else fuzzily."""
    start = norm.text.find(part, lo, hi)
    if start != -1:
        return start, start + len(part), MatchKind.NORMALISED
    if len(part) < FUZZY_MIN_CHARS or len(part) > hi - lo:
        return None
    aligned = fuzz.partial_ratio_alignment(part, norm.text[lo:hi], score_cutoff=threshold)
    if aligned is None:
        return None
    span = _snap(norm.text, part, lo + aligned.dest_start, lo + aligned.dest_end)
    if span is None or not _same_meaning(part, norm.text[span[0] : span[1]]):
        return None
    return (*span, MatchKind.FUZZY)


_TOKEN = re.compile(r"\w+")
_NEGATIONS = frozenset(
    {"не", "ни", "нет", "ні", "not", "no", "never", "nor", "dont", "doesnt", "didnt", "isnt",
     "arent", "wasnt", "werent", "cant", "couldnt", "wont", "wouldnt", "shouldnt", "havent",
     "hasnt", "hadnt", "mustnt", "neednt", "aint"}
)  # fmt: skip
"""Words that flip a statement («don't» is «dont» once quote marks are dropped)."""

_FUNCTION_WORDS = frozenset(
    {
        "в",
        "во",
        "с",
        "со",
        "к",
        "ко",
        "у",
        "о",
        "об",
        "обо",
        "от",
        "до",
        "по",
        "за",
        "на",
        "из",
        "изо",
        "над",
        "под",
        "при",
        "про",
        "через",
        "для",
        "и",
        "а",
        "но",
        "или",
        "да",
        "же",
        "ли",
        "бы",
        "ведь",
        "то",
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "and",
        "or",
        "but",
        "for",
        "with",
        "by",
        "from",
        "as",
        "that",
    }
)
"""Closed-class words a quote may add, drop or swap (a typo fix: "с швейцарском" for "в
швейцарском"). Prepositions that carry meaning of their own ("без", "после") are not here."""


def _same_meaning(quote: str, span: str) -> bool:
    """Whether the words of a fuzzily found span differ from the quote's only harmlessly.

    Punctuation, spacing and case never count; beyond that a pair may differ in its
    ending (`_same_word`) and function words may come and go. Anything else (a "не",
    another name, another number, another verb) means the span says something else.
    """
    ours, theirs = _TOKEN.findall(quote), _TOKEN.findall(span)
    diff = SequenceMatcher(None, ours, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in diff.get_opcodes():
        if tag == "equal":
            continue
        a, b = ours[i1:i2], theirs[j1:j2]
        if len(a) == len(b) and all(map(_same_word, a, b)):
            continue
        if all(w in _FUNCTION_WORDS for w in (*a, *b)):
            continue
        return False
    return True


def _same_word(a: str, b: str) -> bool:
    """Two forms of one word: a shared stem of five letters (or the whole shorter word of
    three or more) and endings of at most four. Negations and numbers must be equal."""
    if a == b:
        return True
    if a in _NEGATIONS or b in _NEGATIONS or any(c.isdigit() for c in a + b):
        return False
    stem = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        stem += 1
    shorter = min(len(a), len(b))
    whole = stem == shorter >= 3
    return (stem >= 5 or whole) and len(a) - stem <= 4 and len(b) - stem <= 4


def _snap(norm: str, part: str, start: int, end: int) -> tuple[int, int] | None:
    """Widen a fuzzy span to whole words, then trim spaces and punctuation the quote lacks."""
    while 0 < start < len(norm) and norm[start - 1].isalnum() and norm[start].isalnum():
        start -= 1
    while 0 < end < len(norm) and norm[end].isalnum() and norm[end - 1].isalnum():
        end += 1
    while start < end and not norm[start].isalnum() and part[0].isalnum():
        start += 1
    while end > start and not norm[end - 1].isalnum() and part[-1].isalnum():
        end -= 1
    while start < end and norm[start].isspace():
        start += 1
    while end > start and norm[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _keep_quote_marks(quote: str, text: str, start: int, end: int) -> tuple[int, int]:
    """Normalising drops quote marks; put back the ones the model's quote had."""
    if quote[0] in _QUOTE_MARKS and start > 0 and text[start - 1] in _QUOTE_MARKS:
        start -= 1
    if quote[-1] in _QUOTE_MARKS and end < len(text) and text[end] in _QUOTE_MARKS:
        end += 1
    return start, end


class GroundingReport(BaseModel):
    """A grounded extraction (see `ground_extraction` for what it shares with its input),
    the quotes that could not be found, and the quotes found only fuzzily (the model's
    words were replaced by the article's)."""

    extraction: ArticleExtraction
    ungrounded: list[str] = Field(
        default_factory=list, description="Quotes not found in the article: re-ask or flag."
    )
    fuzzy: list[tuple[str, str]] = Field(
        default_factory=list,
        description="(the model's quote, the article's span) for each fuzzy match: warn.",
    )

    @property
    def complete(self) -> bool:
        return not self.ungrounded


def iter_evidence(extraction: ArticleExtraction) -> Iterator[tuple[str, Evidence]]:
    """Every evidence in an extraction with its path (`meetings[0].evidence[1]`)."""
    for m, meeting in enumerate(extraction.meetings):
        for e, evidence in enumerate(meeting.evidence):
            yield f"meetings[{m}].evidence[{e}]", evidence
    for p, position in enumerate(extraction.positions):
        for e, evidence in enumerate(position.evidence):
            yield f"positions[{p}].evidence[{e}]", evidence
        if position.quote is not None:
            yield f"positions[{p}].quote", position.quote


def ground_extraction(
    extraction: ArticleExtraction, text: str, *, fuzzy_threshold: float = FUZZY_THRESHOLD
) -> GroundingReport:
    """Ground every evidence quote and every position's own quote; never invents a span.

    Evidence whose offsets already hold (a baseline's, or an earlier pass's) is
    kept; offsets that do not hold are dropped and the quote grounded afresh.
    The input is left as it was. The result has new records and new evidence
    where grounding changed it; evidence that already held, people, dates and the
    rest are the input's own objects, so copy before editing them (a deep copy cost
    five times more, and its many short-lived objects made the garbage collector a
    large share of client CPU with 64 articles in flight).
    """
    ungrounded: list[str] = []
    fuzzy: list[tuple[str, str]] = []

    def grounded(evidence: Evidence) -> Evidence:
        if _holds(evidence, text):
            return evidence
        found = ground_quote(evidence.text, text, fuzzy_threshold=fuzzy_threshold)
        if not found.grounded:
            ungrounded.append(evidence.text)
        elif found.match is MatchKind.FUZZY:
            fuzzy.append((evidence.text, found.text))
        return found

    meetings = [
        m.model_copy(update={"evidence": [grounded(e) for e in m.evidence]})
        for m in extraction.meetings
    ]
    positions = [
        p.model_copy(
            update={
                "evidence": [grounded(e) for e in p.evidence],
                "quote": grounded(p.quote) if p.quote is not None else None,
            }
        )
        for p in extraction.positions
    ]
    return GroundingReport(
        extraction=extraction.model_copy(update={"meetings": meetings, "positions": positions}),
        ungrounded=ungrounded,
        fuzzy=fuzzy,
    )


def _holds(evidence: Evidence, text: str) -> bool:
    start, end = evidence.start, evidence.end
    return (
        start is not None
        and end is not None
        and evidence.match is not None
        and end <= len(text)
        and text[start:end] == evidence.text
    )


def check_spans(extraction: ArticleExtraction, text: str) -> list[str]:
    """Every evidence whose offsets are missing or do not point at its text."""
    problems: list[str] = []
    for path, evidence in iter_evidence(extraction):
        start, end = evidence.start, evidence.end
        if start is None or end is None:
            problems.append(f"{path}: not grounded: {evidence.text!r}")
        elif end > len(text):
            problems.append(f"{path}: span {start}:{end} runs past the text ({len(text)} chars)")
        elif text[start:end] != evidence.text:
            problems.append(
                f"{path}: text[{start}:{end}] is {text[start:end]!r}, evidence says {evidence.text!r}"
            )
        elif evidence.match is None:
            problems.append(f"{path}: span {start}:{end} holds but has no match kind")
    return problems
