from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from llm_extract.schemas import (
    SCHEMAS,
    ArticleExtraction,
    Delegation,
    EventDate,
    Evidence,
    ExtractionResult,
    Location,
    Meeting,
    Participant,
    Position,
    json_schema,
    schema_hash,
)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def _meeting(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "status": "held",
        "format": "in_person",
        "date": {"start": "2026-01-22", "text": "в четверг"},
        "location": {"place": "Москва", "country": "ru", "venue": "Кремль"},
        "delegations": [
            {"side": "RU", "head": {"name": "Владимир Путин"}},
            {
                "side": "us",
                "head": {"name": "Стив Уиткофф"},
                "members": [{"name": "Джаред Кушнер"}],
            },
        ],
        "evidence": [{"text": "Переговоры продлились почти четыре часа"}],
    }
    base.update(overrides)
    return base


def test_a_full_meeting_validates_and_codes_are_upper_cased() -> None:
    meeting = Meeting.model_validate(_meeting())
    assert meeting.location == Location(place="Москва", country="RU", venue="Кремль")
    assert [d.side for d in meeting.delegations] == ["RU", "US"]


@pytest.mark.parametrize(
    "bad",
    [
        {"date": {"start": "22.01.2026"}},
        {"date": {"start": "2026-02-30"}},
        {"date": {"start": "2026-13"}},
        {"date": {"start": "2026-01-22", "end": "2026-01-20"}},
        {"location": {"country": "XX"}},
        {"location": {"country": "Россия"}},
        {"delegations": [{"side": "Россия"}]},
        {"delegations": [{"side": "RU", "head": {"name": "  "}}]},
        {"status": "happened"},
        {"format": "telepathy"},
        {"evidence": []},
        {"evidence": [{"text": ""}]},
    ],
    ids=lambda bad: json.dumps(bad, ensure_ascii=False),
)
def test_malformed_meetings_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Meeting.model_validate(_meeting(**bad))


@pytest.mark.parametrize(
    ("start", "precision"), [("2026", "year"), ("2026-01", "month"), ("2026-01-22", "day")]
)
def test_date_precision_follows_the_iso_form(start: str, precision: str) -> None:
    assert EventDate(start=start).precision == precision
    assert EventDate(start=start).model_dump()["precision"] == precision


def test_organisations_are_sides() -> None:
    assert Delegation(side="nato").side == "NATO"
    assert Delegation(side="EU").side == "EU"


def test_names_are_trimmed_and_whitespace_folded() -> None:
    assert Participant(name="  Кирилл   Дмитриев ").name == "Кирилл Дмитриев"


def test_evidence_offsets_come_in_pairs_and_in_order() -> None:
    assert not Evidence(text="x").grounded
    assert Evidence(text="x", start=3, end=4, match="exact").grounded
    with pytest.raises(ValidationError):
        Evidence(text="x", start=3)
    with pytest.raises(ValidationError):
        Evidence(text="x", start=4, end=4)


def test_a_position_needs_a_holder_or_a_side() -> None:
    base = {
        "issue": "итоги встречи",
        "stance": "assessment",
        "summary": "Ушаков назвал встречу полезной.",
        "speech": "direct",
        "evidence": [{"text": "встреча была полезной"}],
    }
    assert Position.model_validate({**base, "side": "RU"}).holder is None
    assert Position.model_validate({**base, "holder": {"name": "Юрий Ушаков"}}).side is None
    with pytest.raises(ValidationError, match="holder"):
        Position.model_validate(base)
    with pytest.raises(ValidationError):
        Position.model_validate({**base, "side": "RU", "stance": "likes"})


def test_results_say_why_they_failed() -> None:
    with pytest.raises(ValidationError, match="says why"):
        ExtractionResult(article_id="a", source="a.txt", model="m", status="failed")
    with pytest.raises(ValidationError, match="carries an extraction"):
        ExtractionResult(article_id="a", source="a.txt", model="m", status="ok")


def test_stored_result_round_trips_through_json() -> None:
    result = ExtractionResult(
        article_id="a",
        source="a.txt",
        model="fixture-careful",
        status="ok",
        extraction=ArticleExtraction(meetings=[Meeting.model_validate(_meeting())]),
    )
    again = ExtractionResult.model_validate_json(result.model_dump_json())
    assert again == result


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_exported_schemas_match_the_models(name: str) -> None:
    """The files under schemas/ are generated; regenerate with `llm-extract schema --write schemas`."""
    on_disk = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))
    assert on_disk == json_schema(name), f"schemas/{name}.schema.json is stale"


def test_model_facing_schema_tells_the_model_about_offsets() -> None:
    evidence = json_schema()["$defs"]["Evidence"]  # type: ignore[index]
    assert evidence["required"] == ["text"]
    assert "leave empty" in evidence["properties"]["start"]["description"]


def test_schema_hash_is_stable() -> None:
    assert schema_hash() == schema_hash()
    assert len(schema_hash()) == 12


def test_evidence_text_is_kept_verbatim() -> None:
    """Offsets point into the article: folding a line break would break them after a round trip."""
    evidence = Evidence(text="первая строка.\nВторая", start=0, end=21, match="exact")
    assert Evidence.model_validate_json(evidence.model_dump_json()).text == "первая строка.\nВторая"


def test_unknown_keys_are_rejected_so_the_model_is_re_asked() -> None:
    with pytest.raises(ValidationError, match="pwned"):
        ArticleExtraction.model_validate({"pwned": True})
    with pytest.raises(ValidationError):
        Meeting.model_validate(_meeting(attendees=["Путин"]))


def test_stored_dates_with_their_precision_load_again() -> None:
    date = EventDate(start="2026-01")
    assert EventDate.model_validate(date.model_dump()) == date


def test_the_readme_way_to_get_the_published_schema_from_python() -> None:
    import json
    from pathlib import Path

    import llm_extract

    root = Path(__file__).resolve().parents[1]
    assert 'llm_extract.json_schema("article_extraction")' in (root / "README.md").read_text(
        "utf-8"
    )
    for name in ("article_extraction", "extraction_result"):
        published = json.loads((root / "schemas" / f"{name}.schema.json").read_text("utf-8"))
        assert llm_extract.json_schema(name) == published
    assert callable(llm_extract.read_dates)
