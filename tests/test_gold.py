"""The gold is the yardstick for every model: it must be valid, exact and canonical."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from llm_extract import ArticleExtraction, Participant, load_article
from llm_extract.aliases import fold
from llm_extract.ground import check_spans, iter_evidence
from llm_extract.normalise import person_entry
from llm_extract.schemas import MatchKind
from llm_extract.score import gold_files

_ROOT = Path(__file__).resolve().parents[1]
_GOLD = _ROOT / "evals" / "gold"
_SEEDS = _ROOT / "seeds"
_IDS = sorted(p.stem for p in _SEEDS.glob("*.txt"))


def _gold(seed_id: str) -> ArticleExtraction:
    path = _GOLD / f"{seed_id}.json"
    return ArticleExtraction.model_validate(json.loads(path.read_text("utf-8")))


def _people(gold: ArticleExtraction) -> Iterator[tuple[str, Participant]]:
    for i, meeting in enumerate(gold.meetings):
        for delegation in meeting.delegations:
            if delegation.head is not None:
                yield f"meetings[{i}] {delegation.side} head", delegation.head
            for member in delegation.members:
                yield f"meetings[{i}] {delegation.side} member", member
    for i, position in enumerate(gold.positions):
        if position.holder is not None:
            yield f"positions[{i}].holder", position.holder


def _span_problems(gold: ArticleExtraction, text: str) -> list[str]:
    """Offsets that do not hold (the library's check), and any span not matched exactly."""
    problems = check_spans(gold, text)
    problems += [
        f"{where}: match is {evidence.match}, gold spans are exact"
        for where, evidence in iter_evidence(gold)
        if evidence.match not in (None, MatchKind.EXACT)
    ]
    return problems


def test_one_gold_file_per_seed() -> None:
    gold_ids = [p.stem for p in gold_files(_GOLD)]
    assert _IDS, "no seeds found"
    assert gold_ids == _IDS


@pytest.mark.parametrize("seed_id", _IDS)
def test_gold_validates(seed_id: str) -> None:
    gold = _gold(seed_id)
    assert gold.meetings, "every seed states at least one meeting"


@pytest.mark.parametrize("seed_id", _IDS)
def test_every_span_is_exact(seed_id: str) -> None:
    text = load_article(_SEEDS / f"{seed_id}.txt").text
    assert _span_problems(_gold(seed_id), text) == []


def test_span_check_catches_a_shifted_span() -> None:
    seed_id = _IDS[0]
    text = load_article(_SEEDS / f"{seed_id}.txt").text
    gold = _gold(seed_id)
    evidence = gold.meetings[0].evidence[0]
    evidence.start, evidence.end = evidence.start + 1, evidence.end + 1
    assert len(_span_problems(gold, text)) == 1


def _name_policy_problems(gold: ArticleExtraction, article: Path) -> list[str]:
    """GUIDELINES §7: the article's spelling; a table person's id and English name."""
    text = fold(load_article(article).text)
    wrong = []
    for where, person in _people(gold):
        entry = person_entry(person.name, person.name_en)
        if entry is not None and (person.person_id, person.name_en) != (entry.id, entry.name_en):
            wrong.append(f"{where}: {person.name!r} wants {entry.id}, {entry.name_en!r}")
        if entry is None and person.person_id is not None:
            wrong.append(f"{where}: {person.name!r} is not in the table")
        if not all(fold(word)[:-2] in text for word in person.name.split()):
            wrong.append(f"{where}: {person.name!r} is not the article's spelling")
    return wrong


@pytest.mark.parametrize("seed_id", _IDS)
def test_people_follow_the_name_policy(seed_id: str) -> None:
    assert _name_policy_problems(_gold(seed_id), _SEEDS / f"{seed_id}.txt") == []


@pytest.mark.parametrize("seed_id", _IDS)
def test_every_person_has_an_english_name(seed_id: str) -> None:
    missing = [where for where, person in _people(_gold(seed_id)) if not person.name_en]
    assert missing == []


@pytest.mark.parametrize("seed_id", _IDS)
def test_date_expressions_are_verbatim(seed_id: str) -> None:
    text = load_article(_SEEDS / f"{seed_id}.txt").text
    dates = [m.date.text for m in _gold(seed_id).meetings if m.date and m.date.text]
    assert [d for d in dates if d not in text] == []


@pytest.mark.parametrize("seed_id", _IDS)
def test_heads_are_not_repeated_as_members(seed_id: str) -> None:
    for meeting in _gold(seed_id).meetings:
        for delegation in meeting.delegations:
            if delegation.head is not None:
                assert delegation.head.name not in {m.name for m in delegation.members}


_SET_GOLD = sorted(_GOLD.glob("*/*.json"))


@pytest.mark.parametrize("path", _SET_GOLD, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_gold_of_each_set_is_valid_exact_and_has_its_article(path: Path) -> None:
    article = _ROOT / "evals" / "articles" / path.parent.name / f"{path.stem}.txt"
    assert article.is_file(), f"{path}: no article {article}"
    gold = ArticleExtraction.model_validate(json.loads(path.read_text("utf-8")))
    assert _span_problems(gold, load_article(article).text) == []
    assert _name_policy_problems(gold, article) == []
