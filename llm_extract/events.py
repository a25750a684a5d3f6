"""Corpus events: the meeting mentions of many results resolved into real-world meetings.

Five outlets reporting one round are one event with five sources; an announcement
and the report that follows are one event whose status moved from planned to held.
Resolution is deterministic and explainable, and it never compares all pairs:

1. **Anchors** are mentions dated to the day with at least two sides. They are
   blocked by each pair of their sides and compared only with mentions of that
   block whose dates lie within `Thresholds.date_slack_days` (a sliding window
   over the block sorted by date). Each pair is scored on sides, people, date,
   place and format; a pair that contradicts (dates too far apart, places in two
   countries, a phone call against a meeting in person, one article) is no pair.
2. Links at or above `Thresholds.link` are merged best first. A merge that would
   put contradicting mentions in one event (judged on the whole cluster, not the
   pair) is refused, so a chain of near-dates cannot drift across weeks.
3. **Attached** mentions (no day-precise date, or a single side) join at most one
   anchored event: one that shares a person, that nothing contradicts, whose date
   fits when the report was published, and that beats the runner-up by
   `Thresholds.attach_margin`. They never link two events. One left alone is an
   event of its own.

Every link records its score and reasons. Positions are grouped per holder and
issue into `PositionTrack`s: a holder who moves from support to oppose shows it.

At corpus scale, results are read by `read_mentions`: each is validated whole and only
its meetings are kept, as slim mentions (a third of the memory of the results), and
`iter_events` builds the events one at a time as they are written. Resolution runs
with the cyclic garbage collector paused: its heap holds no cycles, and each full
collection would walk every mention.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import TypeVar

from llm_extract.aliases import fold
from llm_extract.normalise import canonical_name, canonical_place, person_key, place_country
from llm_extract.results import gc_paused, read_slim
from llm_extract.schemas import (
    Event,
    EventDate,
    EventLink,
    EventMention,
    EventParticipant,
    Evidence,
    ExtractionResult,
    Location,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    PositionTrack,
    Precision,
    StanceReport,
    StatusReport,
)
from llm_extract.score import date_bounds, text_similarity

__all__ = [
    "DEFAULT_THRESHOLDS",
    "ArticleMentions",
    "MentionSet",
    "Thresholds",
    "aggregate_positions",
    "date_bounds",
    "iter_events",
    "mention_id",
    "mentions_of",
    "person_identity",
    "read_mentions",
    "resolve_events",
    "resolve_mentions",
]


@dataclass(frozen=True)
class Thresholds:
    """Every number resolution depends on, in one place.

    - `link`: pair score (0-1) at which two anchored mentions are the same meeting.
      Two reports of one meeting score about 0.9; same sides on the same day in
      another city about 0.6; the weights below sum to 1.
    - `attach`: score an undated or one-sided mention needs to join an event, and
      `attach_margin` its lead over the next-best event (else it stays alone).
    - `date_slack_days`: dates this far apart may still be one meeting (a report a
      day off, talks running past midnight); the event is then flagged as a date
      conflict. Further apart they are two meetings.
    - `report_window_days`: an undated report of a held meeting is about one at
      most this long before publication; of a planned one, at most this long after.
    - `weights` of a pair's score: sides, people, date, place, format.
    """

    link: float = 0.7
    attach: float = 0.6
    attach_margin: float = 0.15
    date_slack_days: int = 2
    report_window_days: int = 45
    weights: tuple[float, float, float, float, float] = (0.2, 0.3, 0.25, 0.15, 0.1)


DEFAULT_THRESHOLDS = Thresholds()
T = TypeVar("T")

_AFTER_PUBLICATION = frozenset(
    {MeetingStatus.PLANNED, MeetingStatus.PROPOSED, MeetingStatus.POSTPONED}
)
"""Statuses that report a meeting still to come when the article is published."""

_FINALITY = {
    MeetingStatus.PROPOSED: 0,
    MeetingStatus.PLANNED: 1,
    MeetingStatus.POSTPONED: 2,
    MeetingStatus.ONGOING: 3,
    MeetingStatus.CANCELLED: 4,
    MeetingStatus.HELD: 5,
}
"""Orders two reports published the same day: the later stage of a meeting is the news."""


def mention_id(article_id: str, meeting_index: int) -> str:
    """`<article id>#<index>`: a mention's key across a corpus."""
    return f"{article_id}#{meeting_index}"


# --------------------------------------------------------------------------- mentions


@lru_cache(maxsize=65536)
def person_identity(name: str) -> tuple[str, str]:
    """(identity key, canonical name), cached: the morphology behind them is the slow part."""
    return person_key(name) or fold(name), canonical_name(name)


@lru_cache(maxsize=16384)
def _place(place: str) -> tuple[str, str | None]:
    """(folded canonical place, its country)."""
    return fold(canonical_place(place)), place_country(place)


@dataclass(frozen=True, slots=True)
class _Person:
    key: str
    name: str
    name_en: str | None
    side: str
    head: bool
    role: str | None


@dataclass(slots=True)
class _Mention:
    """What resolution keeps of one meeting: the fields it compares and the ones an event
    reports (date, location, evidence and topics by reference), never the whole result."""

    id: str
    article_id: str
    index: int
    source: str
    published: dt.date | None
    status: MeetingStatus
    format: MeetingFormat | None
    date: EventDate | None
    location: Location | None
    sides: frozenset[str]
    people: dict[str, _Person]
    start: dt.date | None
    end: dt.date | None
    day: bool
    place: str | None
    country: str | None
    topics: list[str]
    evidence: list[Evidence]
    order: int = -1
    """Place in the corpus (publication, then article id): set when the corpus is ordered."""

    @property
    def anchor(self) -> bool:
        return self.day and len(self.sides) >= 2

    def record(self) -> EventMention:
        return EventMention.model_construct(
            id=self.id,
            article_id=self.article_id,
            meeting_index=self.index,
            source=self.source,
            published=self.published,
            status=self.status,
            format=self.format,
            date=self.date,
            location=self.location,
            sides=sorted(self.sides),
            people=[p.name for p in self.people.values()],
            evidence=self.evidence,
        )


def _mention(result: ExtractionResult, index: int, meeting: Meeting) -> _Mention:
    people: dict[str, _Person] = {}
    for delegation in meeting.delegations:
        named = ([(delegation.head, True)] if delegation.head else []) + [
            (member, False) for member in delegation.members
        ]
        for person, head in named:
            key, name = person_identity(person.name)
            if key and key not in people:
                people[key] = _Person(key, name, person.name_en, delegation.side, head, person.role)
    date = meeting.date
    bounds = date_bounds(date) if date else (None, None)
    location = meeting.location
    place = country = None  # a country alone is too often inferred to contradict anything
    if location is not None and (location.place or location.venue):
        place, found = _place(location.place or location.venue or "")
        country = location.country or found
    return _Mention(
        id=mention_id(result.article_id, index),
        article_id=result.article_id,
        index=index,
        source=result.source,
        published=result.published,
        status=meeting.status,
        format=meeting.format,
        date=date,
        location=location,
        sides=frozenset(d.side for d in meeting.delegations if d.side),  # unknown is no side
        people=people,
        start=bounds[0],
        end=bounds[1],
        day=date is not None and date.precision == Precision.DAY,
        place=place,
        country=country,
        topics=meeting.topics,
        evidence=meeting.evidence,
    )


@dataclass(frozen=True, slots=True)
class ArticleMentions:
    """One result as resolution keeps it: its meetings as mentions, nothing else."""

    article_id: str
    published: dt.date | None
    ok: bool
    mentions: tuple[_Mention, ...]


def mentions_of(result: ExtractionResult) -> ArticleMentions:
    """The slim form of `result` that `resolve_mentions` needs (a failed one has none)."""
    ok = result.status == "ok" and result.extraction is not None
    meetings = result.extraction.meetings if ok and result.extraction is not None else []
    return ArticleMentions(
        result.article_id,
        result.published,
        ok,
        tuple(_mention(result, i, m) for i, m in enumerate(meetings)),
    )


@dataclass
class MentionSet:
    """Every result read, as mentions, and what reading noticed (as `ResultSet` has it);
    `ok`, `failed` and `mentions` are counts."""

    articles: list[ArticleMentions]
    warnings: list[str]

    @property
    def ok(self) -> int:
        return sum(a.ok for a in self.articles)

    @property
    def failed(self) -> int:
        return sum(not a.ok for a in self.articles)

    @property
    def mentions(self) -> int:
        return sum(len(a.mentions) for a in self.articles)


def read_mentions(paths: Iterable[Path]) -> MentionSet:
    """The meeting mentions of result files, read one result at a time: resolving a corpus
    holds its mentions, not its validated results (a third of the memory)."""
    with gc_paused():
        kept, warnings = read_slim(paths, mentions_of)
    return MentionSet(list(kept.values()), warnings)


def _mentions(articles: Iterable[ArticleMentions]) -> list[_Mention]:
    ok = sorted(
        (a for a in articles if a.ok),
        key=lambda a: (a.published or dt.date.max, a.article_id),
    )
    out: list[_Mention] = []
    for article in ok:
        for mention in article.mentions:
            mention.order = len(out)
            out.append(mention)
    return out


# --------------------------------------------------------------------------- clusters


@dataclass(slots=True)
class _Cluster:
    """What a merge must not contradict, kept up to date as mentions join."""

    members: list[_Mention]
    links: list[EventLink] = field(default_factory=list)
    articles: set[str] = field(default_factory=set)
    sides: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    latest_start: dt.date | None = None
    earliest_end: dt.date | None = None
    formats: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, mention: _Mention) -> _Cluster:
        cluster = cls(members=[])
        cluster.add(mention)
        return cluster

    def add(self, mention: _Mention) -> None:
        self.members.append(mention)
        self.articles.add(mention.article_id)
        self.sides |= mention.sides
        self.people |= mention.people.keys()
        if mention.start is not None and mention.end is not None:
            self.latest_start = max(self.latest_start or mention.start, mention.start)
            self.earliest_end = min(self.earliest_end or mention.end, mention.end)
        if mention.format is not None:
            self.formats.add(mention.format)
        if mention.country is not None:
            self.countries.add(mention.country)

    def absorb(self, other: _Cluster, link: EventLink) -> None:
        for mention in other.members:
            self.add(mention)
        self.links.extend(other.links)
        self.links.append(link)

    def contradiction(self, other: _Cluster | _Mention, slack: int) -> str | None:
        """Why `other` cannot be the same meeting as this cluster, or None."""
        if isinstance(other, _Mention):
            other = _Cluster.of(other)
        if self.articles & other.articles:
            return "one article reports them as two meetings"
        starts = [d for d in (self.latest_start, other.latest_start) if d is not None]
        ends = [d for d in (self.earliest_end, other.earliest_end) if d is not None]
        if starts and ends and (max(starts) - min(ends)).days > slack:
            return "dates too far apart"
        if len(self.formats | other.formats) > 1:
            return "formats differ"
        if len(self.countries | other.countries) > 1:
            return "places in different countries"
        return None

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        dated = [m for m in self.members if m.start is not None and m.end is not None]
        return min(m.start for m in dated), max(m.end for m in dated)  # type: ignore[type-var]


# --------------------------------------------------------------------------- scoring


def _names(people: dict[str, _Person], keys: Iterable[str]) -> str:
    return ", ".join(sorted(people[k].name for k in keys))


def _pair_score(a: _Mention, b: _Mention, t: Thresholds) -> tuple[float, list[str]] | None:
    """Score and reasons for two anchored mentions; None when they contradict."""
    if a.article_id == b.article_id:
        return None
    assert a.start and a.end and b.start and b.end
    gap = max((b.start - a.end).days, (a.start - b.end).days, 0)
    if gap > t.date_slack_days:
        return None
    fa, fb = a.format, b.format
    if fa and fb and fa != fb:
        return None
    if a.country and b.country and a.country != b.country:
        return None
    w_sides, w_people, w_date, w_place, w_format = t.weights
    shared_sides = a.sides & b.sides
    reasons = [f"sides {'+'.join(sorted(shared_sides))} shared"]
    score = w_sides * len(shared_sides) / len(a.sides | b.sides)
    shared = a.people.keys() & b.people.keys()
    if a.people and b.people:
        overlap = len(shared) / min(len(a.people), len(b.people))
        score += w_people * overlap
        reasons.append(
            f"people {_names(a.people, shared)} shared" if shared else "no person in common"
        )
    else:
        score += w_people * 0.5
        reasons.append("people not named by both")
    if gap == 0:
        score += w_date
        reasons.append(f"dates agree ({a.date.start}, {b.date.start})")  # type: ignore[union-attr]
    else:
        score += w_date * (1 - gap / (t.date_slack_days + 1))
        reasons.append(f"dates {gap} day(s) apart")
    if a.place and b.place:
        same = a.place == b.place
        score += w_place * (1.0 if same else 0.2)
        reasons.append(
            f"place {a.place} agrees" if same else f"places differ ({a.place}, {b.place})"
        )
    else:
        score += w_place * 0.5
        reasons.append("place not given by both")
    if fa and fb:
        score += w_format
        reasons.append(f"format {fa} agrees")
    else:
        score += w_format * 0.5
    return round(score, 4), reasons


def _attach_score(m: _Mention, cluster: _Cluster, t: Thresholds) -> tuple[float, list[str]] | None:
    """Score and reasons for a weak mention joining an anchored event; None when it may not."""
    shared_sides = m.sides & cluster.sides
    if len(shared_sides) < min(2, len(m.sides)) or not shared_sides:
        return None
    shared = m.people.keys() & cluster.people
    if not shared:
        return None
    if cluster.contradiction(m, t.date_slack_days) is not None:
        return None
    first, last = cluster.span
    reasons = [f"people {_names(m.people, shared)} shared"]
    if m.date is not None:
        reasons.append(f"date {m.date.start} fits")
    published = m.published
    if published is None:
        return None
    gap = (last - published).days if m.status in _AFTER_PUBLICATION else (published - first).days
    if gap < -t.date_slack_days or gap > t.report_window_days:
        return None
    timing = 1 - max(gap, 0) / t.report_window_days
    reasons.append(f"reported {abs(gap)} day(s) from the event")
    places = {c.place for c in cluster.members if c.place}
    place = 0.5 if not m.place or not places else (1.0 if m.place in places else 0.2)
    score = (
        0.45 * len(shared) / len(m.people)
        + 0.3 * timing
        + 0.15 * len(shared_sides) / len(m.sides | cluster.sides)
        + 0.1 * place
    )
    reasons.append(f"sides {'+'.join(sorted(shared_sides))} shared")
    return round(score, 4), reasons


# --------------------------------------------------------------------------- resolution


def _anchor_links(
    anchors: Sequence[_Mention], t: Thresholds
) -> list[tuple[float, int, int, list[str]]]:
    blocks: dict[tuple[str, str], list[_Mention]] = defaultdict(list)
    for m in anchors:
        for pair in combinations(sorted(m.sides), 2):
            blocks[pair].append(m)
    seen: set[tuple[int, int]] = set()
    links = []
    for block in blocks.values():
        block.sort(key=lambda m: (m.start, m.order))
        for i, a in enumerate(block):
            assert a.end is not None
            limit = a.end + dt.timedelta(days=t.date_slack_days)
            for b in block[i + 1 :]:
                assert b.start is not None
                if b.start > limit:
                    break
                key = (min(a.order, b.order), max(a.order, b.order))
                if key in seen:
                    continue
                seen.add(key)
                scored = _pair_score(a, b, t)
                if scored is not None and scored[0] >= t.link:
                    links.append((scored[0], *key, scored[1]))
    links.sort(key=lambda link: (-link[0], link[1], link[2]))
    return links


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _cluster_anchors(mentions: Sequence[_Mention], t: Thresholds) -> dict[int, _Cluster]:
    anchors = [m for m in mentions if m.anchor]
    clusters = {m.order: _Cluster.of(m) for m in anchors}
    parent = list(range(len(mentions)))
    by_order = {m.order: m for m in mentions}
    for score, a, b, reasons in _anchor_links(anchors, t):
        ra, rb = _find(parent, a), _find(parent, b)
        if ra == rb:
            continue
        if clusters[ra].contradiction(clusters[rb], t.date_slack_days) is not None:
            continue
        keep, gone = min(ra, rb), max(ra, rb)
        link = EventLink.model_construct(
            source=by_order[a].id, target=by_order[b].id, score=score, reasons=reasons
        )
        clusters[keep].absorb(clusters.pop(gone), link)
        parent[gone] = keep
    return clusters


def _attach(
    weak: Sequence[_Mention], clusters: dict[int, _Cluster], t: Thresholds
) -> list[_Cluster]:
    """Weak mentions join one anchored event each, or stand alone."""
    index: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for root, cluster in clusters.items():
        for key in cluster.people:
            index[key].append((cluster.span[0], root))
    for entries in index.values():
        entries.sort()
    window = dt.timedelta(days=t.report_window_days + t.date_slack_days)
    alone: list[_Cluster] = []
    for m in weak:
        if m.start is not None and m.end is not None:
            low, high = m.start - window, m.end + window
        elif m.published is not None:
            low, high = m.published - window, m.published + window
        else:
            alone.append(_Cluster.of(m))
            continue
        candidates: set[int] = set()
        for key in m.people:
            entries = index.get(key, [])
            at = bisect.bisect_left(entries, (low, -1))
            while at < len(entries) and entries[at][0] <= high:
                candidates.add(entries[at][1])
                at += 1
        scored = sorted(
            (
                (s[0], root, s[1])
                for root in candidates
                if (s := _attach_score(m, clusters[root], t)) is not None
            ),
            key=lambda x: (-x[0], x[1]),
        )
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        if scored and scored[0][0] >= t.attach and scored[0][0] - runner_up >= t.attach_margin:
            score, root, reasons = scored[0]
            cluster = clusters[root]
            anchor = min(cluster.members, key=lambda c: c.order)
            link = EventLink.model_construct(
                source=anchor.id,
                target=m.id,
                score=score,
                reasons=[*reasons, f"attached: nothing contradicts, lead {score - runner_up:.2f}"],
            )
            cluster.add(m)
            cluster.links.append(link)
        else:
            alone.append(_Cluster.of(m))
    return alone


def resolve_events(
    results: Iterable[ExtractionResult], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[Event]:
    """Events of the meetings in `results` (failed results are skipped), in date order."""
    return resolve_mentions((mentions_of(r) for r in results), thresholds)


def resolve_mentions(
    articles: Iterable[ArticleMentions], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[Event]:
    """`resolve_events` on results already slimmed by `mentions_of` or `read_mentions`."""
    return list(iter_events(articles, thresholds))


def iter_events(
    articles: Iterable[ArticleMentions], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Iterator[Event]:
    """The events of `resolve_mentions`, in the same order, built one at a time as they are
    consumed: writing a corpus's events never holds them all (they weigh more than the
    mentions they come from)."""
    with gc_paused():
        mentions = _mentions(articles)
        clusters = _cluster_anchors(mentions, thresholds)
        alone = _attach([m for m in mentions if not m.anchor], clusters, thresholds)
        ordered = sorted([*clusters.values(), *alone], key=_chronological)
    del mentions, clusters, alone
    for cluster in ordered:
        yield _event(cluster)


def _chronological(cluster: _Cluster) -> tuple[str, str]:
    """The event's date (else its first report), then its id: the order events come in."""
    members = sorted(cluster.members, key=_report_order)
    date, _ = _date(members, [])
    if date is not None:
        return date.start, _event_id(members)
    published = min((m.published for m in members if m.published), default=None)
    return (published.isoformat() if published else "9999"), _event_id(members)


# --------------------------------------------------------------------------- events


def _report_order(m: _Mention) -> tuple[dt.date, int, str, int]:
    return (
        m.published or dt.date.min,
        _FINALITY[m.status],
        m.article_id,
        m.index,
    )


def _event_id(members: Sequence[_Mention]) -> str:
    """Derived from the earliest mention: stable while the event keeps its first report."""
    first = min(members, key=lambda m: (m.published or dt.date.max, m.id))
    return "ev-" + hashlib.sha256(first.id.encode()).hexdigest()[:12]


def _event(cluster: _Cluster) -> Event:
    members = sorted(cluster.members, key=_report_order)
    conflicts: list[str] = []
    date, date_conflict = _date(members, conflicts)
    place = _location(members, conflicts)
    formats = [m.format for m in members if m.format]
    if len(set(formats)) > 1:
        conflicts.append("format: " + ", ".join(sorted(set(formats))))
    history = [
        StatusReport.model_construct(
            status=m.status, published=m.published, article_id=m.article_id
        )
        for m in members
    ]
    topics: dict[str, str] = {}
    for m in members:
        for topic in m.topics:
            topics.setdefault(fold(topic), topic)
    return Event.model_construct(
        id=_event_id(members),
        sides=sorted(cluster.sides),
        participants=_participants(members),
        date=date,
        date_conflict=date_conflict,
        place=place,
        format=_most_common(formats) if formats else None,
        status=history[-1].status,
        status_history=history,
        topics=list(topics.values()),
        mentions=[m.record() for m in members],
        links=cluster.links,
        conflicts=conflicts,
    )


def _date(members: Sequence[_Mention], conflicts: list[str]) -> tuple[EventDate | None, bool]:
    dated = [m for m in members if m.date is not None and m.start and m.end]
    if not dated:
        return None, False
    latest_start = max(m.start for m in dated)  # type: ignore[type-var]
    earliest_end = min(m.end for m in dated)  # type: ignore[type-var]
    if latest_start <= earliest_end:
        exact = [m for m in dated if (m.start, m.end) == (latest_start, earliest_end)]
        if exact:
            return min(exact, key=_preferred).date, False
        end = earliest_end.isoformat() if earliest_end != latest_start else None
        return EventDate(start=latest_start.isoformat(), end=end), False
    claims: dict[str, list[str]] = defaultdict(list)
    for m in dated:
        d = m.date
        assert d is not None
        claims[d.start + (f"..{d.end}" if d.end else "")].append(m.id)
    conflicts.append(
        "date: " + "; ".join(f"{when} ({', '.join(ids)})" for when, ids in sorted(claims.items()))
    )
    return min(dated, key=_preferred).date, True


def _preferred(m: _Mention) -> tuple[int, int, int]:
    """A held report over a plan, then the most precise date, then the latest report."""
    held = m.status == MeetingStatus.HELD
    assert m.start and m.end
    published = (m.published or dt.date.min).toordinal()
    return (0 if held else 1, (m.end - m.start).days, -published)


def _location(members: Sequence[_Mention], conflicts: list[str]) -> Location | None:
    placed = [m for m in members if m.place]
    if not placed:
        countries = [m.location.country for m in members if m.location and m.location.country]
        return Location(country=_most_common(countries)) if countries else None
    places = [m.place for m in placed]
    if len(set(places)) > 1:
        conflicts.append("place: " + ", ".join(sorted({p for p in places if p})))
    best = _most_common(places)
    chosen = [m.location for m in placed if m.place == best and m.location]
    venue = next((loc.venue for loc in chosen if loc.venue), None)
    country = next((loc.country for loc in chosen if loc.country), None)
    country = country or next(m.country for m in placed if m.place == best)
    return Location(place=chosen[0].place, country=country, venue=venue)


def _most_common(values: Iterable[T]) -> T:
    """The most frequent value; ties go to the first seen (callers pass a stable order)."""
    counts: dict[T, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.__getitem__)


def _participants(members: Sequence[_Mention]) -> list[EventParticipant]:
    seen: dict[str, list[_Person]] = defaultdict(list)
    articles: dict[str, set[str]] = defaultdict(set)
    for m in members:
        for key, person in m.people.items():
            seen[key].append(person)
            articles[key].add(m.article_id)
    out = []
    for key, forms in seen.items():
        roles: dict[str, str] = {}
        for p in forms:
            if p.role:
                roles.setdefault(fold(p.role), p.role)
        out.append(
            EventParticipant.model_construct(
                name=_most_common(sorted((p.name for p in forms), key=lambda n: (-len(n), n))),
                name_en=next((p.name_en for p in forms if p.name_en), None),
                side=_most_common(p.side for p in forms),
                head=any(p.head for p in forms),
                roles=list(roles.values()),
                articles=sorted(articles[key]),
            )
        )
    out.sort(key=lambda p: (p.side or "", not p.head, p.name))
    return out


# --------------------------------------------------------------------------- positions


def aggregate_positions(
    results: Iterable[ExtractionResult], *, same_issue: float = 0.7
) -> list[PositionTrack]:
    """Each holder's stances per issue, oldest first; issues match at `same_issue` similarity.

    A holder is a person (by identity key) or, for a side speaking as a whole, the side.
    Issues are compared only within one holder, so the cost grows with a holder's
    issues, not with the corpus.
    """
    ok = sorted(
        (r for r in results if r.status == "ok" and r.extraction is not None),
        key=lambda r: (r.published or dt.date.max, r.article_id),
    )
    groups: dict[str, list[list[tuple[ExtractionResult, int]]]] = defaultdict(list)
    for result in ok:
        assert result.extraction is not None
        for index, position in enumerate(result.extraction.positions):
            holder = (
                f"person:{person_identity(position.holder.name)[0]}"
                if position.holder
                else f"side:{position.side}"
            )
            tracks = groups[holder]
            for track in tracks:
                first_result, first_index = track[0]
                assert first_result.extraction is not None
                issue = first_result.extraction.positions[first_index].issue
                if text_similarity(issue, position.issue) >= same_issue:
                    track.append((result, index))
                    break
            else:
                tracks.append([(result, index)])
    out = [_track(holder, track) for holder, tracks in groups.items() for track in tracks]
    out.sort(key=lambda t: (t.holder or "", t.side or "", t.issue_key))
    return out


def _track(holder: str, reports: list[tuple[ExtractionResult, int]]) -> PositionTrack:
    positions = [(r, i, r.extraction.positions[i]) for r, i in reports]  # type: ignore[union-attr]
    first = positions[0][2]
    names = Counter(person_identity(p.holder.name)[1] for _, _, p in positions if p.holder)
    sides = Counter(p.side for _, _, p in positions if p.side)
    issue_key = fold(first.issue)
    return PositionTrack(
        id="pos-" + hashlib.sha256(f"{holder}|{issue_key}".encode()).hexdigest()[:12],
        holder=max(names, key=lambda n: (names[n], len(n), n)) if names else None,
        side=sides.most_common(1)[0][0] if sides else None,
        issue=first.issue,
        issue_key=issue_key,
        stances=[
            StanceReport(
                stance=p.stance,
                published=r.published,
                article_id=r.article_id,
                position_index=i,
                issue=p.issue,
                summary=p.summary,
                evidence=p.evidence,
            )
            for r, i, p in positions
        ],
    )
