"""Dates: Russian, Ukrainian and English date expressions resolved against the publication
date, clock times and their zones. Its own room because it needs no names, places or
morphology: regular expressions and the calendar only.

A small rule table (see `resolve_date`): dateparser was tried and left «накануне», «в четверг
на этой неделе», «вечером в среду», «в минувшие выходные», «до конца января», «в январе» and
«last weekend» unresolved, and has no ranges.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Literal

from llm_extract.schemas import EventDate, MeetingStatus

__all__ = ["Tense", "resolve_date", "same_day", "time_of_day"]

Tense = Literal["past", "future"]


_MONTH_STEMS = (
    ("январ", 1), ("феврал", 2), ("март", 3), ("апрел", 4), ("ма", 5), ("июн", 6),
    ("июл", 7), ("август", 8), ("сентябр", 9), ("октябр", 10), ("ноябр", 11), ("декабр", 12),
    ("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("may", 5), ("jun", 6),
    ("jul", 7), ("aug", 8), ("sep", 9), ("oct", 10), ("nov", 11), ("dec", 12),
    ("січ", 1), ("лют", 2), ("берез", 3), ("квіт", 4), ("трав", 5), ("черв", 6),
    ("лип", 7), ("серп", 8), ("верес", 9), ("жовт", 10), ("листопад", 11), ("груд", 12),
)  # fmt: skip
_MONTH = (
    r"(?:январ[ьяе]|феврал[ьяе]|марта?|марте|апрел[ьяе]|ма[йяе]|июн[ьяе]|июл[ьяе]|"
    r"августа?|августе|сентябр[ьяе]|октябр[ьяе]|ноябр[ьяе]|декабр[ьяе]|"
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"січ(?:ень|ня|ні)|лют(?:ий|ого|ому|ім)|берез(?:ень|ня|ні)|квіт(?:ень|ня|ні)|"
    r"трав(?:ень|ня|ні)|черв(?:ень|ня|ні)|лип(?:ень|ня|ні)|серп(?:ень|ня|ні)|"
    r"верес(?:ень|ня|ні)|жовт(?:ень|ня|ні)|листопад[аі]?|груд(?:ень|ня|ні))\.?"
)
_ORD = r"(?:st|nd|rd|th|-?го|-?е)?"
_YEAR = r"(?:,?\s+(?P<{name}>\d{{4}}))?"
_DAY_MONTH = re.compile(
    rf"\b(?P<day>\d{{1,2}}){_ORD}(?:\s*(?:-|–|—|по|и|і|та|and|to)\s*(?P<day2>\d{{1,2}}){_ORD})?"
    rf"\s+(?:of\s+)?(?P<month>{_MONTH})(?![а-яa-z]){_YEAR.format(name='year')}"
)
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH})\s+(?P<day>\d{{1,2}}){_ORD}(?:\s*[-–—]\s*(?P<day2>\d{{1,2}}){_ORD})?"
    rf"(?!\d){_YEAR.format(name='year')}"
)
_NUMERIC = re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b")
_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
_MONTH_ONLY = re.compile(rf"(?<![\w])(?P<month>{_MONTH})(?![а-яa-z]){_YEAR.format(name='year')}")
_YEAR_ONLY = re.compile(r"\b(?P<year>(?:19|20)\d{2})\b")

_WEEKDAYS = (
    (r"понедельник|понеділ(?:ок|ка)|monday", 0), (r"вторник|вівтор(?:ок|ка)|tuesday", 1),
    (r"сред[ау]|серед[аиу]|wednesday", 2), (r"четверг|четвер(?:га)?|thursday", 3),
    (r"пятниц[ау]|п['’ʼ]?ятниц[яюі]|friday", 4), (r"суббот[ау]|субот[аиу]|saturday", 5),
    (r"воскресень[ея]|неділ[яюі]|sunday", 6),
)  # fmt: skip
_WEEKDAY = re.compile(r"\b(" + "|".join(p for p, _ in _WEEKDAYS) + r")\b")
_LAST = r"(?:прошл|минувш|предыдущ|минул|попередн|last|past|previous)"
_NEXT = r"(?:следующ|будущ|ближайш|наступн|майбутн|найближч|next|coming)"
_THIS = r"(?:эт|нынешн|текущ|ць|цю|цієї|цей|поточн|this|current)"
_WEEK_WORD = r"(?:недел|тижн|тиждень)"
_LAST_WEEK = re.compile(rf"\b{_LAST}\w*\s+{_WEEK_WORD}|\blast\s+week\b")
_NEXT_WEEK = re.compile(rf"\b{_NEXT}\w*\s+{_WEEK_WORD}|\bnext\s+week\b")
_THIS_WEEK = re.compile(rf"\b{_THIS}\w*\s+{_WEEK_WORD}|\bthis\s+week\b")
_WEEKEND = re.compile(r"\bвыходн\w*|\bвихідн\w*|\bweekend\b")
_MONTH_REL = re.compile(r"\b(?P<which>\w+)\s+(?:месяц\w*|місяц\w*|місяць|month)\b")
_YEAR_REL = re.compile(r"\b(?P<which>\w+)\s+(?:году|год|році|рік|року|year)\b")
_AGO = re.compile(
    r"\b(?P<n>\d+|один|одна|два|две|три|четыре|пять|шесть|семь|дві|чотири|п['’ʼ]?ять|шість|сім)"
    r"\s+(?:дн\w+|день|days?)\s+(?:назад|тому|ago)\b"
)
_NUMBERS = {
    "один": 1, "одна": 1, "два": 2, "две": 2, "дві": 2, "три": 3, "четыре": 4, "чотири": 4,
    "пять": 5, "п'ять": 5, "п’ять": 5, "пʼять": 5, "шесть": 6, "шість": 6, "семь": 7, "сім": 7,
}  # fmt: skip
_DAY_WORDS = {
    "позавчера": -2, "позавчора": -2, "вчера": -1, "вчора": -1, "учора": -1, "yesterday": -1,
    "сегодня": 0, "сьогодні": 0, "today": 0, "tonight": 0,
    "завтра": 1, "tomorrow": 1, "послезавтра": 2, "післязавтра": 2,
}  # fmt: skip
_TIME_OF_DAY = (
    r"(?:вечером|утром|днем|ночью|поздно|рано|ввечері|увечері|вранці|зранку|вдень|вночі|"
    r"in the (?:morning|evening|afternoon)|late|early)"
)
_EVE = re.compile(rf"(?:{_TIME_OF_DAY}\s+)*(?:накануне|напередодні)(?:\s+{_TIME_OF_DAY})*")


def _month_number(word: str) -> int:
    word = word.lower().rstrip(".")
    for stem, number in _MONTH_STEMS:
        if word.startswith(stem) and not (stem == "ма" and word.startswith("мар")):
            return number
    raise ValueError(f"not a month: {word!r}")


def _candidates(published: dt.date, month: int, day: int) -> list[dt.date]:
    dates = []
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            dates.append(dt.date(year, month, day))
        except ValueError:
            continue
    return dates


def _pick_year(published: dt.date, month: int, day: int, tense: Tense | None) -> dt.date | None:
    """A day and month without a year: the latest on or before P for a past event, the
    earliest on or after P for a future one, else the one nearest P."""
    dates = _candidates(published, month, day)
    if tense == "past":
        dates = [d for d in dates if d <= published] or dates
        return max(dates, default=None)
    if tense == "future":
        dates = [d for d in dates if d >= published] or dates
        return min(dates, default=None)
    return min(dates, key=lambda d: abs((d - published).days), default=None)


def _pick_month(published: dt.date, month: int, tense: Tense | None) -> str:
    here = published.year * 12 + published.month - 1
    options = [
        (year, year * 12 + month - 1)
        for year in (published.year - 1, published.year, published.year + 1)
    ]
    if tense == "past":
        year = max((y for y, m in options if m <= here), default=published.year)
    elif tense == "future":
        year = min((y for y, m in options if m >= here), default=published.year)
    else:
        year = min(options, key=lambda o: abs(o[1] - here))[0]
    return f"{year:04d}-{month:02d}"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _event(start: dt.date | str, end: dt.date | None, text: str) -> EventDate:
    start_iso = start if isinstance(start, str) else start.isoformat()
    end_iso = end.isoformat() if end is not None and end != start else None
    clock = time_of_day(text) if "-" in start_iso[5:] else None
    time, zone = clock if clock is not None else (None, None)
    return EventDate(start=start_iso, end=end_iso, text=text, time=time, time_zone=zone)


def resolve_date(
    expression: str, published: dt.date | None, *, tense: Tense | None = None
) -> EventDate | None:
    """Resolve a Russian or English date expression against the publication date P.

    Without P (`published` None) only absolute dates resolve: an explicit date with its
    year, a month with its year, a year; anything relative gives None.

    Rules, first match wins (a clock time with its zone, «в 22:00 по московскому времени»,
    goes to `time` and `time_zone` of a day-precision date; see `time_of_day`). Ukrainian
    month names, weekdays and relative words resolve like their Russian equivalents:

    - explicit dates: «23 января», «2 декабря 2025 года», «23-24 января», «31 января –
      1 февраля», «January 23», «23.01.2026»; without a year, the year that puts the day
      nearest P (a past event: latest on or before P; a future one: earliest on or after);
    - a weekday: «в четверг на этой неделе» / «на прошлой» / «на следующей неделе» is
      that weekday of P's Monday–Sunday week, the one before or the one after;
      «в прошлый четверг» the latest before P, «в следующий четверг» the first after P;
      a bare «в среду», «вечером в среду», «on Thursday» is that weekday of P's week,
      moved back a week when `tense` is past and it falls after P (so: the latest such
      weekday on or before P), forward a week when future and it falls before P;
    - weekends: «в минувшие/прошлые выходные», «last weekend»: the Saturday–Sunday
      before P (a range); «в выходные», «this weekend»: P's week's; «next weekend»: the
      next; a bare weekend moves by `tense` like a bare weekday;
    - weeks: «на этой/прошлой/следующей неделе»: Monday–Sunday range;
    - days: «сегодня», «вчера», «позавчера», «завтра», «послезавтра», «накануне» (alone:
      P − 1; «накануне встречи» is relative to an event and gives None), «3 дня назад»;
    - months: «в январе», «в начале/конце января», «до конца января», «in January»:
      month precision; «в этом/прошлом/следующем месяце»;
    - years: «в 2025 году», «в прошлом/этом/следующем году», «last year».

    Anything else (ранее, недавно, в последнее время, на днях) gives None.
    """
    raw = expression.strip()
    text = " ".join(raw.lower().replace("ё", "е").replace(",", " ").split())
    if published is None:
        resolvers: tuple[_Resolver, ...] = (_explicit, _month, _year)
    else:
        resolvers = (_explicit, _weekday, _weekend, _week, _days, _month, _year)
    for resolver in resolvers:
        found = resolver(text, published, tense)
        if found is not None:
            start, end = found
            return _event(start, end, raw)
    return None


_CLOCK = re.compile(
    r"(?<![\d:.])(?P<hour>[01]?\d|2[0-3])[:.](?P<minute>[0-5]\d)(?![\d:])"
    r"(?:\s+(?P<zone>по\s+(?:московскому|киевскому|киевскому|київському|местному|"
    r"гринвичу|вашингтонскому)\s+(?:времени|часу)?|за\s+київським\s+часом|"
    r"за\s+московським\s+часом|мск|msk|utc(?:\s*[+-]\s*\d{1,2})?|gmt|et|est|edt|cet|cest))?",
    re.IGNORECASE,
)
_ZONES = {
    "моск": "Europe/Moscow", "мск": "Europe/Moscow", "msk": "Europe/Moscow",
    "киев": "Europe/Kyiv", "київ": "Europe/Kyiv", "вашингтон": "America/New_York",
    "гринвич": "UTC", "gmt": "UTC", "et": "America/New_York", "est": "America/New_York",
    "edt": "America/New_York", "cet": "Europe/Paris", "cest": "Europe/Paris",
}  # fmt: skip


def time_of_day(expression: str) -> tuple[str, str | None] | None:
    """A clock time and the time zone the words name («в 22:00 по московскому времени» ->
    ("22:00", "Europe/Moscow")): an IANA name, or «UTC+3» as written; None without a time."""
    m = _CLOCK.search(expression)
    if m is None:
        return None
    clock = f"{int(m['hour']):02d}:{m['minute']}"
    zone = (m["zone"] or "").lower()
    if not zone or "местн" in zone:
        return clock, None
    if zone.startswith("utc"):
        return clock, "UTC" + zone[3:].replace(" ", "")
    return clock, next((name for stem, name in _ZONES.items() if stem in zone), None)


_SAME_DAY = re.compile(
    r"\b(?:проход(?:ят|ит)|продолжа(?:ются|ется)|начал(?:ись|ась|ся)|стартовал[аи]?|"
    r"тривають|триває|проходять|розпочал(?:ися|ася|ись)|почал(?:ися|ася)|"
    r"только\s+что|завершил(?:ись|ась|ся|и)|закончил(?:ись|ась|ся|и)|щойно|завершил(?:ися|ася)|"
    r"сегодня|сьогодні|намечен\w*\s+на\s+\d{1,2}[:.]\d{2}|запланован\w*\s+на\s+\d{1,2}[:.]\d{2}|"
    r"under\s+way|underway|just\s+(?:ended|finished|concluded)|later\s+today|today|tonight|"
    r"this\s+evening)\b",
    re.IGNORECASE,
)
"""Words that put a meeting on the publication day: under way, just finished, due later today."""


def same_day(sentence: str, published: dt.date | None, status: MeetingStatus) -> EventDate | None:
    """The publication date at day precision for a meeting its sentence reports as under way,
    just finished or due later that day, with `text` the words that show it (and the
    time of day, when given); None otherwise. For meetings with no date expression."""
    if published is None or status not in _SAME_DAY_STATUSES:
        return None
    m = _SAME_DAY.search(sentence)
    if m is None:
        return None
    clock = time_of_day(sentence[m.start() :])
    time, zone = clock if clock is not None else (None, None)
    return EventDate(start=published.isoformat(), text=m.group(), time=time, time_zone=zone)


_SAME_DAY_STATUSES = frozenset({MeetingStatus.HELD, MeetingStatus.ONGOING, MeetingStatus.PLANNED})

_Span = tuple[dt.date | str, dt.date | None]
_Resolver = Callable[..., "_Span | None"]


def _explicit(text: str, published: dt.date | None, tense: Tense | None) -> _Span | None:
    dates: list[dt.date] = []
    for pattern in (_ISO, _NUMERIC):
        for m in pattern.finditer(text):
            try:
                dates.append(dt.date(int(m["year"]), int(m["month"]), int(m["day"])))
            except ValueError:
                continue
    if not dates:
        for pattern in (_DAY_MONTH, _MONTH_DAY):
            for m in pattern.finditer(text):
                dates.extend(_day_month(m, published, tense))
            if dates:
                break
    if not dates:
        return None
    start, end = dates[0], dates[-1]
    if end < start:  # «30 декабря – 2 января» across a new year
        end = end.replace(year=end.year + 1)
    return start, end


def _day_month(m: re.Match[str], published: dt.date | None, tense: Tense | None) -> list[dt.date]:
    """The dates of «23(-24) января [2026]»; without a year, only against a publication date."""
    month = _month_number(m["month"])
    days = [int(m["day"])] + ([int(m["day2"])] if m["day2"] else [])
    found: list[dt.date] = []
    for day in days:
        if m["year"]:
            try:
                found.append(dt.date(int(m["year"]), month, day))
            except ValueError:
                continue
        elif published is not None and (date := _pick_year(published, month, day, tense)):
            found.append(date)
    return found


def _shift(day: dt.date, published: dt.date, tense: Tense | None) -> dt.date:
    if tense == "past" and day > published:
        return day - dt.timedelta(days=7)
    if tense == "future" and day < published:
        return day + dt.timedelta(days=7)
    return day


def _weekday(text: str, published: dt.date, tense: Tense | None) -> _Span | None:
    m = _WEEKDAY.search(text)
    if m is None:
        return None
    weekday = next(n for pattern, n in _WEEKDAYS if re.fullmatch(pattern, m.group(1)))
    monday = _monday(published)
    this_week = monday + dt.timedelta(days=weekday)
    before = text[: m.start()]
    if _LAST_WEEK.search(text):
        return this_week - dt.timedelta(days=7), None
    if _NEXT_WEEK.search(text):
        return this_week + dt.timedelta(days=7), None
    if _THIS_WEEK.search(text) or re.search(rf"\b{_THIS}\w*\s*$", before):
        return this_week, None
    if re.search(rf"\b{_LAST}\w*\s*$", before):
        back = (published.weekday() - weekday) % 7 or 7
        return published - dt.timedelta(days=back), None
    if re.search(rf"\b{_NEXT}\w*\s*$", before):
        ahead = (weekday - published.weekday()) % 7 or 7
        return published + dt.timedelta(days=ahead), None
    return _shift(this_week, published, tense), None


def _weekend(text: str, published: dt.date, tense: Tense | None) -> _Span | None:
    if not _WEEKEND.search(text):
        return None
    saturday = _monday(published) + dt.timedelta(days=5)
    if re.search(rf"\b{_LAST}", text):
        sunday = published - dt.timedelta(days=(published.weekday() + 1) % 7 or 7)
        return sunday - dt.timedelta(days=1), sunday
    if re.search(rf"\b{_NEXT}", text):
        saturday += dt.timedelta(days=7)
    elif not re.search(rf"\b{_THIS}", text):
        saturday = _shift(saturday, published, tense)
    return saturday, saturday + dt.timedelta(days=1)


def _week(text: str, published: dt.date, tense: Tense | None) -> _Span | None:
    monday = _monday(published)
    if _LAST_WEEK.search(text):
        monday -= dt.timedelta(days=7)
    elif _NEXT_WEEK.search(text):
        monday += dt.timedelta(days=7)
    elif not _THIS_WEEK.search(text):
        return None
    return monday, monday + dt.timedelta(days=6)


def _days(text: str, published: dt.date, tense: Tense | None) -> _Span | None:
    if _EVE.fullmatch(text):
        return published - dt.timedelta(days=1), None
    for word in text.split():
        if word in _DAY_WORDS:
            return published + dt.timedelta(days=_DAY_WORDS[word]), None
    m = _AGO.search(text)
    if m is not None:
        n = int(m["n"]) if m["n"].isdigit() else _NUMBERS[m["n"]]
        return published - dt.timedelta(days=n), None
    return None


def _month(text: str, published: dt.date | None, tense: Tense | None) -> _Span | None:
    m = _MONTH_ONLY.search(text)
    if m is not None:
        month = _month_number(m["month"])
        if m["year"]:
            return f"{int(m['year']):04d}-{month:02d}", None
        if published is None:
            return None
        return _pick_month(published, month, tense), None
    m = _MONTH_REL.search(text)
    if m is None or published is None:
        return None
    step = _relative_step(m["which"])
    if step is None:
        return None
    index = published.year * 12 + published.month - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}", None


def _year(text: str, published: dt.date | None, tense: Tense | None) -> _Span | None:
    m = _YEAR_REL.search(text)
    if m is not None and published is not None and (step := _relative_step(m["which"])) is not None:
        return f"{published.year + step:04d}", None
    m = _YEAR_ONLY.search(text)
    return (m["year"], None) if m is not None else None


def _relative_step(word: str) -> int | None:
    if re.match(_LAST, word):
        return -1
    if re.match(_NEXT, word):
        return 1
    if re.match(_THIS, word):
        return 0
    return None
