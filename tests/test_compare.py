"""Paired bootstrap tests: exact point deltas, reproducible intervals, article ranking."""

from __future__ import annotations

import pytest

from llm_extract.compare import MIN_ARTICLES, compare_scorecards
from llm_extract.errors import ConfigError
from llm_extract.schemas import (
    ArticleExtraction,
    Delegation,
    EventDate,
    Evidence,
    Meeting,
    Participant,
)
from llm_extract.score import Prediction, Scorecard, score_against_gold

TEXT = "Путин встретился с Уиткоффом 22 января. Дмитриев встретится с Уиткоффом в феврале."


def meeting(quote: str, head: str, start: str, status: str = "held") -> Meeting:
    return Meeting(
        status=status,
        date=EventDate(start=start),
        delegations=[
            Delegation(side="RU", head=Participant(name=head)),
            Delegation(side="US", head=Participant(name="Стив Уиткофф")),
        ],
        evidence=[Evidence(text=quote)],
    )


GOLD = ArticleExtraction(
    meetings=[
        meeting("Путин встретился с Уиткоффом 22 января.", "Владимир Путин", "2026-01-22"),
        meeting(
            "Дмитриев встретится с Уиткоффом в феврале.", "Кирилл Дмитриев", "2026-02", "planned"
        ),
    ]
)
IDS = [f"art{i:02}" for i in range(24)]


def card(predictions: dict[str, ArticleExtraction]) -> Scorecard:
    return score_against_gold(
        dict.fromkeys(IDS, GOLD),
        {k: Prediction(k, v) for k, v in predictions.items()},
        dict.fromkeys(IDS, TEXT),
    )


def perfect() -> Scorecard:
    return card(dict.fromkeys(IDS, GOLD))


def worse(dropped: list[str]) -> Scorecard:
    one = ArticleExtraction(meetings=GOLD.meetings[:1])
    return card({k: (one if k in dropped else GOLD) for k in IDS})


def test_identical_runs_differ_by_zero_with_a_zero_interval() -> None:
    result = compare_scorecards(perfect(), perfect(), samples=200)
    for metric in result.metrics:
        if metric.delta["f1"] is not None:
            assert metric.delta["f1"] == 0.0
            assert metric.ci95["f1"] == (0.0, 0.0)
            assert not metric.significant
    assert result.differing == []


def test_point_delta_is_exact_and_inside_its_interval() -> None:
    result = compare_scorecards(perfect(), worse(["art03"]), samples=500)
    record = next(m for m in result.metrics if m.key == "meetings.record")
    # B misses 1 of 48 gold meetings: recall 47/48, precision still 1.
    assert record.a["recall"] == 1.0
    assert record.b["recall"] == pytest.approx(47 / 48, abs=1e-4)
    assert record.delta["recall"] == pytest.approx(-1 / 48, abs=1e-4)
    assert record.delta["precision"] == 0.0
    low, high = record.ci95["recall"]
    assert low <= record.delta["recall"] <= high <= 0.0
    assert result.differing[0].article_id == "art03"
    assert result.differing[0].delta < 0
    assert any(f.startswith("meetings.record ") for f in result.differing[0].fields)


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    a, b = perfect(), worse(IDS[::3])
    first = compare_scorecards(a, b, samples=300, seed=7).to_dict()
    again = compare_scorecards(a, b, samples=300, seed=7).to_dict()
    assert first == again
    assert first["bootstrap"] == {"samples": 300, "seed": 7}
    # A third of 24 articles lose a meeting: consistently worse, so the interval excludes 0.
    assert first["meetings"]["record"]["significant"] is True
    assert first["meetings"]["record"]["delta"]["f1"] < 0
    assert first["warning"] is None


def test_too_few_articles_warn_and_call_nothing_significant() -> None:
    few = IDS[: MIN_ARTICLES - 1]
    a = Scorecard([s for s in perfect().articles if s.article_id in few])
    b = Scorecard([s for s in worse(IDS[::3]).articles if s.article_id in few])
    result = compare_scorecards(a, b, samples=300, seed=7)
    assert result.articles == MIN_ARTICLES - 1
    record = next(m for m in result.metrics if m.key == "meetings.record")
    assert record.delta["f1"] < 0 and record.ci95["f1"][1] < 0  # the interval alone would say so
    assert not any(m.significant for m in result.metrics)
    data = result.to_dict()
    assert "unreliable" in data["warning"] and "19 articles" in data["warning"]
    assert data["meetings"]["record"]["significant"] is False


def test_json_is_keyed_by_record_type_and_field() -> None:
    data = compare_scorecards(perfect(), worse(["art00"]), samples=100).to_dict()
    entry = data["meetings"]["status"]
    assert (
        set(entry["a"]) == set(entry["b"]) == set(entry["delta"]) == {"precision", "recall", "f1"}
    )
    assert data["all"]["micro"]["delta"]["f1"] < 0
    assert data["quotes"]["faithfulness"]["a"]["f1"] == 1.0


def test_runs_over_different_articles_are_compared_on_the_shared_ones() -> None:
    a = perfect()
    b = Scorecard([s for s in worse(["art00"]).articles if s.article_id != "art07"])
    result = compare_scorecards(a, b, samples=100)
    assert result.articles == 23
    assert result.warnings == ["art07: only in A; left out"]
    with pytest.raises(ConfigError, match="share no article"):
        compare_scorecards(a, Scorecard([]), samples=10)
