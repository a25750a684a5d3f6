"""Quotation marks: where quoted words start and end in the article text.

«…» may nest „…“ inside; straight double quotes pair up in order within a
paragraph. A quote of one word is a name ("Комментарии"), not speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Quote", "find_quotes"]

_PAIRS = {"«": "»", "“": "”", "„": "“"}
_ATTRIBUTION = re.compile(r"^\s*[,.!?…]*\s*[—–-]{1,2}\s*")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Quote:
    start: int  # offset of the first quoted character (after the opening mark)
    stop: int  # offset just past the last quoted character (at the closing mark)
    attributed_after: bool  # followed by ", — сказал X"

    def words(self, text: str) -> int:
        return len(_WORD.findall(text[self.start : self.stop]))


def find_quotes(text: str) -> list[Quote]:
    """Every quotation of two words or more, outermost only, in text order."""
    spans: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in _PAIRS:
            end = _closing(text, i)
            if end is not None:
                spans.append((i + 1, end))
                i = end + 1
                continue
        elif char == '"':
            end = text.find('"', i + 1)
            newline = text.find("\n", i + 1)
            if end != -1 and (newline == -1 or end < newline):
                spans.append((i + 1, end))
                i = end + 1
                continue
        i += 1
    quotes = []
    for start, stop in spans:
        after = bool(_ATTRIBUTION.match(text[stop + 1 : stop + 6]))
        quote = Quote(start, stop, after)
        if quote.words(text) >= 2 or after:
            quotes.append(quote)
    return quotes


def _closing(text: str, i: int) -> int | None:
    """The offset of the mark closing the one at `i`, allowing nested pairs."""
    opening, closing = text[i], _PAIRS[text[i]]
    depth = 0
    for j in range(i + 1, min(len(text), i + 5000)):
        char = text[j]
        if char == "\n" and opening != "«":
            return None
        if char == closing and depth == 0:
            return j
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
    return None
