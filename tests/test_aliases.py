from __future__ import annotations

import json

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


def test_a_user_alias_file_is_merged_over_the_shipped_table(tmp_path) -> None:
    from llm_extract.aliases import use_aliases
    from llm_extract.errors import ConfigError
    from llm_extract.normalise import person_key, side_code

    extra = tmp_path / "aliases.json"
    extra.write_text(
        json.dumps(
            {
                "people": [
                    {"name": "Хакан Фидан", "name_en": "Hakan Fidan", "side": "TR",
                     "aliases": ["Фидан", "Fidan"]},
                    {"name_en": "Steve Witkoff", "aliases": ["Уиткоффф"]},
                ],
                "sides": {"UA": ["Банковая"]},
            },
            ensure_ascii=False,
        )
    )  # fmt: skip
    try:
        use_aliases(extra)
        table = alias_table()
        assert table.person("Фидана") is None and table.person("Фидан").name_en == "Hakan Fidan"
        assert person_key("Хакана Фидана") == person_key("Hakan Fidan") == "hakan fidan"
        assert table.person("Уиткоффф").name == "Стив Уиткофф"  # an alias added to a person
        assert table.person("Виткофф").name_en == "Steve Witkoff"  # the shipped aliases stay
        assert side_code("Банковая") == "UA" and side_code("Кремль") == "RU"
        broken = tmp_path / "broken.json"
        broken.write_text('{"people": [{"name": "X"}]}')
        with pytest.raises(ConfigError, match=r"broken\.json"):
            use_aliases(broken)
    finally:
        use_aliases(None)
    assert alias_table().person("Хакан Фидан") is None
