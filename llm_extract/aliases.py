"""The alias table: one canonical name per person, side and place.

The same table serves the annotation guideline, normalisation and scoring, so
that 'Виткофф', 'Уиткофф' and 'Witkoff' are one person everywhere.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from pydantic import BaseModel, Field, PrivateAttr

__all__ = ["AliasTable", "PersonEntry", "alias_table", "fold"]


def fold(text: str) -> str:
    """The lookup key: case, ё/е, hyphens, dots and spacing do not tell names apart."""
    text = text.lower().replace("ё", "е").replace("-", " ").replace(".", " ")
    return " ".join(text.split())


class PersonEntry(BaseModel):
    name: str
    name_en: str
    side: str | None = None
    wikidata: str | None = Field(default=None, pattern=r"^Q[1-9][0-9]*$")
    """Wikidata item id, set only where checked against a public source (PLOVER actor ids)."""
    aliases: list[str] = []


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


@cache
def alias_table() -> AliasTable:
    raw = json.loads(files("llm_extract").joinpath("data/aliases.json").read_text("utf-8"))
    raw.pop("_doc", None)
    return AliasTable.model_validate(raw)
