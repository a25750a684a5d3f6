"""Sides and places: a side named in any case or language to its ISO code or organisation,
a place to the alias table's spelling and its country, and titles with their sides as codes.
Its own room because it answers "which country?", a question apart from who a person is.
"""

from __future__ import annotations

import gettext
from functools import cache

import pycountry

from llm_extract.aliases import alias_table, derived, fold
from llm_extract.normalise.morphology import (
    _CYRILLIC,
    _WORD,
    Language,
    _lemma,
    _lemma_key,
    name_language,
)
from llm_extract.schemas import ORGANISATIONS

__all__ = ["canonical_place", "place_country", "side_code", "with_side_codes"]


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
