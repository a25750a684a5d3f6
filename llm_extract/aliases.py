"""The alias table: one canonical name per person, side and place.

The same table serves the annotation guideline, normalisation and scoring, so
that 'Виткофф', 'Уиткофф', 'Віткофф' and 'Witkoff' are one person everywhere.

The table is `data/aliases.json` with `data/aliases.*.json` merged over it (the
Ukrainian spellings live in `aliases.uk.json`), then a user's file when one is
given (`use_aliases`, `--aliases FILE`, `$LLM_EXTRACT_ALIASES`). Merging: a person
whose `name_en`, `name` or an alias is already in the table is that person (their
aliases are added, the fields given replace the table's); anyone else is added;
sides add forms to a code (or a new code), places add or replace a city's country.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from llm_extract.errors import ConfigError

__all__ = [
    "ALIASES_ENV",
    "AliasTable",
    "PersonEntry",
    "alias_table",
    "derived",
    "fold",
    "merge_tables",
    "use_aliases",
]

ALIASES_ENV = "LLM_EXTRACT_ALIASES"
"""A user's alias file, merged over the shipped table (as `--aliases FILE`)."""


def fold(text: str) -> str:
    """The lookup key: case, ё/е, hyphens, dots, apostrophes and spacing do not tell names apart."""
    text = text.lower().replace("ё", "е").replace("-", " ").replace(".", " ")
    text = re.sub(r"['’ʼ`]", "", text)
    return " ".join(text.split())


class PersonEntry(BaseModel):
    name: str
    name_en: str
    side: str | None = None
    wikidata: str | None = Field(default=None, pattern=r"^Q[1-9][0-9]*$")
    """Wikidata item id, set only where checked against a public source (PLOVER actor ids)."""
    aliases: list[str] = []

    @property
    def id(self) -> str:
        """A stable id from the English name: «andrii-sybiha»."""
        ascii_name = unicodedata.normalize("NFKD", self.name_en).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


class AliasTable(BaseModel):
    people: list[PersonEntry]
    sides: dict[str, list[str]]
    places: dict[str, str]

    _people: dict[str, PersonEntry] = PrivateAttr(default_factory=dict)
    _sides: dict[str, str] = PrivateAttr(default_factory=dict)
    _places: dict[str, str] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._people = {
            fold(form): p for p in self.people for form in (p.name, p.name_en, *p.aliases)
        }
        self._sides = {fold(code): code for code in self.sides}
        self._sides.update({fold(f): code for code, forms in self.sides.items() for f in forms})
        self._places = {fold(place): code for place, code in self.places.items()}

    def person(self, name: str) -> PersonEntry | None:
        """The entry whose canonical name or alias is `name` (nominative), if any."""
        return self._people.get(fold(name))

    def side(self, name: str) -> str | None:
        """ISO code or organisation for a country, capital or institution name."""
        return self._sides.get(fold(name))

    def place_country(self, place: str) -> str | None:
        return self._places.get(fold(place))


def merge_tables(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """`overlay` merged over `base` (both raw tables; see the module's docstring)."""
    people = [dict(p) for p in base.get("people", [])]
    index = {fold(form): p for p in people for form in _forms(p)}
    for entry in overlay.get("people", []):
        known = next((index[fold(f)] for f in _forms(entry) if fold(f) in index), None)
        if known is None:
            known = dict(entry)
            people.append(known)
        else:
            aliases = [*known.get("aliases", []), *entry.get("aliases", [])]
            known.update({k: v for k, v in entry.items() if k != "aliases"})
            known["aliases"] = list(dict.fromkeys(aliases))
        index.update({fold(form): known for form in _forms(known)})
    sides = {code: list(forms) for code, forms in base.get("sides", {}).items()}
    for code, forms in overlay.get("sides", {}).items():
        sides[code] = list(dict.fromkeys([*sides.get(code, []), *forms]))
    return {
        "people": people,
        "sides": sides,
        "places": {**base.get("places", {}), **overlay.get("places", {})},
    }


def _forms(entry: dict[str, Any]) -> list[str]:
    return [f for f in (entry.get("name_en"), entry.get("name"), *entry.get("aliases", [])) if f]


_user_file: Path | None = None
_derived: list[Callable[..., Any]] = []

F = TypeVar("F", bound=Callable[..., Any])


def derived(function: F) -> F:
    """Cache an index built from the table; `use_aliases` clears it with the table."""
    cached = cache(function)
    _derived.append(cached)
    return cached  # type: ignore[return-value]


def use_aliases(path: str | Path | None) -> None:
    """Merge a user's alias file over the shipped table from now on (None: the shipped one).

    A file that cannot be read or does not fit the table's shape is a ConfigError.
    """
    global _user_file
    _user_file = Path(path) if path is not None else None
    alias_table.cache_clear()
    for function in _derived:
        function.cache_clear()  # type: ignore[attr-defined]
    if _user_file is not None:
        alias_table()


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"alias file {path}: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"alias file {path}: expected an object with people, sides, places")
    raw.pop("_doc", None)
    return raw


@cache
def alias_table() -> AliasTable:
    data = files("llm_extract").joinpath("data")
    raw = json.loads(data.joinpath("aliases.json").read_text("utf-8"))
    raw.pop("_doc", None)
    for extra in sorted(
        p.name for p in data.iterdir() if re.fullmatch(r"aliases\.\w+\.json", p.name)
    ):
        overlay = json.loads(data.joinpath(extra).read_text("utf-8"))
        raw = merge_tables(raw, overlay)
    user = _user_file or (Path(os.environ[ALIASES_ENV]) if os.environ.get(ALIASES_ENV) else None)
    if user is not None:
        raw = merge_tables(raw, _read(user))
        try:
            return AliasTable.model_validate(raw)
        except ValidationError as err:
            raise ConfigError(f"alias file {user}: {err}") from None
    return AliasTable.model_validate(raw)
