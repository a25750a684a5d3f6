"""Scoring event resolution: MUC, B³ and CEAF-e over event clusters, against cross-article gold.

The three standard coreference metrics each see a different failure: MUC counts
links (and ignores singletons), B³ averages over mentions (a big wrong merge
hurts many mentions), CEAF-e aligns events one to one (a split event scores
once). Their mean F1 is the CoNLL score.

Predicted and gold clusterings may hold different mentions: a meeting the model
missed is absent from the prediction, one it invented is absent from the gold.
Such "twinless" mentions count against recall and precision respectively in all
three metrics; 0/0 (nothing to find and nothing found) is 1.

The seeds' gold (`evals/gold/events.json`) names gold meetings as
`<article id>#<index into that article's gold meetings>`. A predicted meeting
stands for the gold meeting it is aligned with by the record scorer
(`align_meetings`); an unaligned one is a spurious mention of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from llm_extract.errors import ConfigError
from llm_extract.events import mention_id, resolve_events
from llm_extract.schemas import ArticleExtraction, ExtractionResult
from llm_extract.score import EVENTS_GOLD_FILE, align_meetings

__all__ = [
    "EventGold",
    "EventScores",
    "GoldEvent",
    "Score",
    "b_cubed",
    "ceaf_e",
    "coref_scores",
    "load_event_gold",
    "muc",
    "score_events",
]

Clusters = Sequence[Collection[Hashable]]


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def to_dict(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 1.0


def _sets(clusters: Clusters) -> list[frozenset[Hashable]]:
    out = [frozenset(c) for c in clusters if c]
    seen: set[Hashable] = set()
    for cluster in out:
        if seen & cluster:
            raise ValueError(f"a mention is in two clusters: {sorted(map(str, seen & cluster))}")
        seen |= cluster
    return out


def _where(clusters: Sequence[frozenset[Hashable]]) -> dict[Hashable, int]:
    return {m: i for i, cluster in enumerate(clusters) for m in cluster}


def _muc_recall(
    key: Sequence[frozenset[Hashable]], response: Sequence[frozenset[Hashable]]
) -> float:
    where = _where(response)
    found = needed = 0
    for cluster in key:
        parts = {where.get(m, ("alone", m)) for m in cluster}
        found += len(cluster) - len(parts)
        needed += len(cluster) - 1
    return _ratio(found, needed)


def muc(key: Clusters, response: Clusters) -> Score:
    """Links kept (Vilain et al. 1995): recall over the key's links, precision over the response's."""
    k, r = _sets(key), _sets(response)
    return Score(precision=_muc_recall(r, k), recall=_muc_recall(k, r))


def _b3_recall(
    key: Sequence[frozenset[Hashable]], response: Sequence[frozenset[Hashable]]
) -> float:
    where = _where(response)
    total = sum(len(c) for c in key)
    credit = 0.0
    for cluster in key:
        for m in cluster:
            other = response[where[m]] if m in where else frozenset()
            credit += len(cluster & other) / len(cluster)
    return _ratio(credit, total)


def b_cubed(key: Clusters, response: Clusters) -> Score:
    """Per-mention overlap of its key and response clusters (Bagga and Baldwin 1998)."""
    k, r = _sets(key), _sets(response)
    return Score(precision=_b3_recall(r, k), recall=_b3_recall(k, r))


def ceaf_e(key: Clusters, response: Clusters) -> Score:
    """Best one-to-one alignment of events by φ4 = 2|K∩R| / (|K|+|R|) (Luo 2005).

    Only overlapping events can gain from being paired, so the assignment is
    solved per connected group of overlapping events, not on the full matrix.
    """
    from scipy.optimize import linear_sum_assignment

    k, r = _sets(key), _sets(response)
    where_r = _where(r)
    groups = _overlap_groups(k, r, where_r)
    similarity = 0.0
    for k_ids, r_ids in groups:
        matrix = [[2 * len(k[i] & r[j]) / (len(k[i]) + len(r[j])) for j in r_ids] for i in k_ids]
        rows, cols = linear_sum_assignment(matrix, maximize=True)
        similarity += sum(matrix[i][j] for i, j in zip(rows, cols, strict=True))
    return Score(precision=_ratio(similarity, len(r)), recall=_ratio(similarity, len(k)))


def _overlap_groups(
    key: Sequence[frozenset[Hashable]],
    response: Sequence[frozenset[Hashable]],
    where_r: Mapping[Hashable, int],
) -> list[tuple[list[int], list[int]]]:
    """Connected components of the key/response overlap graph, as index lists."""
    parent = list(range(len(key) + len(response)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, cluster in enumerate(key):
        for m in cluster:
            if m in where_r:
                a, b = find(i), find(len(key) + where_r[m])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for i in range(len(key)):
        groups[find(i)][0].append(i)
    for j in range(len(response)):
        groups[find(len(key) + j)][1].append(j)
    return [g for g in groups.values() if g[0] and g[1]]


def coref_scores(key: Clusters, response: Clusters) -> dict[str, Score]:
    """MUC, B³ and CEAF-e of `response` against `key`."""
    return {
        "muc": muc(key, response),
        "b3": b_cubed(key, response),
        "ceaf_e": ceaf_e(key, response),
    }


# --------------------------------------------------------------------------- the seeds' gold


class GoldEvent(BaseModel):
    id: str
    note: str | None = None
    mentions: list[str] = Field(
        min_length=1, description="`<article id>#<index into that article's gold meetings>`."
    )


class EventGold(BaseModel):
    """Which gold meetings are one real-world event: every gold meeting in exactly one event."""

    guideline: str | None = None
    events: list[GoldEvent]

    def clusters(self) -> list[set[str]]:
        return [set(e.mentions) for e in self.events]

    def check(self, gold: Mapping[str, ArticleExtraction], path: Path) -> None:
        listed = [m for e in self.events for m in e.mentions]
        meetings = {
            mention_id(article_id, i)
            for article_id, extraction in gold.items()
            for i in range(len(extraction.meetings))
        }
        twice = sorted({m for m in listed if listed.count(m) > 1})
        unknown = sorted(set(listed) - meetings)
        left_out = sorted(meetings - set(listed))
        for problem, ids in (
            ("twice", twice),
            ("not a gold meeting", unknown),
            ("in no event", left_out),
        ):
            if ids:
                raise ConfigError(f"{path}: {problem}: {', '.join(ids)}")


@dataclass
class EventScores:
    """A run's event resolution against the gold: the three metrics and their mean."""

    scores: dict[str, Score]
    gold_events: int
    predicted_events: int

    @property
    def conll_f1(self) -> float:
        return sum(s.f1 for s in self.scores.values()) / len(self.scores)

    def to_dict(self) -> dict[str, object]:
        return {
            **{name: score.to_dict() for name, score in self.scores.items()},
            "conll_f1": round(self.conll_f1, 4),
            "gold_events": self.gold_events,
            "predicted_events": self.predicted_events,
        }


def load_event_gold(folder: Path, gold: Mapping[str, ArticleExtraction]) -> EventGold | None:
    """`<folder>/events.json`, checked against the per-article gold; None when absent."""
    path = folder / EVENTS_GOLD_FILE
    if not path.is_file():
        return None
    try:
        events = EventGold.model_validate_json(path.read_text("utf-8"))
    except (ValidationError, ValueError) as err:
        raise ConfigError(f"{path}: not a valid event gold file: {err}") from None
    events.check(gold, path)
    return events


def score_events(
    results: Iterable[ExtractionResult],
    gold: Mapping[str, ArticleExtraction],
    events: EventGold,
) -> EventScores:
    """Resolve the run's results into events and score them against the gold's clusters.

    Only articles that have gold take part: a prediction for an article without gold
    cannot be told right or wrong.
    """
    scored = [r for r in results if r.article_id in gold]
    as_gold: dict[str, str] = {}
    for result in scored:
        if result.status != "ok" or result.extraction is None:
            continue
        pairs = align_meetings(gold[result.article_id].meetings, result.extraction.meetings)
        for g, p in pairs:
            as_gold[mention_id(result.article_id, p)] = mention_id(result.article_id, g)
    predicted = resolve_events(scored)
    response = [{as_gold.get(m.id, f"predicted:{m.id}") for m in e.mentions} for e in predicted]
    key = events.clusters()
    return EventScores(coref_scores(key, response), len(key), len(predicted))
