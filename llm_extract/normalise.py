"""Normalisation: names to the nominative and the alias table, sides and places to
codes, date expressions to the calendar.

Names. Each Russian token is read in every case and gender pymorphy3 offers, and
the reading whose case and gender the tokens of the name agree on best wins
(«Владимира Путина» is genitive throughout, so «Владимир Путин»). Parses tagged
`Name`/`Surn`/`Patr` weigh more than others. Foreign surnames pymorphy does not
know («Уиткоффом», «Бессентом») also get a reading that strips a masculine case
ending from a consonant stem, and a reading as written (indeclinable: «Рубио»).
The alias table then maps any reading to its canonical person; a surname that
belongs to exactly one person in the table maps to that person unless a first
name says otherwise («Чарльз Кушнер» is not Джаред Кушнер).

Dates. A small rule table (see `resolve_date`): dateparser was tried and left
«накануне», «в четверг на этой неделе», «вечером в среду», «в минувшие выходные»,
«до конца января», «в январе» and «last weekend» unresolved, and has no ranges.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal

import pycountry

from llm_extract.aliases import PersonEntry, alias_table, derived, fold
from llm_extract.schemas import (
    ORGANISATIONS,
    ArticleExtraction,
    EventDate,
    MeetingStatus,
    Participant,
)
from llm_extract.translit import transliterate

if TYPE_CHECKING:
    import pymorphy3
    from pymorphy3.analyzer import Parse

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

Tense = Literal["past", "future"]


# --- morphology ---------------------------------------------------------------------------


Language = Literal["ru", "uk"]


@cache
def _morph(lang: Language = "ru") -> pymorphy3.MorphAnalyzer:
    """One analyzer per language and process: loading dictionaries takes a few tenths of a second."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


@lru_cache(maxsize=8192)
def _parses(word: str, lang: Language = "ru") -> tuple[Parse, ...]:
    return tuple(_morph(lang).parse(word))


_UKRAINIAN = re.compile(r"[іїєґʼ']", re.IGNORECASE)


def name_language(name: str) -> Language:
    """Ukrainian when the name has a letter Russian lacks («Андрій Сибіга»), else Russian:
    Russian case rules turn «Павло Паліса» into «Павло Паліс»."""
    return "uk" if _UKRAINIAN.search(name) else "ru"


@lru_cache(maxsize=8192)
def _lemma(word: str, lang: Language = "ru") -> str:
    return _parses(word.lower(), lang)[0].normal_form if _CYRILLIC.search(word) else word.lower()


def _lemma_key(text: str) -> str:
    return fold(" ".join(_lemma(w) for w in _WORD.findall(text)))


_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
_WORD = re.compile(r"[\w]+(?:[-‐–][\w]+)*")
_CONSONANTS = frozenset("бвгґджзклмнпрстфхцчшщ")
_VOWELS = frozenset("аеиоуэюяієї")
_PERSON_TAGS = frozenset({"Name", "Surn", "Patr"})
_CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
_GENDERS = ("masc", "femn")

# Masculine endings of foreign consonant-stem surnames pymorphy does not know, by case:
# (ending, what replaces it, score). «Уиткоффом» -> «Уиткофф», «Джеем» -> «Джей»; in
# Ukrainian also men's surnames in -а: «Сибігою» -> «Сибіга».
_ENDINGS: dict[Language, dict[str, tuple[tuple[str, str, float], ...]]] = {
    "ru": {
        "ablt": (("ом", "", 0.5), ("ем", "", 0.5), ("ем", "й", 0.4)),
        "gent": (("а", "", 0.3), ("я", "й", 0.3), ("ы", "а", 0.3), ("и", "а", 0.2)),
        "accs": (("а", "", 0.3), ("я", "й", 0.3)),
        "datv": (("у", "", 0.3), ("ю", "й", 0.3)),
        "loct": (("е", "", 0.2),),
    },
    "uk": {
        "ablt": (("ом", "", 0.5), ("ем", "", 0.5), ("єм", "й", 0.4), ("ою", "а", 0.4), ("ею", "я", 0.3)),
        "gent": (("а", "", 0.3), ("я", "й", 0.3), ("и", "а", 0.3), ("і", "я", 0.2)),
        "accs": (("а", "", 0.3), ("я", "й", 0.3), ("у", "а", 0.3)),
        "datv": (("у", "", 0.3), ("ові", "", 0.4), ("еві", "", 0.3), ("і", "а", 0.2)),
        "loct": (("і", "", 0.2),),
    },
}  # fmt: skip
_OBLIQUE = re.compile(r"(ом|ем|єм|ой|ей|ым|им|ого|его|ому|ему|ою|ею|ові|еві)$")
_ADJECTIVAL = re.compile(r"(ого|его|ому|ему|ым|им|ой|ая|яя|ую|юю|ий|ый|ій|ої|ою)$")
_AS_WRITTEN = 0.3
"""Score of reading an unknown word as an indeclinable nominative («Рубио», «Бессент»);
a third of it when the word ends like an oblique case («Арахамией»)."""


@dataclass(frozen=True, slots=True)
class _Option:
    """One way to read a token: its case, the genders it fits, its nominative, how likely."""

    case: str
    genders: frozenset[str]
    nominative: str
    score: float


def _genders(gender: str | None) -> frozenset[str]:
    """Genders a parse fits: common-gender («ms-f») and unmarked parses fit both."""
    if gender is None:
        return frozenset(_GENDERS)
    name = str(gender)
    return frozenset({name}) if name in _GENDERS else frozenset()


@lru_cache(maxsize=4096)
def _token_options(token: str, lang: Language = "ru") -> tuple[_Option, ...]:
    """Readings of one token; parses that agree on case, gender and nominative add up."""
    low = token.lower()
    known = _morph(lang).word_is_known(low)
    scores: dict[tuple[str, frozenset[str], str], float] = {}

    def add(case: str, genders: frozenset[str], nominative: str, score: float) -> None:
        key = (case, genders, nominative)
        scores[key] = scores.get(key, 0.0) + score

    for parse in _parses(low, lang):
        tag = parse.tag
        genders = _genders(tag.gender)
        if tag.POS not in ("NOUN", "ADJF") or tag.case not in _CASES or tag.number == "plur":
            continue
        inflected = parse.inflect({"nomn"})
        if not genders or inflected is None:
            continue
        if inflected.word.endswith(("а", "я")) and not {"Surn", "femn"} <= tag.grammemes:
            genders = frozenset(_GENDERS)  # men's surnames in -а/-я: Арахамия, Сибига
        weight = (1.0 if _PERSON_TAGS & tag.grammemes else 0.5) * (1.0 if known else 0.5)
        add(str(tag.case), genders, inflected.word, parse.score * weight)
    if not known:
        oblique = _OBLIQUE.search(low) is not None
        add("nomn", frozenset(_GENDERS), low, _AS_WRITTEN / 3 if oblique else _AS_WRITTEN)
        if not _ADJECTIVAL.search(low):
            for case, nominative, score in _stripped(low, lang):
                add(case, frozenset({"masc"}), nominative, score)
    return tuple(_Option(c, g, n, score) for (c, g, n), score in scores.items())


def _stripped(word: str, lang: Language) -> Iterator[tuple[str, str, float]]:
    for case, endings in _ENDINGS[lang].items():
        for ending, replacement, score in endings:
            stem = word[: -len(ending)]
            if not word.endswith(ending) or len(stem) < 3:
                continue
            if stem[-1] in (_VOWELS if replacement == "й" else _CONSONANTS | {"і"}):
                yield case, stem + replacement, score


def _readings(name: str) -> list[str]:
    """Nominative readings of a name, best first; tokens that are not Russian words stay."""
    tokens = name.split()
    if not any(_CYRILLIC.search(t) and "." not in t for t in tokens):
        return [" ".join(tokens)]
    lang = name_language(name)
    scored: list[tuple[float, int, str]] = []
    order = 0
    for case in _CASES:
        for gender in _GENDERS:
            total, words = 0.0, []
            for token in tokens:
                best = _best_option(token, case, gender, lang)
                if best is None:
                    words.append(token)
                else:
                    total += best.score
                    words.append(_like(token, best.nominative))
            if total > 0:
                scored.append((-total, order, " ".join(words)))
            order += 1
    seen: dict[str, None] = {}
    for _score, _order, reading in sorted(scored):
        seen.setdefault(reading, None)
    return list(seen) or [" ".join(tokens)]


def _best_option(token: str, case: str, gender: str, lang: Language) -> _Option | None:
    if "." in token or not _CYRILLIC.search(token):
        return None
    fitting = [o for o in _token_options(token, lang) if o.case == case and gender in o.genders]
    return max(fitting, key=lambda o: o.score, default=None)


def _like(original: str, word: str) -> str:
    """Give `word` the capitalisation of `original`, part by part across hyphens."""
    if original.isupper() and len(original) > 1:
        return word.upper()
    if original[:1].isupper():
        return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))
    return word


def nominative_name(name: str) -> str:
    """The name in the nominative, by morphology alone («Джаредом Кушнером» -> «Джаред Кушнер»)."""
    return _readings(name)[0]


def nominative_phrase(words: list[str], *, plural: bool | None = None) -> list[str]:
    """A title's adjectives and head noun (the last word) in the nominative, number kept:
    «главой польского» is not a title, «специальным посланником» -> «специальный посланник».
    `plural` picks the reading when a tagger knows it («встречи»: not the genitive singular);
    the adjectives take the noun's gender and number («прямого контакта» -> «прямой контакт»)."""
    number = {True: "plur", False: "sing", None: None}[plural]
    noun = _reading(words[-1], "NOUN", number) if words else None
    if noun is not None:
        number = noun.tag.number
    agree = {"nomn", number or "sing"}
    if noun is not None and number == "sing" and noun.tag.gender:
        agree.add(noun.tag.gender)
    out: list[str] = []
    for k, word in enumerate(words):
        last = k == len(words) - 1
        parse = noun if last else _reading(word, "ADJF", number)
        if parse is None or (parse.tag.case == "nomn" and parse.tag.number == number):
            out.append(word)
            continue
        form = parse.inflect({"nomn"} if last else agree) or parse.inflect({"nomn"})
        out.append(_like(word, form.word) if form is not None else word)
    return out


def _reading(word: str, pos: str, number: str | None) -> Parse | None:
    fitting = [p for p in _parses(word.lower()) if pos in p.tag]
    numbered = [p for p in fitting if number is None or p.tag.number == number]
    return next(iter(numbered or fitting), None)


# --- people -----------------------------------------------------------------------------


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


# --- sides and places -------------------------------------------------------------------


@cache
def _russian_countries() -> dict[str, str]:
    """pycountry's Russian country names (and official names), lemma-keyed, to alpha-2."""
    ru = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"])
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for field in ("name", "official_name"):
            value = getattr(country, field, None)
            if value:
                index.setdefault(_lemma_key(ru.gettext(value)), country.alpha_2)
    return index


@derived
def _side_lemmas() -> dict[str, str]:
    table = alias_table()
    return {
        _lemma_key(form): code
        for code, forms in table.sides.items()
        for form in (code, *forms)
        if _lemma_key(form)
    }


@derived
def _place_lemmas() -> dict[str, str]:
    """Lemma key -> the table's spelling of the place: «Москве» finds «Москва»."""
    return {_lemma_key(place): place for place in alias_table().places}


def _pycountry(name: str) -> str | None:
    if _CYRILLIC.search(name):
        return _russian_countries().get(_lemma_key(name))
    try:
        return pycountry.countries.lookup(name.strip()).alpha_2
    except LookupError:
        return None


def side_code(name: str) -> str | None:
    """ISO alpha-2 code or organisation for a side named in any case or language.

    Tries the whole phrase (alias table, then its lemmas, then pycountry's English and
    Russian country names), then every part of it against the alias table: «президент
    России», «американской стороны». A phrase that names two sides gets None.
    """
    table = alias_table()
    if (code := table.side(name)) is not None:
        return code
    words = _WORD.findall(name)
    if not words:
        return None
    lemmas = _side_lemmas()
    if (code := lemmas.get(_lemma_key(name))) is not None:
        return code
    if (code := _pycountry(name)) is not None:
        return code
    found: set[str] = set()
    for size in range(len(words) - 1, 0, -1):
        for at in range(len(words) - size + 1):
            part = words[at : at + size]
            if size == 1 and part[0].islower() and len(part[0]) <= 3:
                continue  # «us», «ес» in running text are not sides
            if (code := lemmas.get(_lemma_key(" ".join(part)))) is not None:
                found.add(code)
    return found.pop() if len(found) == 1 else None


_LANGUAGES: tuple[Language, ...] = ("ru", "uk")


@derived
def _side_forms() -> dict[tuple[str, ...], str]:
    """Every form of the alias table's sides, as the lemmas of its words, to its code. Each
    form is read by both dictionaries: «Туреччина» has no letter that marks it Ukrainian, and a
    Ukrainian title around it («міністр … Туреччини») is read by the Ukrainian one."""
    index: dict[tuple[str, ...], str] = {}
    for code, forms in alias_table().sides.items():
        for form in (code, *forms):
            for lang in _LANGUAGES:
                if key := _side_key(_WORD.findall(form), lang):
                    index.setdefault(key, code)
    return index


def _side_key(words: list[str], lang: Language) -> tuple[str, ...]:
    return tuple(fold(_lemma(w, lang)) for w in words)


@derived  # cleared with the alias table (`use_aliases`)
def with_side_codes(text: str) -> tuple[str, frozenset[str]]:
    """`text` with each side the alias table lists, in any case form, replaced by its code,
    and the codes it names, so that titles compare as the same: «президент США», «Президент
    Соединённых Штатов Америки» and «President of the United States» all read `US`;
    «президента Росії», «главы России» `RU`. The longest form wins; a short lowercase word
    («us», «by») is no side."""
    words = _WORD.findall(text)
    keys = _side_key(words, name_language(text))
    index = _side_forms()
    longest = max(map(len, index), default=0)
    out: list[str] = []
    codes: set[str] = set()
    at = 0
    while at < len(words):
        for size in range(min(longest, len(words) - at), 0, -1):
            code = index.get(keys[at : at + size])
            short = size == 1 and words[at].islower() and len(words[at]) <= 3
            if code is not None and not short:
                out.append(code)
                codes.add(code)
                at += size
                break
        else:
            out.append(words[at])
            at += 1
    return " ".join(out), frozenset(codes)


def canonical_place(place: str) -> str:
    """The alias table's spelling of a known place in any case, else the place as given."""
    if alias_table().place_country(place) is not None:
        return place
    return _place_lemmas().get(_lemma_key(place), place)


def place_country(place: str) -> str | None:
    """Country code of a city (alias table `places`) or of a place that is a country or capital."""
    table = alias_table()
    code = table.place_country(canonical_place(place))
    if code is None:
        code = table.side(place) or _side_lemmas().get(_lemma_key(place)) or _pycountry(place)
    return code if code is not None and code not in ORGANISATIONS else None


# --- dates ------------------------------------------------------------------------------

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


# --- whole extractions ------------------------------------------------------------------

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
