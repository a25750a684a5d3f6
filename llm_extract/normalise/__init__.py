"""Normalisation: names to the nominative and the alias table, sides and places to
codes, date expressions to the calendar, and `normalise_extraction`, which applies them to
a whole record.

One module per concern: `morphology` (pymorphy3's readings of Russian and Ukrainian words),
`names` (who a name denotes: alias table, English name, matching keys), `places` (sides,
countries and places as codes), `dates` (date expressions to the calendar). This module holds
the whole-record policy and re-exports the names the rest of the project imports from
`llm_extract.normalise`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from llm_extract.aliases import PersonEntry, alias_table, fold
from llm_extract.normalise.dates import Tense, resolve_date, same_day, time_of_day
from llm_extract.normalise.morphology import (
    _CYRILLIC,
    Language,
    _readings,
    name_language,
    nominative_name,
    nominative_phrase,
)
from llm_extract.normalise.names import (
    _name_words,
    _surname_at,
    canonical_name,
    english_name,
    given_name,
    person_entry,
    person_key,
)
from llm_extract.normalise.places import (
    canonical_place,
    place_country,
    side_code,
    with_side_codes,
)
from llm_extract.schemas import (
    ArticleExtraction,
    EventDate,
    MeetingStatus,
    Participant,
)

if TYPE_CHECKING:
    from llm_extract.articles import Article

__all__ = [
    "Language",
    "Tense",
    "canonical_name",
    "canonical_place",
    "english_name",
    "given_name",
    "nominative_name",
    "nominative_phrase",
    "normalise_extraction",
    "person_entry",
    "person_key",
    "place_country",
    "resolve_date",
    "same_day",
    "side_code",
    "time_of_day",
    "with_side_codes",
]


_TENSE: dict[MeetingStatus, Tense] = {
    MeetingStatus.HELD: "past",
    MeetingStatus.PLANNED: "future",
    MeetingStatus.PROPOSED: "future",
}


def _participant(person: Participant) -> Participant:
    """One policy for every person: `name` in the nominative as the article spells it;
    for a known person the table's `person_id` and `name_en`; for anyone else the
    model's `name_en`, else a transliteration. A known person's reading that differs from
    one of the table's spellings only in endings takes that spelling («Марка Рубіо» reads
    as «Марк Рубіо»; the table has «Марко Рубіо»). The same object when nothing changes (a
    copy per person was a third of normalising's time)."""
    readings = _readings(person.name)
    table = alias_table()
    name = next((r for r in readings if table.person(r) is not None), readings[0])
    entry = person_entry(name, person.name_en)
    if entry is not None:
        name = _table_spelling(name, entry)
        update = {"name": name, "name_en": entry.name_en, "person_id": entry.id}
    else:
        update = {"name": name, "name_en": person.name_en or english_name(name), "person_id": None}
    if all(getattr(person, k) == v for k, v in update.items()):
        return person
    return person.model_copy(update=update)


def _table_spelling(name: str, entry: PersonEntry) -> str:
    words = fold(name).split()
    for form in (entry.name, *entry.aliases):
        if fold(form) == fold(name):
            return name
    for form in (entry.name, *entry.aliases):
        theirs = fold(form).split()
        if name_language(form) != name_language(name) or not _CYRILLIC.search(form):
            continue
        if len(theirs) == len(words) > 1 and all(map(_one_stem, words, theirs)):
            return form
    return name


def _one_stem(a: str, b: str) -> bool:
    """Two forms of one name word: a shared stem of three letters or more, at most two
    letters of ending each («марк» / «марко»)."""
    stem = next(
        (at for at, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return stem >= 3 and max(len(a), len(b)) - stem <= 2


def _joined(people: list[Participant]) -> dict[str, Participant]:
    """Within one article, a bare surname in any case («Фидана», «Виткофф») -> the one
    person named in full whose surname it is («Хакан Фидан») or whose alias-table id it
    has («Стив Уиткофф»); a surname two people share stays as it is."""
    full: dict[str, dict[str, Participant]] = {}
    for person in people:
        words = _name_words(person.name)
        if len(words) > 1:
            found = {person_key(person.name): person}
            full.setdefault(fold(words[_surname_at(words)]), {}).update(found)
            if person.person_id is not None:
                full.setdefault(person.person_id, {}).update(found)
    joined: dict[str, Participant] = {}
    for person in people:
        if len(person.name.split()) != 1 or person.name in joined:
            continue
        forms = {fold(person.name), *(fold(r) for r in _readings(person.name))}
        if person.person_id is not None:
            forms.add(person.person_id)
        found = {k: p for form in forms for k, p in full.get(form, {}).items()}
        if len(found) == 1:
            joined[person.name] = next(iter(found.values()))
    return joined


def _join(person: Participant, joined: dict[str, Participant]) -> Participant:
    target = joined.get(person.name)
    if target is None:
        return person
    update = {"name": target.name, "name_en": target.name_en, "person_id": target.person_id}
    return person.model_copy(update=update)


def _everyone(extraction: ArticleExtraction) -> list[Participant]:
    people = [
        person
        for meeting in extraction.meetings
        for delegation in meeting.delegations
        for person in ([delegation.head] if delegation.head else []) + delegation.members
    ]
    return people + [p.holder for p in extraction.positions if p.holder is not None]


def _repaired_year(date: EventDate, published: dt.date, tense: Tense | None) -> EventDate:
    """Fix only the year, and only when the model copied day and month from the text but
    guessed the year: the one date error models make that the text settles."""
    if not date.text:
        return date
    resolved = resolve_date(date.text, published, tense=tense)
    if resolved is None or resolved.precision != date.precision:
        return date
    if resolved.start[4:] != date.start[4:] or resolved.start == date.start:
        return date
    if (resolved.end is None) != (date.end is None):
        return date
    if date.end is not None and resolved.end is not None and resolved.end[4:] != date.end[4:]:
        return date
    return date.model_copy(update={"start": resolved.start, "end": resolved.end})


def _editable_copy(extraction: ArticleExtraction) -> ArticleExtraction:
    """New records, delegations, locations and lists (what normalising edits); people and
    dates are replaced rather than edited, evidence is untouched, so those are shared.
    Five times cheaper than a deep copy, which matters at 64 articles in flight."""
    return extraction.model_copy(
        update={
            "meetings": [
                m.model_copy(
                    update={
                        "delegations": [
                            d.model_copy(update={"members": list(d.members)}) for d in m.delegations
                        ],
                        "location": m.location.model_copy() if m.location is not None else None,
                        "evidence": list(m.evidence),
                        "topics": list(m.topics),
                        "outcomes": list(m.outcomes),
                    }
                )
                for m in extraction.meetings
            ],
            "positions": [
                p.model_copy(update={"evidence": list(p.evidence)}) for p in extraction.positions
            ],
        }
    )


def normalise_extraction(extraction: ArticleExtraction, article: Article) -> ArticleExtraction:
    """A normalised copy: the same records, with canonical people, codes and dates.

    The input is left as it was. Records, delegations and locations are new; people
    already canonical, evidence and dates left alone are shared with the input, so
    copy before editing them.

    - people (delegation heads and members, position holders): the name in the
      nominative as the article spells it; `person_id` and `name_en` from the alias
      table for a known person (found by the name or by the model's `name_en`), else the
      model's `name_en` or a transliteration; a bare surname («Фидана») becomes the one
      person of the article named in full with it («Хакан Фидан»);
    - a position's missing `side` from its holder's entry in the alias table, else from
      the side of a delegation the same person belongs to in this article;
    - a location's place in the alias table's spelling when it is a known place in
      another case («Москве» -> «Москва»), and a missing `country` from the place, else
      the venue;
    - a date is kept as the model gave it, except a year that contradicts the date's own
      `text` read against the publication date («23 января» given as 2025-01-23 in an
      article of 2026-01-21 becomes 2026-01-23).
    Nothing is dropped or added.
    """
    result = _editable_copy(extraction)
    for meeting in result.meetings:
        for delegation in meeting.delegations:
            if delegation.head is not None:
                delegation.head = _participant(delegation.head)
            delegation.members = [_participant(p) for p in delegation.members]
    for position in result.positions:
        if position.holder is not None:
            position.holder = _participant(position.holder)
    joined = _joined(_everyone(result))
    sides: dict[str, str] = {}
    for meeting in result.meetings:
        for delegation in meeting.delegations:
            if delegation.head is not None:
                delegation.head = _join(delegation.head, joined)
            delegation.members = [_join(p, joined) for p in delegation.members]
            for person in ([delegation.head] if delegation.head else []) + delegation.members:
                if delegation.side is not None:
                    sides.setdefault(person_key(person.name), delegation.side)
        location = meeting.location
        if location is not None and location.place:
            location.place = canonical_place(location.place)
        if location is not None and location.country is None:
            where = location.place or location.venue
            if where:
                location.country = place_country(where)
        if meeting.date is not None and article.published is not None:
            meeting.date = _repaired_year(
                meeting.date, article.published, _TENSE.get(meeting.status)
            )
    for position in result.positions:
        if position.holder is not None:
            position.holder = _join(position.holder, joined)
            if position.side is None:
                entry = person_entry(position.holder.name, position.holder.name_en)
                side = entry.side if entry is not None else None
                position.side = side or sides.get(person_key(position.holder.name))
    return result
