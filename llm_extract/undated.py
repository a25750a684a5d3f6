"""Relative dates in an article whose publication date is unknown: left open, said aloud.

"вчера" means nothing without the day the article appeared. Rather than let a model
guess a day or let the words vanish, a meeting dated only by such words gets no
date, and the result's warnings keep the words and say how to give the date.
"""

from __future__ import annotations

import datetime as dt
import re

from llm_extract.articles import Article, yearless_dateline
from llm_extract.normalise import resolve_date
from llm_extract.schemas import ArticleExtraction

__all__ = ["leave_open"]

_PROBE = dt.date(2026, 1, 15)
"""Any day: an expression that resolves against it but not without one is relative."""
_RELATIVE_WORDS = re.compile(
    r"(?<![\w-])(?:позавчера|послезавтра|накануне|вчера|сегодня|завтра|учора|вчора|сьогодні"
    r"|yesterday|today|tomorrow"
    r"|(?:в|во|на|у)\s+(?:(?:прошл|минувш|прошедш|следующ|будущ|ближайш|эт|цьому|минул)\w*\s+)?"
    r"(?:понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье|выходные|неделе|понеділок"
    r"|вівторок|середу|четвер|п'ятницю|суботу|неділю|вихідні|тижні)"
    r"|(?:on|last|next|this)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|week"
    r"|weekend))(?![\w-])",
    re.IGNORECASE,
)
_HINT = "give the publication date with --published YYYY-MM-DD or a --dates file"


def _relative(text: str) -> bool:
    return resolve_date(text, None) is None and resolve_date(text, _PROBE) is not None


def leave_open(extraction: ArticleExtraction, article: Article) -> list[str]:
    """Without a publication date: clear meeting dates given only by relative words, and
    return a warning per meeting whose date words could not be resolved (edits in place)."""
    if article.published is not None:
        return []
    warnings = []
    hint = _HINT
    if (dateline := yearless_dateline(article.text)) is not None:
        hint = f"the dateline {dateline!r} names no year; {_HINT}"
    for number, meeting in enumerate(extraction.meetings, start=1):
        words: str | None = None
        if meeting.date is not None:
            if meeting.date.text and _relative(meeting.date.text):
                words = meeting.date.text
                meeting.date = None
        else:
            found = (_RELATIVE_WORDS.search(e.text) for e in meeting.evidence)
            words = next((m.group() for m in found if m), None)
        if words:
            warnings.append(
                f"meeting {number}: the date {words!r} is relative and the publication date "
                f"is unknown, so it is left open; {hint}"
            )
    return warnings
