"""Chunk merge: a record found in two chunks is kept once, and two people stay two."""

from __future__ import annotations

from llm_extract.extraction import merge_extractions
from llm_extract.schemas import ArticleExtraction

QUOTE = {"text": "Иван Иванов встретился с делегацией", "start": 0, "end": 35, "match": "exact"}


def meeting(*members: str, evidence: dict | None = None, date: str = "2026-01-20") -> dict:
    return {
        "status": "held",
        "date": {"start": date},
        "delegations": [
            {
                "side": "RU",
                "head": {"name": "Иван Иванов"},
                "members": [{"name": name} for name in members],
            },
        ],
        "evidence": [evidence or QUOTE],
    }


def test_two_chunks_of_one_meeting_keep_two_people_who_share_a_surname():
    one = ArticleExtraction.model_validate({"meetings": [meeting()]})
    two = ArticleExtraction.model_validate({"meetings": [meeting("Пётр Иванов")]})
    [merged] = merge_extractions([one, two]).meetings  # the same evidence: one meeting
    [russia] = merged.delegations
    assert russia.head.name == "Иван Иванов"
    assert [p.name for p in russia.members] == ["Пётр Иванов"]


def test_meetings_with_other_people_of_one_surname_are_two_meetings():
    quote = {"text": "Пётр Иванов встретился с делегацией", "start": 500, "end": 535,
             "match": "exact"}  # fmt: skip
    one = ArticleExtraction.model_validate({"meetings": [meeting()]})
    other = meeting(evidence=quote)
    other["delegations"][0]["head"] = {"name": "Пётр Иванов"}
    two = ArticleExtraction.model_validate({"meetings": [other]})
    assert len(merge_extractions([one, two]).meetings) == 2


def test_the_same_person_spelled_twice_is_still_one():
    one = ArticleExtraction.model_validate({"meetings": [meeting("Пётр Иванов")]})
    two = ArticleExtraction.model_validate({"meetings": [meeting("П. Иванов")]})
    [merged] = merge_extractions([one, two]).meetings
    assert [p.name for p in merged.delegations[0].members] == ["Пётр Иванов"]
