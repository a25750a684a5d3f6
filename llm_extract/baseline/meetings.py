"""Meetings: mentions merged into one record per event.

A mention with named parties and an anchor (a status verb, date or place) may
open a meeting; a bare one ("обе стороны назвали встречу позитивной") only adds
evidence to one already open. A mention joins the meeting it shares a person,
place or date with; failing that, the rules in `_home` decide. Sentences that
list participants ("Американскую делегацию представляли …") add people to the
meeting named just before.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from llm_extract.aliases import fold
from llm_extract.baseline import lexicon
from llm_extract.baseline.entities import Cast, dateline_city
from llm_extract.baseline.evidence import span_evidence
from llm_extract.baseline.mentions import (
    Actor,
    MeetingMention,
    Parties,
    meeting_mentions,
    quote_speakers,
)
from llm_extract.baseline.nlp import Sentence
from llm_extract.normalise import same_day
from llm_extract.schemas import (
    Delegation,
    EventDate,
    Location,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Participant,
)

__all__ = ["find_meetings"]

_MAX_EVIDENCE = 3


@dataclass
class _Meeting(Parties):
    mentions: list[MeetingMention]
    actors: list[Actor] = field(default_factory=list)
    sides: list[str] = field(default_factory=list)
    status: MeetingStatus = MeetingStatus.HELD
    explicit: bool = False
    date: EventDate | None = None
    location: Location | None = None
    format: MeetingFormat | None = None
    lemmas: set[str] = field(default_factory=set)
    topics: list[str] = field(default_factory=list)

    def absorb(self, mention: MeetingMention, *, full: bool) -> None:
        """Take a mention's evidence; with `full`, also its cast, status, date and place."""
        self.mentions.append(mention)
        if not full:  # a passing mention may still date it or say it was a call
            same_time = _FAMILY.get(mention.status, "past") == _FAMILY.get(self.status, "past")
            if same_time or not mention.explicit:  # not "в прошлом году …" for a coming one
                self.date = self.date or mention.date
            if mention.format in {MeetingFormat.PHONE, MeetingFormat.VIDEO}:
                self.format = mention.format
            return
        self.lemmas.add(mention.lemma)
        known = self.names
        for actor in mention.actors:
            if actor.person.name not in known:
                self.actors.append(actor)
                known.add(actor.person.name)
            elif actor.head:
                for mine in self.actors:
                    if mine.person.name == actor.person.name:
                        mine.head = True
        for side in mention.sides:
            if side not in self.sides:
                self.sides.append(side)
        if mention.explicit and not self.explicit:
            self.status, self.explicit = mention.status, True
        self.date = self.date or mention.date
        place = mention.location
        if place is not None and (
            self.location is None or (self.location.place is None and place.place)
        ):
            self.location = place
        elif (  # "в Женеве" + "во дворце Наций"
            place
            and place.venue
            and self.location
            and not self.location.venue
            and place.place in {None, self.location.place}
        ):
            self.location = self.location.model_copy(update={"venue": place.venue})
        if mention.format in {MeetingFormat.PHONE, MeetingFormat.VIDEO} or self.format is None:
            self.format = mention.format


def find_meetings(
    sentences: list[Sentence], cast: Cast, text: str, published: dt.date | None
) -> list[Meeting]:
    """Every meeting the article states, one record per event."""
    meetings: list[_Meeting] = []
    last: _Meeting | None = None
    delegation: tuple[int, str] | None = None  # the side the last sentence's delegation is of
    pending: list[MeetingMention] = []  # weak mentions no meeting took yet
    quoted = quote_speakers(sentences, text)
    named_place: Location | None = None  # the place the last mention named
    for sentence in sentences:
        filed_from = dateline_city(sentence) if sentence.index < 2 else None
        for mention in meeting_mentions(sentence, cast, published, quoted):
            place = mention.location
            if filed_from and place and place.venue and not place.place:  # "во дворце Наций"
                mention.location = place.model_copy(
                    update={"place": filed_from.place, "country": filed_from.country}
                )
            for actor in mention.actors:  # "глава МИД Турции Хакан Фидан" named earlier
                first = None if actor.side else cast.first_role(actor.person.name)
                actor.side = actor.side or (first.side if first else None)
            if mention.location is None and mention.there:  # "там": the place just named
                mention.location = named_place or (last.location if last else None)
            named_place = _narrower(mention.location, named_place)
            if mention.participation:
                if len(set(mention.sides)) == 1:
                    delegation = (sentence.index, mention.sides[0])
                elif not mention.sides and delegation and delegation[0] == sentence.index - 1:
                    for actor in mention.actors:  # "В ее состав вошли …"
                        actor.side = actor.side or delegation[1]
            if mention.topic is not None:  # about the meeting just named, if there is one
                if last is not None and _follows(last, mention):
                    last.absorb(mention, full=False)
                    if mention.topic and mention.topic not in last.topics:
                        last.topics.append(mention.topic)
                continue
            target = _home(mention, meetings, last)
            if target is not None:
                target.absorb(mention, full=mention.strong or mention.participation)
                last = target
            elif mention.strong:
                if not mention.all_sides() and not mention.actors and last is not None:
                    mention.sides = sorted(last.all_sides())
                elif mention.we and last is not None and mention.names & last.names:
                    mention.sides = sorted(last.all_sides())  # "мы": he and his last partner
                meeting = _Meeting(mentions=[])
                for earlier in _lead_in(pending, mention):
                    meeting.absorb(earlier, full=True)
                    pending.remove(earlier)
                meeting.absorb(mention, full=True)
                meeting.status = mention.status
                meetings.append(meeting)
                last = meeting
            else:
                pending.append(mention)
    for meeting in meetings:
        for actor in meeting.actors:
            if actor.role.text is None:
                actor.role = cast.first_role(actor.person.name) or actor.role
    return [_record(m, text, published) for m in meetings]


def _follows(meeting: _Meeting, mention: MeetingMention) -> bool:
    return meeting.mentions[-1].sentence.index >= mention.sentence.index - 1


def _narrower(new: Location | None, old: Location | None) -> Location | None:
    """The place 'там' points to: the latest named, unless it only widens the last to its
    country ('в Нью-Йорк. … в США')."""
    if new is None:
        return old
    if old is not None and new.place is None and old.place and new.country == old.country:
        return old
    return new


def _lead_in(pending: list[MeetingMention], opening: MeetingMention) -> list[MeetingMention]:
    """Weak mentions just before a meeting opens that are about it: 'Визит Уиткоффа в Москву
    запланирован на конец февраля, где он встретится с Путиным' (a person of it, this or the
    last sentence, nothing that contradicts it)."""
    probe = _Meeting(mentions=[])
    probe.absorb(opening, full=True)
    return [
        m
        for m in pending
        if m.sentence.index >= opening.sentence.index - 1
        and m.names & opening.names
        and not m.continuation
        and _compatible(m, probe, statuses=False)  # "прилетел …, его примет": one visit
        and not _medium_differs(m, probe)  # "прилетел в Анкару" is no part of a phone call
    ]


def _home(
    mention: MeetingMention, meetings: list[_Meeting], last: _Meeting | None
) -> _Meeting | None:
    """The open meeting this mention is about, if any.

    First by identity: a shared person, place or date. Failing that, a mention
    pointing back ('тогда', 'такой контакт') or listing participants joins the
    meeting just named; a bare mention joins the latest with the same trigger
    word; a mention naming people joins a meeting of the same sides that has none.
    A further meeting of a series ('следующий раунд') never joins an earlier one.
    """
    if mention.continuation and mention.strong:
        return _headlined(mention, meetings)
    if (  # an arrival leads into the meeting it precedes, not back to an older one
        mention.lemma in lexicon.ARRIVAL
        and last is not None
        and last.mentions[-1].sentence.index < mention.sentence.index - 1
    ):
        return None
    candidates = [m for m in reversed(meetings) if _compatible(mention, m)]  # latest first
    if not candidates:
        return None
    best = max(candidates, key=lambda m: _identity(mention, m))  # ties: the latest
    if _identity(mention, best) > 0:
        return best
    if (mention.anaphoric or mention.participation) and last in candidates:
        return last
    if mention.bare:
        same_word = next((m for m in candidates if mention.lemma in m.lemmas), None)
        follows = (
            last in candidates and last.mentions[-1].sentence.index >= mention.sentence.index - 1
        )
        return same_word or (last if follows else None)
    sides = mention.all_sides()
    if sides:
        for meeting in candidates:  # a meeting so far known only by its sides
            if sides <= meeting.all_sides() and (
                meeting.bare or (mention.names and not meeting.actors)
            ):
                return meeting
    if not mention.strong and last in candidates and mention.names <= last.names:
        return last
    return None


_FAMILY = {MeetingStatus.PLANNED: "coming", MeetingStatus.PROPOSED: "coming"}


def _headlined(mention: MeetingMention, meetings: list[_Meeting]) -> _Meeting | None:
    """'Делегации А и Б снова встретятся в Женеве' over 'Новый раунд переговоров между А и Б
    пройдет в четверг': the lead's next round is the headline's meeting (same sides, same
    status family, compatible place)."""
    if mention.sentence.index > 2:
        return None
    for meeting in meetings:
        if (
            all(_headline(m.sentence) for m in meeting.mentions)
            and mention.all_sides() == meeting.all_sides()
            and _FAMILY.get(mention.status, "past") == _FAMILY.get(meeting.status, "past")
            and _compatible(mention, meeting, statuses=False)
        ):
            return meeting
    return None


def _headline(sentence: Sentence) -> bool:
    """A title line: the article's first, with no full stop."""
    return sentence.index == 0 and sentence.text.rstrip()[-1:] not in {".", "!", "?", "…"}


def _identity(mention: MeetingMention, meeting: _Meeting) -> float:
    """Shared people, place and date; a list of participants is tied by place and date only."""
    people = 0 if mention.participation else len(mention.names & meeting.names)
    return (
        3 * people
        + 2 * float(_same_place(mention.location, meeting.location))
        + 2 * float(mention.date is not None and meeting.date is not None)
    )


def _compatible(mention: MeetingMention, meeting: _Meeting, *, statuses: bool = True) -> bool:
    if mention.date and meeting.date and not _overlap(mention.date, meeting.date):
        return False
    place, theirs = mention.location, meeting.location
    if (
        place
        and theirs
        and place.place
        and theirs.place
        and not (_same_place(place, theirs) or _within(place, theirs))
    ):
        return False
    if statuses and mention.explicit and meeting.explicit and mention.status != meeting.status:
        return False
    if mention.date and not meeting.date and _medium_differs(mention, meeting):
        return False  # "провели переговоры …; во время телефонного разговора 16 октября"
    sides, their_sides = mention.all_sides(), meeting.all_sides()
    if len(their_sides) >= 2 and sides - their_sides and not mention.participation:
        return False
    disjoint = mention.names and meeting.names and not mention.names & meeting.names
    return not (disjoint and mention.strong and not mention.participation)


def _medium_differs(mention: MeetingMention, meeting: _Meeting) -> bool:
    remote = {MeetingFormat.PHONE, MeetingFormat.VIDEO}
    formats = {mention.format, meeting.format}
    return None not in formats and len(formats) == 2 and bool(formats & remote)


def _within(a: Location, b: Location) -> bool:
    """Two places of one country may be one place at two scales ('на Аляске', 'в Анкоридже')."""
    return a.country is not None and a.country == b.country


def _same_place(a: Location | None, b: Location | None) -> bool:
    if a is None or b is None:
        return False
    if a.place and b.place:
        return fold(a.place) == fold(b.place)
    return a.country is not None and a.country == b.country


def _overlap(a: EventDate, b: EventDate) -> bool:
    """Whether two dates can be one meeting's: their calendar intervals share a day."""
    a0, a1 = _interval(a)
    b0, b1 = _interval(b)
    return a0 <= b1 and b0 <= a1


def _interval(date: EventDate) -> tuple[dt.date, dt.date]:
    """First and last day a date covers: '2026' is the year, '2026-01' the month."""
    first = [int(p) for p in date.start.split("-")]
    last = [int(p) for p in (date.end or date.start).split("-")]
    start = dt.date(first[0], first[1] if len(first) > 1 else 1, first[2] if len(first) > 2 else 1)
    month = last[1] if len(last) > 1 else 12
    day = last[2] if len(last) > 2 else calendar.monthrange(last[0], month)[1]
    return start, dt.date(last[0], month, day)


def _record(meeting: _Meeting, text: str, published: dt.date | None) -> Meeting:
    """The record; a meeting with no date expression that a sentence reports as under way,
    just finished or due later that day is dated on the publication day (`same_day`)."""
    date = meeting.date
    for mention in meeting.mentions if date is None else ():
        date = date or same_day(mention.sentence.text, published, meeting.status)
    return Meeting(
        status=meeting.status,
        format=meeting.format,
        date=date,
        location=meeting.location,
        delegations=_delegations(meeting),
        topics=meeting.topics,
        evidence=[
            span_evidence(text, m.sentence.start, m.sentence.stop)
            for m in _distinct_sentences(meeting.mentions)[:_MAX_EVIDENCE]
        ],
    )


def _distinct_sentences(mentions: list[MeetingMention]) -> list[MeetingMention]:
    """One mention per sentence, and per wording: a repeated headline is cited once."""
    seen: set[str] = set()
    out: list[MeetingMention] = []
    for mention in mentions:
        if mention.sentence.text not in seen:
            seen.add(mention.sentence.text)
            out.append(mention)
    return out


def _delegations(meeting: _Meeting) -> list[Delegation]:
    order: list[str] = []
    for side in [a.side for a in sorted(meeting.actors, key=lambda a: a.order)] + meeting.sides:
        if side and side not in order:
            order.append(side)
    delegations: list[Delegation] = []
    for side in order:
        people = sorted((a for a in meeting.actors if a.side == side), key=lambda a: a.order)
        head = next((a for a in people if a.head), people[0] if people else None)
        delegations.append(
            Delegation(
                side=side,
                head=_participant(head) if head else None,
                members=[_participant(a) for a in people if a is not head],
            )
        )
    return delegations


def _participant(actor: Actor) -> Participant:
    return Participant(
        name=actor.person.name,
        name_en=actor.person.name_en,
        role=actor.role.text,
        organisation=actor.role.organisation,
    )
