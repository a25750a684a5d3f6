"""Coreference metrics: textbook values, twinless mentions, gold as prediction, the seeds' gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_extract.coref import EventGold, b_cubed, ceaf_e, coref_scores, load_event_gold, muc
from llm_extract.errors import ConfigError
from llm_extract.score import load_gold

GOLD = Path(__file__).resolve().parent.parent / "evals" / "gold"
KEY = [{"a", "b", "c"}, {"d", "e"}, {"f"}]


def test_gold_as_prediction_scores_one_everywhere() -> None:
    for score in coref_scores(KEY, KEY).values():
        assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)
    gold = load_event_gold(GOLD, load_gold(GOLD))
    assert gold is not None
    for score in coref_scores(gold.clusters(), gold.clusters()).values():
        assert score.f1 == 1.0


def test_values_worked_by_hand() -> None:
    response = [{"a", "b"}, {"c", "d", "e"}, {"f"}]
    m = muc(KEY, response)  # key links 3, found 2; response links 3, right 2
    assert (m.precision, m.recall) == pytest.approx((2 / 3, 2 / 3))
    b = b_cubed(KEY, response)
    assert b.recall == pytest.approx((2 / 3 * 2 + 1 / 3 + 1 + 1 + 1) / 6)
    assert b.precision == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3 + 1) / 6)
    c = ceaf_e(KEY, response)  # abc~ab 0.8, de~cde 0.8, f~f 1
    assert (c.precision, c.recall) == pytest.approx((2.6 / 3, 2.6 / 3))


def test_everything_merged_or_split_is_penalised_where_each_metric_looks() -> None:
    merged = [set().union(*KEY)]
    split = [{m} for cluster in KEY for m in cluster]
    assert muc(KEY, merged).recall == 1.0 and muc(KEY, merged).precision < 1.0
    assert muc(KEY, split).f1 == 0.0
    assert b_cubed(KEY, split).precision == 1.0 and b_cubed(KEY, split).recall < 1.0
    assert ceaf_e(KEY, merged).precision < 0.7


def test_missed_and_invented_mentions_count_against_recall_and_precision() -> None:
    response = [{"a", "b", "c"}, {"d", "e"}, {"x"}]  # f missed, x invented
    b = b_cubed(KEY, response)
    assert b.recall == pytest.approx(5 / 6) and b.precision == pytest.approx(5 / 6)
    assert ceaf_e(KEY, response).recall == pytest.approx(2 / 3)


def test_a_mention_in_two_clusters_is_refused() -> None:
    with pytest.raises(ValueError, match="two clusters"):
        b_cubed(KEY, [{"a"}, {"a", "b"}])


def test_event_gold_must_place_every_gold_meeting_once(tmp_path: Path) -> None:
    gold = load_gold(GOLD)
    complete = load_event_gold(GOLD, gold)
    assert complete is not None
    short = EventGold(events=complete.events[1:])
    with pytest.raises(ConfigError, match="in no event"):
        short.check(gold, tmp_path / "events.json")
    twice = EventGold(events=[*complete.events, complete.events[0]])
    with pytest.raises(ConfigError, match="twice"):
        twice.check(gold, tmp_path / "events.json")
