"""Russian and Ukrainian morphology: pymorphy3's readings of a word and of a name in the
nominative. Its own room because names, sides and places all read words through it, and it is
the one module that loads pymorphy3 (lazily, on first use).

Each Russian token is read in every case and gender pymorphy3 offers, and the reading whose
case and gender the tokens of the name agree on best wins («Владимира Путина» is genitive
throughout, so «Владимир Путин»). Parses tagged `Name`/`Surn`/`Patr` weigh more than others.
Foreign surnames pymorphy does not know («Уиткоффом», «Бессентом») also get a reading that
strips a masculine case ending from a consonant stem, and a reading as written
(indeclinable: «Рубио»).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Literal

from llm_extract.aliases import fold

if TYPE_CHECKING:
    import pymorphy3
    from pymorphy3.analyzer import Parse

__all__ = ["Language", "name_language", "nominative_name", "nominative_phrase"]


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
