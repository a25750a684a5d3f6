"""Meetings: trigger words, the people, sides, place and date around them, merged per event.

Each trigger ("переговоры", "встретились", "визит", ...) makes a mention; the
sentence's people, sides, places and dates go to the nearest trigger. A mention
with a cast and an anchor (a status verb, date or place) may open a meeting; a
bare one ("обе стороны назвали встречу позитивной") may only add evidence to a
meeting already open. Sentences that list participants ("Американскую делегацию
представляли ...") add people to the meeting named just before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from llm_extract.aliases import fold
from llm_extract.baseline import lexicon
from llm_extract.baseline.clauses import SpeakerRegion, speaker_regions
from llm_extract.baseline.dates import find_dates
from llm_extract.baseline.entities import (
    Cast,
    Person,
    Role,
    describe,
    is_possessor,
    places,
    role_of,
    side_markers,
)
from llm_extract.baseline.evidence import span_evidence
from llm_extract.baseline.nlp import Sentence, Token
from llm_extract.normalise import Tense, resolve_date
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

_IN_PERSON = lexicon.words(
    "встреча встретиться встречаться переговоры переговор визит посетить посещать побывать "
    "заседание саммит раунд поездка принять принимать"
)
_TENSE: dict[MeetingStatus, Tense] = {
    MeetingStatus.HELD: "past",
    MeetingStatus.PLANNED: "future",
    MeetingStatus.PROPOSED: "future",
}
_MAX_EVIDENCE = 3
_GAP = 2
"""Triggers this close (in tokens) are one mention: 'раунд переговоров', 'визит и переговоры'."""


@dataclass
class _Actor:
    person: Person
    role: Role
    side: str | None
    head: bool
    order: int  # offset in the article: who is named first


@dataclass
class _Mention:
    sentence: Sentence
    trigger: int
    lemma: str
    status: MeetingStatus = MeetingStatus.HELD
    explicit: bool = False
    actors: list[_Actor] = field(default_factory=list)
    sides: list[str] = field(default_factory=list)
    date: EventDate | None = None
    location: Location | None = None
    format: MeetingFormat | None = None
    continuation: bool = False
    anaphoric: bool = False
    participation: bool = False

    @property
    def names(self) -> set[str]:
        return {a.person.name for a in self.actors}

    def all_sides(self) -> set[str]:
        return set(self.sides) | {a.side for a in self.actors if a.side}

    @property
    def bare(self) -> bool:
        return not self.actors and self.date is None and self.location is None

    @property
    def strong(self) -> bool:
        """Enough to open a meeting: named parties and an anchor (status word, date or place)."""
        anchor = self.explicit or self.date is not None or self.location is not None
        parties = len(self.all_sides()) + len([a for a in self.actors if not a.side])
        if self.lemma in lexicon.NEEDS_COMPANY and not self.actors and parties < 2:
            return False
        if self.continuation:
            return anchor
        return anchor and (parties >= 2 or len(self.actors) >= 2)


@dataclass
class _Meeting:
    mentions: list[_Mention]
    actors: list[_Actor] = field(default_factory=list)
    sides: list[str] = field(default_factory=list)
    status: MeetingStatus = MeetingStatus.HELD
    explicit: bool = False
    date: EventDate | None = None
    location: Location | None = None
    format: MeetingFormat | None = None
    lemmas: set[str] = field(default_factory=set)

    @property
    def names(self) -> set[str]:
        return {a.person.name for a in self.actors}

    def all_sides(self) -> set[str]:
        return set(self.sides) | {a.side for a in self.actors if a.side}

    @property
    def bare(self) -> bool:
        return not self.actors and self.date is None and self.location is None

    def absorb(self, mention: _Mention, *, full: bool) -> None:
        """Take a mention's evidence; with `full`, also its cast, status, date and place."""
        self.mentions.append(mention)
        if not full:  # a passing mention may still date it or say it was a call
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
        if mention.location is not None and (
            self.location is None or (self.location.place is None and mention.location.place)
        ):
            self.location = mention.location
        if mention.format in {MeetingFormat.PHONE, MeetingFormat.VIDEO} or self.format is None:
            self.format = mention.format


def find_meetings(
    sentences: list[Sentence], cast: Cast, text: str, published: dt.date | None
) -> list[Meeting]:
    """Every meeting the article states, one record per event."""
    meetings: list[_Meeting] = []
    last: _Meeting | None = None
    delegation: tuple[int, str] | None = None  # the side the last sentence's delegation is of
    for sentence in sentences:
        for mention in _mentions(sentence, cast, published):
            if mention.location is None and _there(sentence) and last is not None:
                mention.location = last.location
            if mention.participation:
                if len(set(mention.sides)) == 1:
                    delegation = (sentence.index, mention.sides[0])
                elif not mention.sides and delegation and delegation[0] == sentence.index - 1:
                    for actor in mention.actors:  # "В ее состав вошли …"
                        actor.side = actor.side or delegation[1]
            target = _home(mention, meetings, last)
            if target is not None:
                target.absorb(mention, full=mention.strong or mention.participation)
                last = target
            elif mention.strong:
                if mention.continuation and not mention.all_sides() and last is not None:
                    mention.sides = sorted(last.all_sides())
                meeting = _Meeting(mentions=[])
                meeting.absorb(mention, full=True)
                meeting.status = mention.status
                meetings.append(meeting)
                last = meeting
    for meeting in meetings:
        for actor in meeting.actors:
            if actor.role.text is None:
                actor.role = cast.first_role(actor.person.name) or actor.role
    return [_record(m, text) for m in meetings]


# --------------------------------------------------------------------------- mentions


def _mentions(sentence: Sentence, cast: Cast, published: dt.date | None) -> list[_Mention]:
    tokens = sentence.tokens
    triggers = _triggers(tokens)
    participation = _participation(tokens)
    if not triggers and not participation:
        return []
    regions = speaker_regions(sentence)
    if not triggers:
        mention = _Mention(sentence, participation, tokens[participation].lemma, participation=True)
        mentions = [mention]
    else:
        mentions = [
            _Mention(sentence, i, tokens[i].lemma, participation=participation is not None)
            for i in triggers
        ]
    anchor_of = lambda index: min(mentions, key=lambda m: abs(m.trigger - index))  # noqa: E731
    _assign_people(sentence, cast, regions, mentions, anchor_of)
    excluded = _excluded_tokens(regions)
    for index, side in side_markers(sentence, cast):
        if index in excluded:
            continue
        target = anchor_of(index)
        if side not in target.sides:
            target.sides.append(side)
    first_trigger = min(m.trigger for m in mentions)
    for index, location in places(sentence):
        for target in mentions if index < first_trigger else [anchor_of(index)]:
            target.location = target.location or location
    for mention in mentions:
        _classify(mention, tokens)
    tense = _TENSE.get(mentions[0].status)
    for found in find_dates(sentence.text, sentence.start, published, tense):
        index = _token_at(tokens, found.start)
        for target in mentions if index < first_trigger else [anchor_of(index)]:
            target.date = target.date or found.date
    for mention in mentions:
        if mention.date is None and mention.status == MeetingStatus.HELD and _just_now(tokens):
            mention.date = resolve_date("сегодня", published) if published else None
    return mentions


def _triggers(tokens: list[Token]) -> list[int]:
    found: list[int] = []
    for i, token in enumerate(tokens):
        noun = token.pos in {"NOUN", "PROPN"} and token.lemma in lexicon.TRIGGER_NOUNS
        verb = token.pos == "VERB" and (
            token.lemma in lexicon.TRIGGER_VERBS
            or (token.lemma in lexicon.RECEIVE and _receives_someone(tokens, i))
        )
        if not (noun or verb):
            continue
        if found and not _punct_between(tokens, found[-1], i):
            both_verbs = verb and tokens[found[-1]].pos == "VERB"
            if i - found[-1] <= _GAP or both_verbs:  # "посещал Россию и встречался с Путиным"
                continue
        found.append(i)
    return found


def _receives_someone(tokens: list[Token], i: int) -> bool:
    """'принял в Кремле Уиткоффа', not 'принял решение' or 'принял участие'."""
    for token in tokens[i + 1 : i + 6]:
        if token.pos == "PUNCT":
            return False
        if token.case == "Acc" and (token.pos == "PROPN" or token.lemma in lexicon.ROLE_NOUNS):
            return True
    return False


def _participation(tokens: list[Token]) -> int | None:
    """A sentence like 'Делегацию возглавит Костюков' or 'его сопровождал и Кушнер'."""
    for i, token in enumerate(tokens):
        if token.pos == "VERB" and token.lemma in lexicon.PARTICIPATION:
            if token.lemma in {"представлять", "входить", "войти"} and not any(
                t.lemma in {"делегация", "состав", "сторона"} for t in tokens
            ):
                continue
            return i
    return None


def _assign_people(sentence, cast, regions, mentions, anchor_of) -> None:  # type: ignore[no-untyped-def]
    tokens = sentence.tokens
    speakers = _speakers(sentence, regions)
    heads = _head_cues(tokens)
    markers = side_markers(sentence, cast)
    for person_mention in sentence.mentions:
        if person_mention.kind != "PER" or is_possessor(sentence, person_mention):
            continue
        if person_mention.first in speakers:
            continue
        person = cast.person(person_mention)
        role = role_of(sentence, person_mention, cast)
        side = person.side or role.side or _nearest_side(markers, person_mention.first)
        target = anchor_of(person_mention.first)
        if any(a.person.name == person.name for a in target.actors):
            continue
        target.actors.append(
            _Actor(
                person=person,
                role=role,
                side=side,
                head=person_mention.first in heads or role.head_of_state,
                order=person_mention.start,
            )
        )
    excluded = _excluded_tokens(regions)
    for index in range(len(tokens)):
        described = None if index in excluded else describe(sentence, index, cast)
        if described is None:
            continue
        person, role = described
        target = anchor_of(index)
        if all(a.person.name != person.name for a in target.actors):
            head = role.head_of_state or index in heads
            target.actors.append(
                _Actor(person, role, person.side or role.side, head, tokens[index].start)
            )
    for region in regions:
        if not region.subject_elided or region.content is None:
            continue
        for person_mention in sentence.mentions:
            if person_mention.kind == "PER" and region.first <= person_mention.first <= region.last:
                person = cast.person(person_mention)
                target = anchor_of(region.content[0])
                if all(a.person.name != person.name for a in target.actors):
                    role = role_of(sentence, person_mention, cast)
                    target.actors.insert(
                        0,
                        _Actor(person, role, person.side or role.side, False, person_mention.start),
                    )


def _speakers(sentence: Sentence, regions: list[SpeakerRegion]) -> set[int]:
    """First-token indices of people who speak rather than meet."""
    found: set[int] = set()
    for region in regions:
        for mention in sentence.mentions:
            if mention.kind != "PER" or not region.first <= mention.first <= region.last:
                continue
            if region.verb is None or mention.case in {"Nom", None} or region.subject_elided:
                found.add(mention.first)
    return found


def _excluded_tokens(regions: list[SpeakerRegion]) -> set[int]:
    excluded: set[int] = set()
    for region in regions:
        excluded.update(range(region.first, region.last + 1))
    return excluded


def _head_cues(tokens: list[Token]) -> set[int]:
    """Token indices of names that a 'возглавит'/'во главе с' makes heads."""
    heads: set[int] = set()
    for i, token in enumerate(tokens):
        if token.lemma in lexicon.HEAD_CUES and token.pos == "VERB":
            heads.update(
                j for j in range(i + 1, min(i + 8, len(tokens))) if tokens[j].pos == "PROPN"
            )
        if token.lemma == "глава" and i > 0 and tokens[i - 1].lemma == "во":
            heads.update(
                j for j in range(i + 1, min(i + 8, len(tokens))) if tokens[j].pos == "PROPN"
            )
    return heads


def _nearest_side(markers: list[tuple[int, str]], index: int) -> str | None:
    before = [side for i, side in markers if i < index]
    if before:
        return before[-1]
    return markers[0][1] if len(markers) == 1 else None


def _classify(mention: _Mention, tokens: list[Token]) -> None:
    """Status, format and the words that tie a mention to a neighbour."""
    i = mention.trigger
    window = [t.lemma for t in tokens[max(0, i - 3) : i]]
    sentence_lemmas = {t.lemma for t in tokens}
    mention.continuation = bool(
        {"следующий", "очередной", "новый", "отдельный"} & set(window)
        or ("еще" in window and "один" in window)
    )
    mention.anaphoric = bool(set(window) & lexicon.ANAPHORA) or bool(
        {"тогда", "там"} & sentence_lemmas
    )
    status = _status(mention, tokens)
    if status is not None:
        mention.status, mention.explicit = status
    if sentence_lemmas & lexicon.PHONE:
        mention.format = MeetingFormat.PHONE
    elif sentence_lemmas & lexicon.VIDEO:
        mention.format = MeetingFormat.VIDEO
    elif mention.lemma in _IN_PERSON or mention.participation:
        mention.format = MeetingFormat.IN_PERSON


def _status(mention: _Mention, tokens: list[Token]) -> tuple[MeetingStatus, bool] | None:
    """The status cue nearest the trigger; (status, explicit), explicit unless tense alone."""
    i = mention.trigger
    trigger = tokens[i]
    # Words right before a meeting noun: "по итогам встречи", "следующий раунд".
    for token in reversed(tokens[max(0, i - 3) : i]):
        if token.pos == "PUNCT":
            break
        if token.lemma in lexicon.PROPOSED_MODIFIERS:
            return MeetingStatus.PROPOSED, True
    lexical = _lexical_cue(tokens, i)
    if lexical is not None:
        return lexical, True
    for token in reversed(tokens[max(0, i - 3) : i]):
        if token.pos == "PUNCT":
            break
        past_participle = token.feats.get("VerbForm") == "Part" and token.tense == "Past"
        if token.lemma in lexicon.HELD_MODIFIERS or past_participle:
            return MeetingStatus.HELD, True
        if token.lemma in lexicon.PLANNED_MODIFIERS:
            return MeetingStatus.PLANNED, True
    if trigger.finite:
        return _by_tense(trigger), True
    verb = _nearest_verb(tokens, i)
    if verb is None:
        return None
    return _by_tense(verb), verb.lemma in lexicon.EVENT_VERBS


def _lexical_cue(tokens: list[Token], i: int) -> MeetingStatus | None:
    """Cancelled, postponed, proposed or planned, said in words in the trigger's clause."""
    lo, hi = _clause(tokens, i)
    best: tuple[tuple[int, int], MeetingStatus] | None = None
    for j in range(lo, hi + 1):
        token = tokens[j]
        status = None
        if token.lemma in lexicon.CANCEL:
            status = MeetingStatus.CANCELLED
        elif token.lemma in lexicon.POSTPONE:
            status = MeetingStatus.POSTPONED
        elif token.lemma in lexicon.PROPOSE or (
            token.lemma == "мочь"
            and j + 1 < len(tokens)
            and tokens[j + 1].lemma in lexicon.EVENT_VERBS
        ):
            status = MeetingStatus.PROPOSED
        elif token.lemma in lexicon.PLAN:
            status = MeetingStatus.PLANNED
        elif token.lemma == "не" and j + 1 < len(tokens) and tokens[j + 1].lemma == "состояться":
            status = MeetingStatus.CANCELLED
        if status is None:
            continue
        final = status in {MeetingStatus.CANCELLED, MeetingStatus.POSTPONED}
        rank = (0 if final else 1, abs(j - i))  # a call-off outweighs the plan it ends
        if best is None or rank < best[0]:
            best = (rank, status)
    return best[1] if best else None


def _clause(tokens: list[Token], i: int) -> tuple[int, int]:
    """The trigger's clause: between semicolons, colons and 'что'/'но'/'а' after a comma."""
    lo = i
    while lo > 0 and not _boundary(tokens, lo - 1):
        lo -= 1
    hi = i
    while hi + 1 < len(tokens) and not _boundary(tokens, hi + 1):
        hi += 1
    return lo, hi


def _boundary(tokens: list[Token], j: int) -> bool:
    token = tokens[j]
    if token.text in {";", ":", "—", "–"}:
        return True
    return token.lemma in {"что", "но", "а", "который"} and j > 0 and tokens[j - 1].text == ","


def _nearest_verb(tokens: list[Token], i: int) -> Token | None:
    lo, hi = _clause(tokens, i)
    best: tuple[int, int, Token] | None = None
    for j in range(lo, hi + 1):
        token = tokens[j]
        if not token.finite:
            continue
        rank = (0 if token.lemma in lexicon.EVENT_VERBS else 1, abs(j - i))
        if best is None or rank < best[:2]:
            best = (*rank, token)
    return best[2] if best else None


def _by_tense(verb: Token) -> MeetingStatus:
    tense = verb.feats.get("Tense")
    if tense == "Fut":
        return MeetingStatus.PLANNED
    if tense == "Pres" and verb.lemma in lexicon.EVENT_VERBS:
        return MeetingStatus.ONGOING
    return MeetingStatus.HELD


def _just_now(tokens: list[Token]) -> bool:
    """'встреча, только что закончившаяся': it ended on the day of publication."""
    return any(
        t.lemma == "только" and k + 1 < len(tokens) and tokens[k + 1].lemma == "что"
        for k, t in enumerate(tokens)
    )


def _there(sentence: Sentence) -> bool:
    """'Там же состоятся ...': the place of the meeting just named."""
    words = [t.lemma for t in sentence.tokens[:3]]
    return "там" in words


def _punct_between(tokens: list[Token], a: int, b: int) -> bool:
    return any(t.pos == "PUNCT" for t in tokens[a + 1 : b])


def _token_at(tokens: list[Token], offset: int) -> int:
    for i, token in enumerate(tokens):
        if token.start >= offset:
            return i
    return len(tokens) - 1


# --------------------------------------------------------------------------- merging


def _home(mention: _Mention, meetings: list[_Meeting], last: _Meeting | None) -> _Meeting | None:
    """The open meeting this mention is about, if any.

    First by identity: a shared person, place or date. Failing that, a mention
    pointing back ('тогда', 'такой контакт') or listing participants joins the
    meeting just named; a bare mention joins the latest with the same trigger
    word; a mention naming people joins a meeting of the same sides that has none.
    A further meeting of a series ('следующий раунд') never joins an earlier one.
    """
    if mention.continuation and mention.strong:
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


def _identity(mention: _Mention, meeting: _Meeting) -> float:
    """Shared people, place and date; a list of participants is tied by place and date only."""
    people = 0 if mention.participation else len(mention.names & meeting.names)
    return (
        3 * people
        + 2 * float(_same_place(mention.location, meeting.location))
        + 2 * float(mention.date is not None and meeting.date is not None)
    )


def _compatible(mention: _Mention, meeting: _Meeting) -> bool:
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
    if mention.explicit and meeting.explicit and mention.status != meeting.status:
        return False
    sides, their_sides = mention.all_sides(), meeting.all_sides()
    if len(their_sides) >= 2 and sides - their_sides and not mention.participation:
        return False
    disjoint = mention.names and meeting.names and not mention.names & meeting.names
    return not (disjoint and mention.strong and not mention.participation)


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
    a0, a1 = a.start, a.end or a.start
    b0, b1 = b.start, b.end or b.start
    return not (a1[: len(b0)] < b0[: len(a1)] or b1[: len(a0)] < a0[: len(b1)])


# --------------------------------------------------------------------------- records


def _record(meeting: _Meeting, text: str) -> Meeting:
    return Meeting(
        status=meeting.status,
        format=meeting.format,
        date=meeting.date,
        location=meeting.location,
        delegations=_delegations(meeting),
        evidence=[
            span_evidence(text, m.sentence.start, m.sentence.stop)
            for m in _distinct_sentences(meeting.mentions)[:_MAX_EVIDENCE]
        ],
    )


def _distinct_sentences(mentions: list[_Mention]) -> list[_Mention]:
    seen: set[int] = set()
    out: list[_Mention] = []
    for mention in mentions:
        if mention.sentence.index not in seen:
            seen.add(mention.sentence.index)
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


def _participant(actor: _Actor) -> Participant:
    return Participant(
        name=actor.person.name,
        name_en=actor.person.name_en,
        role=actor.role.text,
        organisation=actor.role.organisation,
    )
