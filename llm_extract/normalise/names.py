"""People: a name to its alias-table person, canonical and English name, and the keys that
match people across records and against gold. Its own room because it is the one policy for
who a name denotes, which scoring, events, codes and the baseline all share.

The alias table maps any nominative reading (`morphology`) to its canonical person; a surname
that belongs to exactly one person in the table maps to that person unless a first name says
otherwise («Чарльз Кушнер» is not Джаред Кушнер).
"""

from __future__ import annotations

import re

from llm_extract.aliases import PersonEntry, alias_table, derived, fold
from llm_extract.normalise.morphology import (
    _CYRILLIC,
    _parses,
    _readings,
    name_language,
    nominative_name,
)
from llm_extract.translit import transliterate

__all__ = ["canonical_name", "english_name", "given_name", "person_entry", "person_key"]


@derived
def _surnames() -> dict[str, list[tuple[PersonEntry, frozenset[str]]]]:
    """Folded surname -> the people who bear it, each with the initials of their first names."""
    index: dict[str, dict[str, tuple[PersonEntry, set[str]]]] = {}
    for person in alias_table().people:
        for form in (person.name, person.name_en, *person.aliases):
            words = fold(form).split()
            entry = index.setdefault(words[-1], {}).setdefault(person.name, (person, set()))
            if len(words) > 1:
                entry[1].add(words[0][0])
    return {
        surname: [(person, frozenset(initials)) for person, initials in people.values()]
        for surname, people in index.items()
    }


def person_entry(name: str, name_en: str | None = None) -> PersonEntry | None:
    """The alias-table person `name` denotes, in any case or spelling, if any; else the
    one its English spelling `name_en` denotes (a model's «Marco Rubio» beside a native
    spelling the table lacks)."""
    table = alias_table()
    if (entry := table.person(name)) is not None:
        return entry
    readings = _readings(name)
    for reading in readings:
        if (entry := table.person(reading)) is not None:
            return entry
    for reading in readings:
        words = [w for w in reading.split() if fold(w)]
        if not words:
            continue
        at = _surname_at(words)
        people = _surnames().get(fold(words[at]).split()[-1], [])
        if len(people) != 1:
            continue
        person, initials = people[0]
        others = [fold(w)[0] for i, w in enumerate(words) if i != at]
        if not others or others[0] in initials:
            return person
    if name_en and name_en.strip() and not _CYRILLIC.search(name_en):
        return person_entry(name_en)
    return None


def canonical_name(name: str) -> str:
    """The alias table's name for a known person, else the nominative of the given name."""
    entry = person_entry(name)
    return entry.name if entry is not None else nominative_name(name)


def english_name(name: str) -> str | None:
    """The table's English name; a Latin-script name as given; else a standard
    transliteration of the Russian or Ukrainian nominative (`translit`)."""
    entry = person_entry(name)
    if entry is not None:
        return entry.name_en
    cleaned = " ".join(name.split())
    if not cleaned:
        return None
    if not _CYRILLIC.search(cleaned):
        return cleaned
    return transliterate(nominative_name(cleaned), name_language(cleaned))


def person_key(name: str) -> str:
    """Identity key for matching people across records and against gold.

    A person in the alias table: their folded English name («steve witkoff»), the same
    for every case, spelling and script. Anyone else: the surname (`_surname_at`, one
    rule for every name) in the nominative, transliterated and folded, so «Хакан Фидан»,
    «Фидана» and «Hakan Fidan» are «fidan», «Ван И» and «Wang Yi» «van»/«wang» by their
    family name. The key says nothing of the given name: compare `given_name` too
    before calling two people one.
    """
    entry = person_entry(name)
    if entry is not None:
        return fold(entry.name_en)
    words = _name_words(name)
    return _latin_key(words[_surname_at(words)], name) if words else ""


def given_name(name: str) -> str | None:
    """The folded, transliterated given name («sergey»), or an initial («s»), of someone
    outside the alias table; None for a table person (the table already tells namesakes
    apart) or when only a surname is given."""
    if person_entry(name) is not None:
        return None
    words = _name_words(name)
    if not words:
        return None
    surname = _surname_at(words)
    for at, word in enumerate(words):
        if at != surname and not _tagged(word, "Patr"):
            return _latin_key(word, name).split()[0] if fold(word) else None
    return None


def _latin_key(word: str, name: str) -> str:
    """Folded before transliterating, so «Пётр» and «Петр» are one key («petr»)."""
    return fold(transliterate(fold(word), name_language(name)) if _CYRILLIC.search(word) else word)


_EAST_ASIAN_FAMILY_NAMES = frozenset(
    [
        "wang",
        "li",
        "zhang",
        "liu",
        "chen",
        "huang",
        "zhao",
        "wu",
        "zhou",
        "xu",
        "sun",
        "zhu",
        "hu",
        "guo",
        "lin",
        "gao",
        "luo",
        "zheng",
        "liang",
        "xie",
        "song",
        "tang",
        "han",
        "feng",
        "deng",
        "cao",
        "peng",
        "zeng",
        "xiao",
        "tian",
        "dong",
        "pan",
        "yuan",
        "cai",
        "jiang",
        "du",
        "cheng",
        "wei",
        "su",
        "ding",
        "ren",
        "shen",
        "yao",
        "xi",
        "qin",
        "kim",
        "park",
        "choi",
        "jung",
        "kang",
        "cho",
        "yoon",
        "nguyen",
        "tran",
        "pham",
        "ван",
        "ли",
        "чжан",
        "лю",
        "чэнь",
        "хуан",
        "чжао",
        "чжоу",
        "сюй",
        "сунь",
        "чжу",
        "ху",
        "го",
        "линь",
        "гао",
        "ло",
        "чжэн",
        "лян",
        "се",
        "сун",
        "тан",
        "хань",
        "фэн",
        "дэн",
        "цао",
        "пэн",
        "цзэн",
        "сяо",
        "тянь",
        "дун",
        "пань",
        "юань",
        "цай",
        "цзян",
        "ду",
        "чэн",
        "вэй",
        "су",
        "дин",
        "жэнь",
        "шэнь",
        "яо",
        "си",
        "цинь",
        "ким",
        "пак",
        "чхве",
        "чон",
        "кан",
        "чо",
        "юн",
        "нгуен",
        "чан",
        "фам",
    ]
)
"""Family names written first (Chinese, Korean, Vietnamese): «Ван И», «Wang Yi», «Си Цзиньпин»."""


def _name_words(name: str) -> list[str]:
    return [w for w in nominative_name(name).split() if fold(w)]


def _surname_at(words: list[str]) -> int:
    """Which word is the surname, one rule for every name: the first word when it is an
    East Asian family name and the name has two or three words; the first when the last
    is a given name pymorphy knows and the first a surname (tagged so, or with a Slavic
    surname's ending: «Рябков Сергей»); else the last word that is not an initial or a patronymic («Хакан
    Фидан», «Алексей Ерхов»)."""
    plain = [at for at, w in enumerate(words) if "." not in w and not _tagged(w, "Patr")]
    if not plain:
        return len(words) - 1
    first, last = plain[0], plain[-1]
    if first != last and len(words) <= 3 and fold(words[first]) in _EAST_ASIAN_FAMILY_NAMES:
        return first
    inverted = _tag_weight(words[first], "Surn") >= 0.5 or _SLAVIC_SURNAME.search(words[first])
    if first != last and _tag_weight(words[last], "Name") >= _GIVEN and inverted:
        return first
    return last


_SLAVIC_SURNAME = re.compile(
    r"(ов|ев|ёв|єв|ин|ын|ский|цкий|ськ(ий|а)|цьк(ий|а)|ова|ева|ина|ская|цкая|енко|ук|юк|чук)$",
    re.IGNORECASE,
)


_GIVEN = 0.9
"""Share of pymorphy3's weight on `Name` that makes a last word a given name: «Сергей»,
«Кирилл» (1.0), not «Фидан» (0.62) or «Байден» (0.56)."""


def _tag_weight(word: str, grammeme: str) -> float:
    """How much of pymorphy3's probability for `word` carries `grammeme`."""
    if not _CYRILLIC.search(word):
        return 0.0
    lang = name_language(word)
    return sum(p.score for p in _parses(word.lower(), lang) if grammeme in p.tag.grammemes)


def _tagged(word: str, grammeme: str) -> bool:
    parses = _parses(word.lower(), name_language(word)) if _CYRILLIC.search(word) else ()
    return bool(parses) and grammeme in parses[0].tag.grammemes
