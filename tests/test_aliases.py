from __future__ import annotations

import pytest

from llm_extract.aliases import alias_table, fold


@pytest.mark.parametrize(
    "variant", ["Виткофф", "Уиткофф", "Стив Виткофф", "Witkoff", "стивен уиткофф"]
)
def test_spelling_variants_are_one_person(variant: str) -> None:
    entry = alias_table().person(variant)
    assert entry is not None
    assert (entry.name, entry.name_en, entry.side) == ("Стив Уиткофф", "Steve Witkoff", "US")


def test_unknown_people_are_not_guessed() -> None:
    assert alias_table().person("Иван Иванов") is None


@pytest.mark.parametrize(
    ("name", "code"),
    [("Россия", "RU"), ("РФ", "RU"), ("Соединённые Штаты", "US"), ("ОАЭ", "AE"), ("НАТО", "NATO")],
)
def test_sides(name: str, code: str) -> None:
    assert alias_table().side(name) == code


def test_places_know_their_country() -> None:
    assert alias_table().place_country("Абу-Даби") == "AE"
    assert alias_table().place_country("абу даби") == "AE"


def test_fold_ignores_case_yo_and_punctuation() -> None:
    assert fold("  Объединённые  Арабские-Эмираты ") == "объединенные арабские эмираты"


def test_every_alias_names_one_person_only() -> None:
    seen: dict[str, str] = {}
    for person in alias_table().people:
        for form in (person.name, person.name_en, *person.aliases):
            key = fold(form)
            assert seen.setdefault(key, person.name) == person.name, f"{form!r} is ambiguous"
