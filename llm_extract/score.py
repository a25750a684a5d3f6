"""Scoring extractions against the gold: align records, then count field by field.

Definitions (the README's "Scoring" section repeats them):

- Records are aligned one-to-one by optimal assignment (Hungarian) over a
  weighted similarity; a pair below the threshold is no match, so the gold
  record is *missed* and the prediction *spurious*.
  Meetings: participants (Jaccard over the people, over the sides when
  neither names anyone), date (graded), place, format. Positions: holder (the person when both name one, else the
  side; a position held by a side alone stands for a person's of that side only when the
  issues agree, at `text_threshold`) and issue (text).
  Weights of components empty on both sides are dropped and the rest rescaled.
- Each field of a matched pair is *correct*, *partial* (graded fields only),
  *wrong* (both have a value and they differ), *spurious* (only the prediction
  has one) or *missed* (only the gold has one). Fields of an unmatched gold
  record count as missed, of an unmatched prediction as spurious, so a failed
  article (no extraction) counts as all-missed. Precision = credit / predicted
  values, recall = credit / gold values, F1 = 2·credit / (predicted + gold);
  a metric with nothing to divide by is None.
- Lists (participants, delegation members, sides, topics, outcomes) are
  aligned item by item; each item is one value. People are scored at two
  levels: `participants` (the person is right) and `participants_role` (person
  and role right: both roles empty or similar text). The head of a delegation
  is its own slot, compared within delegations aligned by side. `role` scores
  each person's role once more as a slot of its own (over `participants`):
  similar text is correct, a role on one side only is missed or spurious, and
  two empty roles are not counted, so leaving roles out never scores.
- People match on the alias table's id when both have one (`person_id`, or found by
  the name or the English name), else through `normalise.person_key` (inflection and
  the surname), then through the English name; never by raw string equality. A
  delegation with an unknown (empty) side is unknown, not wrong: it is not a side
  value, and it pairs with the delegation it shares a person with. Outside the
  table the key is the surname, so given names or initials, when both carry
  one, must agree too (`normalise.given_name`).
- Dates are intervals (a month-precision date covers its month). Equal: 1;
  one inside the other: `CONTAINMENT_CREDIT` by the two precisions, since the
  date is consistent but at the wrong precision: a day and a month around it
  (either way round) 0.5, a month and its year 0.25, a day and its year 0.1, a
  day inside a multi-day range 0.5; other overlaps: days shared / days
  covered; disjoint: 0.
- Free text (topics, outcomes, issue, role, place, venue) is compared by
  `text_similarity` and counts as the same at `text_threshold` or above. In a role,
  each country or body the alias table's `sides` lists, in any case form, is its code
  first (`normalise.with_side_codes`): «президент США» is «Президент Соединенных Штатов
  Америки», and two roles naming different countries are different roles.
- Status, format, stance and speech also get accuracy and a confusion matrix
  over matched pairs.
- Quotes: a predicted quote is *faithful* when it stands verbatim in the
  article (exact, or up to white space, quote marks and ё/е): its offsets hold
  and grounding did not find it only fuzzily, or grounding finds it now exactly
  or normalised. A fuzzy match is never faithful. Overlap with the gold is
  measured in characters over matched pairs: the union of the faithful
  predicted evidence spans against the union of the gold ones.
- Micro totals sum every value field once: people enter through
  `participants` (and `role`), not again through `head` and `members`; record
  counts, character overlaps and the `_role` levels stay out.
- Records, three ways: `record` counts an aligned pair as found (detection);
  `record_strict` only when every identifying part is right (participants
  the same people, the same date interval, place, format and status; holder,
  issue and stance), so a planned meeting marked held is found, not strictly right;
  `record_soft` is CEAF-style: an aligned pair counts its similarity, so
  precision = summed similarity / predicted, recall = summed similarity / gold.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError
from rapidfuzz import fuzz

from llm_extract.aliases import derived, fold
from llm_extract.errors import ConfigError
from llm_extract.ground import ground_quote, iter_evidence
from llm_extract.normalise import given_name, person_entry, person_key, with_side_codes
from llm_extract.results import iter_results
from llm_extract.schemas import (
    ArticleExtraction,
    Delegation,
    EventDate,
    Evidence,
    ExtractionResult,
    MatchKind,
    Meeting,
    Participant,
    Position,
    Precision,
)

__all__ = [
    "CONTAINMENT_CREDIT",
    "EVENTS_GOLD_FILE",
    "RECORD_TYPES",
    "Alignment",
    "ArticleScore",
    "Counts",
    "FieldError",
    "Prediction",
    "RecordView",
    "ScoreConfig",
    "Scorecard",
    "align_meetings",
    "date_credit",
    "gold_digest",
    "gold_files",
    "load_gold",
    "load_predictions",
    "same_person",
    "score_against_gold",
    "score_article",
    "text_similarity",
]

RECORD_TYPES = ("meetings", "positions")
EVENTS_GOLD_FILE = "events.json"
"""The cross-article gold beside the per-article files (`coref.py` reads it), not an article."""
_CATEGORICAL = {"meetings": ("status", "format"), "positions": ("stance", "speech")}
_FAITHFUL = frozenset({MatchKind.EXACT, MatchKind.NORMALISED})
_NONE = "—"
T = TypeVar("T")

_DAY, _MONTH, _YEAR = Precision.DAY, Precision.MONTH, Precision.YEAR
CONTAINMENT_CREDIT: Mapping[tuple[Precision, Precision], float] = MappingProxyType(
    {
        (_DAY, _DAY): 0.5,  # a day of a multi-day meeting, or days around the day
        (_MONTH, _DAY): 0.5,  # a day inside a month, or the month around a day
        (_MONTH, _MONTH): 0.5,  # a month of a range of months
        (_YEAR, _MONTH): 0.25,  # a month inside a year, or the year around a month
        (_YEAR, _DAY): 0.1,  # a day inside a year, or the year around a day
        (_YEAR, _YEAR): 0.5,
    }
)
"""Credit when one date interval lies inside the other, keyed (coarser precision, finer
precision) of the two dates: the date is consistent, and the coarser the one around
the other, the less it says. Overlap (days shared / days covered) wins when higher."""


@dataclass(frozen=True)
class ScoreConfig:
    """Weights and thresholds; the defaults are the ones the README documents."""

    meeting_weights: tuple[tuple[str, float], ...] = (
        ("participants", 0.4),
        ("date", 0.25),
        ("place", 0.2),
        ("format", 0.15),
    )
    meeting_threshold: float = 0.4
    position_weights: tuple[tuple[str, float], ...] = (("holder", 0.4), ("issue", 0.6))
    position_threshold: float = 0.5
    text_threshold: float = 0.7
    containment_credit: Mapping[tuple[Precision, Precision], float] = field(
        default_factory=lambda: CONTAINMENT_CREDIT
    )
    quote_threshold: float = 0.5
    """A predicted `Position.quote` is correct when its character F1 with the gold reaches this."""


# --------------------------------------------------------------------------- counts


@dataclass
class Counts:
    """Outcomes of one field (or of records, or characters): credit over predicted and gold."""

    correct: int = 0
    partial: int = 0
    wrong: int = 0
    spurious: int = 0
    missed: int = 0
    credit: float = 0.0
    predicted: float = 0.0
    gold: float = 0.0

    def pair(self, credit: float) -> None:
        """Both sides have a value; `credit` in [0, 1] says how right the prediction is."""
        if credit >= 1.0:
            self.correct += 1
        elif credit > 0.0:
            self.partial += 1
        else:
            self.wrong += 1
        self.credit += credit
        self.predicted += 1
        self.gold += 1

    def extra(self, n: int = 1) -> None:
        self.spurious += n
        self.predicted += n

    def lack(self, n: int = 1) -> None:
        self.missed += n
        self.gold += n

    def __add__(self, other: Counts) -> Counts:
        """Field by field, spelt out: summing a run's counts adds thousands of these, and
        going through `dataclasses.fields` made that most of the time a report took."""
        return Counts(
            self.correct + other.correct,
            self.partial + other.partial,
            self.wrong + other.wrong,
            self.spurious + other.spurious,
            self.missed + other.missed,
            self.credit + other.credit,
            self.predicted + other.predicted,
            self.gold + other.gold,
        )

    @property
    def precision(self) -> float | None:
        return self.credit / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.credit / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        total = self.predicted + self.gold
        return 2 * self.credit / total if total else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
            "correct": self.correct,
            "partial": self.partial,
            "wrong": self.wrong,
            "spurious": self.spurious,
            "missed": self.missed,
            "credit": _round(self.credit),
            "predicted": _round(self.predicted),
            "gold": _round(self.gold),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# --------------------------------------------------------------------------- similarity


_WORD = re.compile(r"[^\W\d_]+|\d+")
_STOP = frozenset(
    {
        "в", "во", "на", "и", "по", "о", "об", "с", "со", "к", "ко", "у", "между", "для",
        "за", "из", "от", "до", "при", "а", "но", "или", "что", "как",
        "the", "of", "and", "in", "on", "at", "to", "for", "with", "a", "an",
    }
)  # fmt: skip
_STEM = 5
"""Letters kept per word: absorbs Russian inflection and noun/adjective pairs (Украина, украинский)."""


@lru_cache(maxsize=8192)
def _stems(text: str) -> str:
    words = (w for w in _WORD.findall(fold(text)) if len(w) > 1 and w not in _STOP)
    return " ".join(w[:_STEM] for w in words)


def text_similarity(a: str, b: str) -> float:
    """Similarity of two short phrases in [0, 1], robust to inflection and word order.

    Words are folded (case, ё), stop words dropped and each cut to its first
    five letters; the score is the mean of rapidfuzz's token-set and
    token-sort ratios, so a phrase contained in a longer one still scores high
    but not perfect.
    """
    sa, sb = _stems(a), _stems(b)
    if not sa or not sb:
        return float(fold(a) == fold(b))
    return (fuzz.token_set_ratio(sa, sb) + fuzz.token_sort_ratio(sa, sb)) / 200


@derived  # cleared with the alias table (`use_aliases`)
def _key(name: str) -> str:
    return person_key(name)


@derived  # cleared with the alias table (`use_aliases`)
def _given(name: str) -> str | None:
    return given_name(name)


def _same_name(a: str, b: str) -> bool:
    """The same surname key and, when both carry a given name or an initial, agreeing ones."""
    if _key(a) != _key(b):
        return False
    ga, gb = _given(a), _given(b)
    if ga is None or gb is None:
        return True
    return ga[0] == gb[0] if min(len(ga), len(gb)) == 1 else ga == gb


def same_person(a: Participant, b: Participant) -> bool:
    """One person under any spelling, case or alias: the alias table's ids decide when both
    have one (recorded, or found by the name or the English name); else the names, then the
    English names.

    Outside the alias table a shared surname is not enough when both give a first
    name or an initial: «Иван Иванов» is not «Пётр Иванов», «С. Рябков» is «Сергей Рябков».
    """
    ida, idb = _person_id(a), _person_id(b)
    if ida is not None and idb is not None:
        return ida == idb
    if _same_name(a.name, b.name):
        return True
    return bool(a.name_en and b.name_en and _same_name(a.name_en, b.name_en))


def _person_id(person: Participant) -> str | None:
    """The alias table's id: as recorded, else found by the name or the English name."""
    if person.person_id is not None:
        return person.person_id
    return _table_id(person.name, person.name_en)


@derived  # cleared with the alias table (`use_aliases`)
def _table_id(name: str, name_en: str | None) -> str | None:
    entry = person_entry(name, name_en)
    return entry.id if entry is not None else None


def _same_role(gold: Participant, pred: Participant, threshold: float) -> bool:
    if gold.role is None or pred.role is None:
        return gold.role is None and pred.role is None
    return _role_similarity(gold.role, pred.role) >= threshold


def _role_similarity(a: str, b: str) -> float:
    """`text_similarity` of two titles with every country named by its code: «президент США»
    and «Президент Соединенных Штатов Америки» are one title as the article states it (§7).
    Titles of different countries are different titles, however alike the rest: «президент
    США» is not «президент России» (the text alone scores them 0.71)."""
    (text_a, codes_a), (text_b, codes_b) = with_side_codes(a), with_side_codes(b)
    if codes_a and codes_b and codes_a.isdisjoint(codes_b):
        return 0.0
    return text_similarity(text_a, text_b)


def date_bounds(date: EventDate) -> tuple[dt.date, dt.date]:
    """First and last day a date can mean: 2026-01 is 1 to 31 January (scoring and events)."""
    return _first_day(date.start), _last_day(date.end or date.start)


def _first_day(iso: str) -> dt.date:
    parts = [int(p) for p in iso.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _last_day(iso: str) -> dt.date:
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    month = parts[1] if len(parts) > 1 else 12
    return dt.date(parts[0], month, calendar.monthrange(parts[0], month)[1])


def date_credit(
    gold: EventDate,
    pred: EventDate,
    *,
    containment: Mapping[tuple[Precision, Precision], float] = CONTAINMENT_CREDIT,
) -> float:
    """1 for the same interval; when one lies inside the other, `containment` for the two
    precisions (coarser, finer); else days shared / days covered (and at least that)."""
    g0, g1 = date_bounds(gold)
    p0, p1 = date_bounds(pred)
    if (g0, g1) == (p0, p1):
        return 1.0
    shared = (min(g1, p1) - max(g0, p0)).days + 1
    if shared <= 0:
        return 0.0
    covered = (max(g1, p1) - min(g0, p0)).days + 1
    inside = (g0 <= p0 and p1 <= g1) or (p0 <= g0 and g1 <= p1)
    coarse, fine = sorted((gold.precision, pred.precision), key=_ORDER_OF_PRECISION.index)
    return max(shared / covered, containment.get((coarse, fine), 0.0) if inside else 0.0)


_ORDER_OF_PRECISION = (_YEAR, _MONTH, _DAY)


# --------------------------------------------------------------------------- alignment


def _align(
    gold: Sequence[T],
    pred: Sequence[T],
    similarity: Callable[[T, T], float],
    threshold: float,
) -> tuple[list[tuple[int, int, float]], list[int], list[int]]:
    """Optimal one-to-one pairs at or above `threshold`; then unmatched gold and predicted indices.

    When no two candidate pairs (at or above a positive threshold) share a record, every
    optimal assignment holds them all, and they are the answer without the solver: the
    common case, which the solver's set-up would cost more than the scoring around it.
    """
    pairs: list[tuple[int, int, float]] = []
    if gold and pred:
        sim = [[float(similarity(g, p)) for p in pred] for g in gold]
        pairs = [
            (i, j, value)
            for i, row in enumerate(sim)
            for j, value in enumerate(row)
            if value >= threshold
        ]
        rows_used, cols_used = {i for i, _, _ in pairs}, {j for _, j, _ in pairs}
        if threshold <= 0 or len(rows_used) < len(pairs) or len(cols_used) < len(pairs):
            pairs = _assign(np.array(sim, dtype=float), threshold)
    paired_g = {i for i, _, _ in pairs}
    paired_p = {j for _, j, _ in pairs}
    return (
        pairs,
        [i for i in range(len(gold)) if i not in paired_g],
        [j for j in range(len(pred)) if j not in paired_p],
    )


def _assign(sim: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """The optimal assignment over a similarity matrix, pairs below `threshold` dropped."""
    from scipy.optimize import linear_sum_assignment  # 0.7 s to import: only when scoring

    # Pairs below the threshold are no match, so they must not steer the assignment.
    rows, cols = linear_sum_assignment(np.where(sim >= threshold, sim, 0.0), maximize=True)
    pairs = [(int(i), int(j), float(sim[i, j])) for i, j in zip(rows, cols, strict=True)]
    return [p for p in pairs if p[2] >= threshold]


def _weighted(parts: Mapping[str, float | None], weights: Iterable[tuple[str, float]]) -> float:
    """Weighted mean over the components that apply (None: empty on both sides)."""
    total = score = 0.0
    for name, weight in weights:
        value = parts[name]
        if value is not None:
            total += weight
            score += weight * value
    return score / total if total else 0.0


def _people(meeting: Meeting) -> list[Participant]:
    people: list[Participant] = []
    for delegation in meeting.delegations:
        for person in ([delegation.head] if delegation.head else []) + delegation.members:
            if not any(same_person(person, seen) for seen in people):
                people.append(person)
    return people


def _optional(gold: T | None, pred: T | None, compare: Callable[[T, T], float]) -> float | None:
    if gold is None and pred is None:
        return None
    if gold is None or pred is None:
        return 0.0
    return compare(gold, pred)


def _meeting_parts(
    gold: Meeting, pred: Meeting, people: Callable[[Meeting], list[Participant]] = _people
) -> dict[str, float | None]:
    """The alignment's components; `people` lists a meeting's people (`_people`, or a
    scorer's copy of it that lists each meeting once, not once per pair)."""
    g_people, p_people = people(gold), people(pred)
    if g_people or p_people:
        shared = len(_align(g_people, p_people, _person_credit, 1.0)[0])
        participants = shared / (len(g_people) + len(p_people) - shared)
    else:  # nobody named: the sides are all there is (and nearly every meeting is RU-US)
        g_sides = {d.side for d in gold.delegations if d.side is not None}
        p_sides = {d.side for d in pred.delegations if d.side is not None}
        union = g_sides | p_sides
        participants = len(g_sides & p_sides) / len(union) if union else None
    return {
        "participants": participants,
        "date": _optional(gold.date, pred.date, date_credit),
        "place": _optional(_place(gold), _place(pred), text_similarity),
        "format": _optional(gold.format, pred.format, _eq),
    }


def _place(meeting: Meeting) -> str | None:
    return meeting.location.place if meeting.location else None


def _position_parts(
    gold: Position, pred: Position, *, text_threshold: float
) -> dict[str, float | None]:
    """Holder: the person when both name one, else the side they speak for; and the issue.

    A position held by a side alone (GUIDELINES §10: «Кремль скептически оценивает») stands
    for a named person of that side only on the same issue (`text_threshold`): else the
    side would pair it with any of its people's positions, whatever they are about.
    """
    issue = text_similarity(gold.issue, pred.issue)
    if gold.holder is not None and pred.holder is not None:
        holder: float | None = _person_credit(gold.holder, pred.holder)
    elif (gold.holder is None) != (pred.holder is None) and issue < text_threshold:
        holder = 0.0
    else:
        holder = _optional(gold.side, pred.side, _eq)
    return {"holder": holder, "issue": issue}


_TEXT_PARTS = frozenset({"place", "issue"})
_STRICT_LABEL = {"meetings": "status", "positions": "stance"}
"""Not part of the alignment (a planned meeting marked held is still that meeting), but
part of being strictly right."""


def _exact(parts: Mapping[str, float | None], config: ScoreConfig) -> bool:
    """Every identifying part right: free text at the text threshold, the rest in full."""
    return all(
        value is None or value >= (config.text_threshold if name in _TEXT_PARTS else 1.0)
        for name, value in parts.items()
    )


def align_meetings(
    gold: Sequence[Meeting], pred: Sequence[Meeting], config: ScoreConfig | None = None
) -> list[tuple[int, int]]:
    """(gold index, predicted index) of the meetings the scorer pairs, the same pairing it scores."""
    config = config or ScoreConfig()
    pairs, _, _ = _align(
        gold,
        pred,
        lambda g, p: _weighted(_meeting_parts(g, p), config.meeting_weights),
        config.meeting_threshold,
    )
    return [(i, j) for i, j, _ in pairs]


# --------------------------------------------------------------------------- per article


@dataclass
class Prediction:
    """What a model produced for one article, reduced to what scoring needs."""

    article_id: str
    extraction: ArticleExtraction | None
    parsed: bool = True
    valid: bool = True
    reasks: int = 0
    error: str | None = None
    result: ExtractionResult | None = None
    """The stored result it came from, when it came from one (a bare extraction has none)."""

    @classmethod
    def from_result(cls, result: ExtractionResult) -> Prediction:
        return cls(
            article_id=result.article_id,
            extraction=result.extraction if result.status == "ok" else None,
            parsed=result.status == "ok" or _parsed(result),
            valid=result.status == "ok",
            reasks=result.reasks,
            error=result.error,
            result=result,
        )

    @classmethod
    def missing(cls, article_id: str, why: str) -> Prediction:
        return cls(article_id, None, parsed=False, valid=False, error=why)


def _parsed(result: ExtractionResult) -> bool:
    """Whether a failed answer was at least JSON: it failed the schema, not the parser."""
    return result.failure == "schema"


@dataclass
class RecordView:
    """A record shown in reports: one line of what it says and its evidence."""

    record_type: str
    summary: str
    evidence: list[str]


@dataclass
class FieldError:
    """A field of a matched pair that is not fully right."""

    record_type: str
    field: str
    kind: str
    gold: str
    predicted: str
    record: str
    pair: tuple[int, int] | None = None
    """Indices of the gold and the predicted record in their article's lists."""


@dataclass
class Alignment:
    """How the scorer paired one record type's gold and predicted records, by index:
    what a reviewer needs to point at the very records that matched, were missed or invented."""

    pairs: list[tuple[int, int, float]] = field(default_factory=list)
    """(gold index, predicted index, similarity) of each aligned pair."""
    missed: list[int] = field(default_factory=list)
    spurious: list[int] = field(default_factory=list)


@dataclass
class ArticleScore:
    article_id: str
    prediction: Prediction
    counts: dict[str, Counts] = field(default_factory=dict)
    confusion: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    faithful: int = 0
    quotes: int = 0
    missed: list[RecordView] = field(default_factory=list)
    spurious: list[RecordView] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    unfaithful: list[str] = field(default_factory=list)
    alignment: dict[str, Alignment] = field(default_factory=dict)

    def count(self, key: str) -> Counts:
        """The counts of `key`, made on first use (not a new `Counts` per call to throw away)."""
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = Counts()
        return counts


class _Scorer:
    """Fills one ArticleScore; a class only to share the article text and config."""

    def __init__(self, out: ArticleScore, text: str | None, config: ScoreConfig) -> None:
        self.out = out
        self.article = text
        self.config = config
        self._pair: tuple[int, int] | None = None
        self._spans: dict[int, tuple[int, int] | None] = {}
        """`span` by the evidence's id: overlap and faithfulness ask for the same quotes."""
        self._cast: dict[int, list[Participant]] = {}
        """`_people` by the meeting's id: every pair the alignment weighs asks again."""

    def cast(self, meeting: Meeting) -> list[Participant]:
        """A meeting's people (`_people`), listed once per scoring."""
        if id(meeting) not in self._cast:
            self._cast[id(meeting)] = _people(meeting)
        return self._cast[id(meeting)]

    # -- helpers over values ------------------------------------------------

    def note(self, key: str, kind: str, gold: str, pred: str, record: str) -> None:
        """List a field error for the report: `key` is `record type.field`."""
        rtype, name = key.split(".", 1)
        self.out.errors.append(FieldError(rtype, name, kind, gold, pred, record, self._pair))

    def slot(
        self,
        key: str,
        gold: T | None,
        pred: T | None,
        credit: Callable[[T, T], float],
        show: Callable[[T], str] = str,
        record: str = "",
    ) -> None:
        counts = self.out.count(key)
        if gold is None and pred is None:
            return
        if pred is None:
            counts.lack()
            kind = "missed"
        elif gold is None:
            counts.extra()
            kind = "spurious"
        else:
            value = credit(gold, pred)
            counts.pair(value)
            if value >= 1.0:
                return
            kind = "partial" if value > 0 else "wrong"
        shown = (_NONE if v is None else show(v) for v in (gold, pred))
        self.note(key, kind, *shown, record)

    def items(
        self,
        key: str,
        gold: Sequence[T],
        pred: Sequence[T],
        same: Callable[[T, T], float],
        show: Callable[[T], str],
        record: str,
        second: tuple[str, Callable[[T, T], bool]] | None = None,
    ) -> tuple[list[tuple[int, int, float]], list[int], list[int]]:
        """Score a list by inner alignment; `second` adds a stricter level on the aligned items.

        Returns the alignment: pairs, then unmatched gold and predicted indices.
        """
        pairs, missed, spurious = _align(gold, pred, same, self.config.text_threshold)
        levels = [(key, lambda g, p: True)] + ([second] if second else [])
        for level_key, right in levels:
            counts = self.out.count(level_key)
            for i, j, _ in pairs:
                counts.pair(float(right(gold[i], pred[j])))
            counts.lack(len(missed))
            counts.extra(len(spurious))
        for i in missed:
            self.note(key, "missed", show(gold[i]), _NONE, record)
        for j in spurious:
            self.note(key, "spurious", _NONE, show(pred[j]), record)
        if second:
            for i, j, _ in pairs:
                if not second[1](gold[i], pred[j]):
                    self.note(second[0], "wrong", show(gold[i]), show(pred[j]), record)
        return pairs, missed, spurious

    def label(self, key: str, gold: str | None, pred: str | None, record: str) -> None:
        self.out.confusion.setdefault(key, Counter())[(gold or _NONE, pred or _NONE)] += 1
        self.slot(key, gold, pred, lambda g, p: float(g == p), record=record)

    def text(self, key: str, gold: str | None, pred: str | None, record: str) -> None:
        self.slot(key, gold, pred, self._text_credit, record=record)

    def _text_credit(self, gold: str, pred: str) -> float:
        return float(text_similarity(gold, pred) >= self.config.text_threshold)

    # -- spans --------------------------------------------------------------

    def span(self, evidence: Evidence) -> tuple[int, int] | None:
        """Where the quote stands in the article, when it is there verbatim.

        Offsets that hold count unless grounding found them only fuzzily: the
        evidence then carries the article's words, not the model's.
        """
        if id(evidence) not in self._spans:
            self._spans[id(evidence)] = self._find(evidence)
        return self._spans[id(evidence)]

    def _find(self, evidence: Evidence) -> tuple[int, int] | None:
        assert self.article is not None
        start, end = evidence.start, evidence.end
        if start is not None and end is not None and self.article[start:end] == evidence.text:
            return None if evidence.match == MatchKind.FUZZY else (start, end)
        found = ground_quote(evidence.text, self.article)
        if found.start is None or found.end is None or found.match not in _FAITHFUL:
            return None
        return found.start, found.end

    def faithfulness(self, extraction: ArticleExtraction) -> None:
        for _path, quote in iter_evidence(extraction):
            self.out.quotes += 1
            if self.span(quote) is not None:
                self.out.faithful += 1
            else:
                self.out.unfaithful.append(quote.text)

    def overlap(self, key: str, gold: Sequence[Evidence], pred: Sequence[Evidence]) -> float:
        """Characters shared by the two unions of spans; adds them to `key` and returns the F1."""
        g = _union(s for s in map(self.span, gold) if s)
        p = _union(s for s in map(self.span, pred) if s)
        g_chars, p_chars, shared = _length(g), _length(p), _shared(g, p)
        counts = self.out.count(key)
        counts.credit += shared
        counts.gold += g_chars
        counts.predicted += p_chars
        return 2 * shared / (g_chars + p_chars) if g_chars or p_chars else 1.0

    # -- records ------------------------------------------------------------

    def records(self, rtype: str, gold: Sequence[Any], pred: Sequence[Any]) -> None:
        """Align, then count records three ways (found, exactly right, by similarity)."""
        config = self.config
        parts_of: Callable[[Any, Any], dict[str, float | None]]
        if rtype == "meetings":
            parts_of = partial(_meeting_parts, people=self.cast)
            weights, threshold = config.meeting_weights, config.meeting_threshold
            compare = self.meeting
        else:
            parts_of = partial(_position_parts, text_threshold=config.text_threshold)
            weights = config.position_weights
            threshold, compare = config.position_threshold, self.position
        # Each pair's parts once: the alignment weighs them, the strict count reads them.
        parts = [[parts_of(g, p) for p in pred] for g in gold]
        pairs, missed, spurious = _align(
            range(len(gold)),
            range(len(pred)),
            lambda i, j: _weighted(parts[i][j], weights),
            threshold,
        )
        self.out.alignment[rtype] = Alignment(pairs, missed, spurious)
        found, strict, soft = (
            self.out.count(f"{rtype}.{name}") for name in ("record", "record_strict", "record_soft")
        )
        for i, j, sim in pairs:
            found.pair(1.0)
            label = _STRICT_LABEL[rtype]
            same_label = getattr(gold[i], label) == getattr(pred[j], label)
            strict.pair(float(same_label and _exact(parts[i][j], config)))
            soft.pair(sim)
            self._pair = (i, j)
            compare(gold[i], pred[j])
        self._pair = None
        for counts in (found, strict, soft):
            counts.lack(len(missed))
            counts.extra(len(spurious))
        for i in missed:
            self.out.missed.append(_view(gold[i]))
            for key, n in _values(rtype, gold[i]).items():
                self.out.count(key).lack(n)
        for j in spurious:
            self.out.spurious.append(_view(pred[j]))
            for key, n in _values(rtype, pred[j]).items():
                self.out.count(key).extra(n)

    def meeting(self, gold: Meeting, pred: Meeting) -> None:
        record = _summary(gold)
        self.label("meetings.status", gold.status, pred.status, record)
        self.label("meetings.format", gold.format, pred.format, record)
        self.slot(
            "meetings.date",
            gold.date,
            pred.date,
            lambda g, p: date_credit(g, p, containment=self.config.containment_credit),
            _show_date,
            record,
        )
        gl, pl = gold.location, pred.location
        self.text("meetings.place", gl and gl.place, pl and pl.place, record)
        self.slot("meetings.country", gl and gl.country, pl and pl.country, _eq, record=record)
        self.text("meetings.venue", gl and gl.venue, pl and pl.venue, record)
        g_people, p_people = self.cast(gold), self.cast(pred)
        pairs, missed, spurious = self.people("meetings.participants", g_people, p_people, record)
        self.roles(g_people, p_people, (pairs, missed, spurious), record)
        self.delegations(gold, pred, record)
        for name in ("topics", "outcomes"):
            self.items(
                f"meetings.{name}",
                getattr(gold, name),
                getattr(pred, name),
                text_similarity,
                str,
                record,
            )
        if self.article is not None:
            self.overlap("meetings.evidence_overlap", gold.evidence, pred.evidence)

    def people(
        self, key: str, gold: Sequence[Participant], pred: Sequence[Participant], record: str
    ) -> tuple[list[tuple[int, int, float]], list[int], list[int]]:
        threshold = self.config.text_threshold
        return self.items(
            key,
            gold,
            pred,
            _person_credit,
            _show_person,
            record,
            second=(f"{key}_role", lambda g, p: _same_role(g, p, threshold)),
        )

    def roles(
        self,
        gold: Sequence[Participant],
        pred: Sequence[Participant],
        alignment: tuple[list[tuple[int, int, float]], list[int], list[int]],
        record: str,
    ) -> None:
        """Roles as a slot of their own, once per person: a role only one side gives is
        missed or spurious, and two empty roles count for nothing (the `_role` levels
        count them right, so a model that never gives a role still scores there)."""
        pairs, missed, spurious = alignment
        threshold = self.config.text_threshold
        for i, j, _ in pairs:
            self.slot(
                "meetings.role",
                gold[i].role,
                pred[j].role,
                lambda g, p: float(_role_similarity(g, p) >= threshold),
                record=record,
            )
        counts = self.out.count("meetings.role")
        counts.lack(sum(gold[i].role is not None for i in missed))
        counts.extra(sum(pred[j].role is not None for j in spurious))

    def delegations(self, gold: Meeting, pred: Meeting, record: str) -> None:
        """Sides as a list; then per side the head slot (two levels) and the members list."""
        g, p = gold.delegations, pred.delegations
        pairs, missed, spurious = _align(g, p, _side_credit, 0.5)
        known_g, known_p = [d.side for d in g if d.side], [d.side for d in p if d.side]
        self.items("meetings.sides", known_g, known_p, _eq, str, record)
        sides = [(g[i], p[j]) for i, j, _ in pairs]
        sides += [(g[i], None) for i in missed] + [(None, p[j]) for j in spurious]
        threshold = self.config.text_threshold
        for gd, pd in sides:
            g_head, p_head = gd.head if gd else None, pd.head if pd else None
            self.slot("meetings.head", g_head, p_head, _person_credit, _show_person, record)
            self.slot(
                "meetings.head_role",
                g_head,
                p_head,
                lambda a, b: float(same_person(a, b) and _same_role(a, b, threshold)),
                _show_person,
                record,
            )
            self.people(
                "meetings.members", gd.members if gd else [], pd.members if pd else [], record
            )

    def position(self, gold: Position, pred: Position) -> None:
        record = _summary(gold)
        self.slot(
            "positions.holder", gold.holder, pred.holder, _person_credit, _show_person, record
        )
        self.slot("positions.side", gold.side, pred.side, _eq, record=record)
        self.text("positions.issue", gold.issue, pred.issue, record)
        self.label("positions.stance", gold.stance, pred.stance, record)
        self.label("positions.speech", gold.speech, pred.speech, record)
        if self.article is not None:
            self.overlap("positions.evidence_overlap", gold.evidence, pred.evidence)
        if gold.quote is None and pred.quote is None:
            return
        agree = 0.0  # how far the two quotes agree, when both are there
        if self.article is not None:
            agree = self.overlap(
                "positions.quote_overlap", _listed(gold.quote), _listed(pred.quote)
            )
        elif gold.quote is not None and pred.quote is not None:  # no text: compare the words
            agree = fuzz.ratio(fold(gold.quote.text), fold(pred.quote.text)) / 100
        quote_credit = float(agree >= self.config.quote_threshold)
        self.slot(
            "positions.quote", gold.quote, pred.quote, lambda g, p: quote_credit, _quote, record
        )


def _values(rtype: str, record: Any) -> dict[str, int]:
    """How many values each field of a record holds: what an unmatched record misses or invents."""
    if rtype == "positions":
        position: Position = record
        return {
            "positions.holder": position.holder is not None,
            "positions.side": position.side is not None,
            "positions.issue": 1,
            "positions.stance": 1,
            "positions.speech": 1,
            "positions.quote": position.quote is not None,
        }
    meeting: Meeting = record
    where = meeting.location
    people = len(_people(meeting))
    heads = sum(d.head is not None for d in meeting.delegations)
    members = sum(len(d.members) for d in meeting.delegations)
    return {
        "meetings.status": 1,
        "meetings.format": meeting.format is not None,
        "meetings.date": meeting.date is not None,
        "meetings.place": bool(where and where.place),
        "meetings.country": bool(where and where.country),
        "meetings.venue": bool(where and where.venue),
        "meetings.sides": sum(d.side is not None for d in meeting.delegations),
        "meetings.head": heads,
        "meetings.head_role": heads,
        "meetings.participants": people,
        "meetings.participants_role": people,
        "meetings.role": sum(p.role is not None for p in _people(meeting)),
        "meetings.members": members,
        "meetings.members_role": members,
        "meetings.topics": len(meeting.topics),
        "meetings.outcomes": len(meeting.outcomes),
    }


def _eq(gold: object, pred: object) -> float:
    return float(gold == pred)


def _side_credit(gold: Delegation, pred: Delegation) -> float:
    """Delegations pair by side; an unknown side (empty) pairs, at half weight, with the
    delegation it shares a person with: unknown is not wrong."""
    if gold.side is not None and pred.side is not None:
        return float(gold.side == pred.side)
    people = [(a, b) for a in _members(gold) for b in _members(pred)]
    return 0.5 if any(same_person(a, b) for a, b in people) else 0.0


def _members(delegation: Delegation) -> list[Participant]:
    return ([delegation.head] if delegation.head else []) + delegation.members


def _person_credit(gold: Participant, pred: Participant) -> float:
    return float(same_person(gold, pred))


def _listed(evidence: Evidence | None) -> list[Evidence]:
    return [evidence] if evidence is not None else []


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The characters the spans cover, as sorted disjoint intervals: counting them as
    intervals, not as a set of every character's offset, costs per span, not per character."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _length(intervals: Sequence[tuple[int, int]]) -> int:
    return sum(end - start for start, end in intervals)


def _shared(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> int:
    """Characters in both of two `_union`s, walking them side by side."""
    shared = i = j = 0
    while i < len(a) and j < len(b):
        shared += max(0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return shared


def _show_person(person: Participant) -> str:
    return f"{person.name} ({person.role})" if person.role else person.name


def _show_date(date: EventDate) -> str:
    return f"{date.start}..{date.end}" if date.end else date.start


def _quote(evidence: Evidence) -> str:
    return evidence.text


def _summary(record: Meeting | Position) -> str:
    if isinstance(record, Meeting):
        where = record.location.place if record.location and record.location.place else None
        people = ", ".join(p.name for p in _people(record))
        sides = "/".join(d.side or d.side_name or "?" for d in record.delegations)
        bits = [record.status, record.format, record.date and _show_date(record.date), where]
        bits += [sides or None, people or None]
        return " · ".join(str(b) for b in bits if b)
    holder = record.holder.name if record.holder else record.side
    return f"{holder}: {record.stance} — {record.issue}"


def _view(record: Meeting | Position) -> RecordView:
    rtype = "meetings" if isinstance(record, Meeting) else "positions"
    return RecordView(rtype, _summary(record), [e.text for e in record.evidence])


def score_article(
    gold: ArticleExtraction,
    prediction: Prediction,
    text: str | None = None,
    config: ScoreConfig | None = None,
) -> ArticleScore:
    """Score one article; without `text` the quote measures are left out."""
    out = ArticleScore(prediction.article_id, prediction)
    scorer = _Scorer(out, text, config or ScoreConfig())
    pred = prediction.extraction or ArticleExtraction()
    scorer.records("meetings", gold.meetings, pred.meetings)
    scorer.records("positions", gold.positions, pred.positions)
    if text is not None:
        scorer.faithfulness(pred)
    return out


# --------------------------------------------------------------------------- run


@dataclass
class Scorecard:
    """Scores of one set of predictions against the gold, per article and in total."""

    articles: list[ArticleScore]
    warnings: list[str] = field(default_factory=list)

    def total(self, key: str) -> Counts:
        return sum((a.counts.get(key, Counts()) for a in self.articles), Counts())

    def keys(self, rtype: str) -> list[str]:
        seen: dict[str, None] = {}
        for article in self.articles:
            seen.update((k, None) for k in article.counts if k.startswith(f"{rtype}."))
        return sorted(seen, key=_field_order)

    def confusion(self, key: str) -> Counter[tuple[str, str]]:
        return sum((a.confusion.get(key, Counter()) for a in self.articles), Counter())

    def validity(self) -> dict[str, Any]:
        n = len(self.articles)
        parsed = sum(a.prediction.parsed for a in self.articles)
        valid = sum(a.prediction.valid for a in self.articles)
        reasked = sum(a.prediction.reasks > 0 for a in self.articles)
        return {
            "articles": n,
            "parsed": parsed,
            "valid": valid,
            "reasked": reasked,
            "reasks": sum(a.prediction.reasks for a in self.articles),
            "parse_rate": _round(parsed / n) if n else None,
            "valid_rate": _round(valid / n) if n else None,
            "reask_rate": _round(reasked / n) if n else None,
        }

    def micro(self, rtype: str | None = None) -> Counts:
        """All value fields summed: records, character overlaps, the person-and-role levels
        and the `head` and `members` slots are left out, so each person counts once (as a
        `participants` value, and their role once as a `role` value)."""
        types = [rtype] if rtype else list(RECORD_TYPES)
        return sum((self.total(k) for t in types for k in self.keys(t) if _is_field(k)), Counts())

    def faithfulness(self) -> dict[str, Any]:
        total = sum(a.quotes for a in self.articles)
        faithful = sum(a.faithful for a in self.articles)
        return {
            "faithful": faithful,
            "total": total,
            "rate": _round(faithful / total) if total else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """The `--json` shape: record type -> field -> precision, recall, f1 and counts."""
        out: dict[str, Any] = {"validity": self.validity()}
        for rtype in RECORD_TYPES:
            section: dict[str, Any] = {}
            for key in self.keys(rtype):
                entry = self.total(key).as_dict()
                name = key.split(".", 1)[1]
                if name in _CATEGORICAL[rtype]:
                    entry |= _confusion_dict(self.confusion(key))
                section[name] = entry
            section["micro"] = self.micro(rtype).as_dict()
            out[rtype] = section
        out["micro"] = self.micro().as_dict()
        out["quotes"] = {"faithfulness": self.faithfulness()}
        out["warnings"] = self.warnings
        return out


_ORDER = [
    "record", "record_strict", "record_soft", "status", "format", "date", "place", "country", "venue",
    "sides", "head", "head_role", "participants", "participants_role", "role", "members",
    "members_role", "topics", "outcomes",
    "holder", "side", "issue", "stance", "speech", "quote", "evidence_overlap", "quote_overlap",
]  # fmt: skip


def _field_order(key: str) -> tuple[int, str]:
    name = key.split(".", 1)[1]
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)


_NOT_MICRO = frozenset({"head", "members"})
"""People are counted once in micro, through `participants`: the head and members slots
score the same people again (by their place in a delegation)."""


def _is_field(key: str) -> bool:
    name = key.split(".", 1)[1]
    return not (
        name.startswith("record") or name.endswith(("_overlap", "_role")) or name in _NOT_MICRO
    )


def _confusion_dict(pairs: Counter[tuple[str, str]]) -> dict[str, Any]:
    n = sum(pairs.values())
    right = sum(c for (g, p), c in pairs.items() if g == p)
    matrix: dict[str, dict[str, int]] = {}
    for (g, p), c in sorted(pairs.items()):
        matrix.setdefault(g, {})[p] = c
    return {"accuracy": _round(right / n) if n else None, "matched": n, "confusion": matrix}


def score_against_gold(
    gold: Mapping[str, ArticleExtraction],
    predictions: Mapping[str, Prediction],
    texts: Mapping[str, str] | None = None,
    config: ScoreConfig | None = None,
) -> Scorecard:
    """Score every gold article; one without a prediction counts as failed, all-missed."""
    texts = texts or {}
    articles = []
    for article_id, expected in sorted(gold.items()):
        prediction = predictions.get(article_id) or Prediction.missing(article_id, "no prediction")
        articles.append(score_article(expected, prediction, texts.get(article_id), config))
    warnings = [
        f"{a}: prediction has no gold; not scored" for a in sorted(set(predictions) - set(gold))
    ]
    warnings += [
        f"{a}: article text not found; quote measures skipped"
        for a in sorted(gold)
        if a not in texts
    ]
    return Scorecard(articles, warnings)


# --------------------------------------------------------------------------- files


def gold_files(directory: Path) -> list[Path]:
    """The per-article gold files of a folder, sorted: every `*.json` but the event gold."""
    return [p for p in sorted(directory.glob("*.json")) if p.name != EVENTS_GOLD_FILE]


def load_gold(directory: Path) -> dict[str, ArticleExtraction]:
    """`<article id>.json` files, each an ArticleExtraction."""
    if not directory.is_dir():
        raise ConfigError(
            f"{directory}: no such gold folder; pass --gold with a folder of <article id>.json"
        )
    gold = {}
    for path in gold_files(directory):
        try:
            gold[path.stem] = ArticleExtraction.model_validate_json(path.read_text("utf-8"))
        except (ValidationError, ValueError) as err:
            raise ConfigError(f"{path}: not a valid ArticleExtraction: {_short(err)}") from None
    if not gold:
        raise ConfigError(f"{directory}: no <article id>.json gold files in this folder")
    return gold


def gold_digest(directory: Path) -> str:
    """Short hash of a gold folder's files: reports with equal digests were scored on the same gold."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.json")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def load_predictions(path: Path) -> dict[str, Prediction]:
    """A folder of `<article id>.json` (an ExtractionResult or a bare ArticleExtraction), or a JSONL of results.

    In a folder, a file that is not JSON or fits neither shape is kept as a failed
    prediction of the article its name gives, never dropped. A JSONL is read by
    `results.iter_results`, with its one policy for a bad line (a torn last line skipped
    with a warning, any other an error naming the line).
    """
    if path.is_file() and path.suffix == ".jsonl":
        return {r.article_id: Prediction.from_result(r) for r in iter_results(path)}
    if not path.is_dir():
        raise ConfigError(
            f"{path}: expected a folder of <article id>.json predictions or a .jsonl file"
        )
    return {p.stem: _prediction(p.stem, p.read_text("utf-8")) for p in gold_files(path)}


def _prediction(article_id: str, raw: str) -> Prediction:
    try:
        data = json.loads(raw)
    except ValueError as err:
        return Prediction(article_id, None, parsed=False, valid=False, error=f"not JSON: {err}")
    if isinstance(data, dict) and "article_id" in data:
        try:
            return Prediction.from_result(ExtractionResult.model_validate(data))
        except ValidationError as err:
            return Prediction(str(data["article_id"]), None, valid=False, error=_short(err))
    try:
        return Prediction(article_id, ArticleExtraction.model_validate(data))
    except ValidationError as err:
        return Prediction(article_id, None, valid=False, error=_short(err))


def _short(err: Exception) -> str:
    """A validation error in a line: where and what for the first few problems, no URL."""
    if not isinstance(err, ValidationError):
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    problems = err.errors(include_url=False)
    shown = []
    for problem in problems[:3]:
        where = ".".join(str(part) for part in problem["loc"])
        shown.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(shown) + more
