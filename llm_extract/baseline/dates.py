"""Where a sentence says when: date expressions found here, resolved by `normalise`.

Finding the words is the baseline's job; turning "в четверг на этой неделе" into
a calendar date against the publication date is `normalise.resolve_date`'s.
Two look-alikes are not meeting dates: a dateline ("СТАМБУЛ, 9 марта 2026 года.")
dates the article, and "накануне" before a noun ("накануне новых переговоров")
is relative to an event, not to the publication date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from llm_extract.baseline.nlp import Sentence
from llm_extract.normalise import Tense, resolve_date
from llm_extract.schemas import EventDate

__all__ = ["DateMention", "find_dates"]

_MONTHS_GEN = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
_MONTHS_LOC = "январе|феврале|марте|апреле|мае|июне|июле|августе|сентябре|октябре|ноябре|декабре"
_WEEKDAYS = "понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье"
_WEEK = r"(?:\s+на\s+(?:этой|прошлой|следующей|будущей|текущей)\s+неделе)?"
_WHICH_DAY = r"(?:(?:прошл|минувш|прошедш|следующ|будущ|ближайш|эт)\w*\s+)?"
"""'в минувшее воскресенье', 'в прошлую пятницу', 'в следующий вторник'."""
_PARTS = r"(?:начал[аеоу]|середин[аеуы]|конц[аеу]|конец)"
_PATTERNS = [
    rf"\d{{1,2}}(?:\s*[-–—]\s*\d{{1,2}})?\s+(?:{_MONTHS_GEN})(?:\s+\d{{4}}(?:\s+года|\s+г\.)?)?",
    rf"(?:в|во)\s+(?:{_MONTHS_LOC})(?:\s+\d{{4}}(?:\s+года)?)?",
    rf"(?:(?:в|до|на|к)\s+)?{_PARTS}\s+(?:{_MONTHS_GEN})(?:\s+\d{{4}}(?:\s+года)?)?",
    rf"(?:(?:утром|днем|днём|вечером|ночью)\s+)?(?:в|во|на)\s+{_WHICH_DAY}(?:{_WEEKDAYS}){_WEEK}",
    r"(?:в|на)\s+(?:минувшие|прошлые|прошедшие|эти|ближайшие|этих|прошлых)\s+выходн(?:ые|ых)",
    r"на\s+выходных",
    r"(?:на|в)\s+(?:этой|прошлой|следующей|будущей|текущей)\s+неделе",
    r"в\s+(?:прошлом|этом|следующем|текущем)\s+(?:году|месяце)",
    r"в\s+\d{4}\s+году",
    r"позавчера|послезавтра|накануне|вчера|сегодня|завтра",
]
_YEAR = re.compile(r"\d{4}")
_DATE = re.compile(r"(?<![\w-])(?:" + "|".join(_PATTERNS) + r")(?![\w-])", re.IGNORECASE)
_DATELINE = re.compile(r"^\s*[А-ЯЁA-Z][А-ЯЁA-Z -]+,\s*$")
"""What stands before a dateline's date: a city in capitals and a comma."""


@dataclass(frozen=True, slots=True)
class DateMention:
    start: int  # offset into the article text
    stop: int
    date: EventDate


def find_dates(
    sentence: Sentence, published: dt.date | None, tense: Tense | None = None
) -> list[DateMention]:
    """Every date expression in a sentence that resolves to a calendar date.

    Without a publication date only dates that carry their year resolve.
    """
    found: list[DateMention] = []
    for match in _DATE.finditer(sentence.text):
        if published is None and not _YEAR.search(match.group()):
            continue
        if _DATELINE.match(sentence.text[: match.start()]) or _before_event(sentence, match):
            continue
        date = resolve_date(match.group(), published or dt.date.min, tense=tense)
        if date is not None:
            start = sentence.start + match.start()
            found.append(DateMention(start, sentence.start + match.end(), date))
    return found


def _before_event(sentence: Sentence, match: re.Match[str]) -> bool:
    """'накануне новых переговоров': the eve of an event, not the day before publication."""
    if match.group().lower() != "накануне":
        return False
    stop = sentence.start + match.end()
    following = next((t for t in sentence.tokens if t.start >= stop), None)
    return (
        following is not None
        and following.pos in {"NOUN", "PROPN", "ADJ", "DET"}
        and following.case == "Gen"
    )
