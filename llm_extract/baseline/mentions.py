"""Meeting mentions: one per trigger word, with the people, sides, place and date near it.

A trigger is a meeting noun or verb ("переговоры", "встретились", "визит",
"принял Уиткоффа"). The sentence's people, side markers, places and dates go
to the nearest trigger; those stated before every trigger ("В минувшие
выходные в Майами прошли …, а также состоялись …") go to all. People who only
speak ("Песков подтвердил, что …") are left out; a speaker whose own verb
follows ("написал, что провел встречи") is kept. A sentence that only lists
participants ("Американскую делегацию представляли …") is a mention too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from llm_extract.baseline import lexicon
from llm_extract.baseline.clauses import SpeakerRegion, speaker_regions
from llm_extract.baseline.dates import DateMention, find_dates
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
from llm_extract.baseline.issues import issue_phrase
from llm_extract.baseline.nlp import Mention, Sentence, Token
from llm_extract.baseline.quotes import find_quotes
from llm_extract.baseline.status import TENSE, meeting_status
from llm_extract.normalise import resolve_date, side_code
from llm_extract.schemas import EventDate, Location, MeetingFormat, MeetingStatus

__all__ = [
    "Actor",
    "MeetingMention",
    "Parties",
    "QuotedSpeaker",
    "meeting_mentions",
    "quote_speakers",
]

_IN_PERSON = lexicon.words(
    "встреча встретиться встречаться переговоры переговор визит посетить посещать побывать "
    "заседание саммит раунд поездка принять принимать консультации консультация прилететь "
    "прилетать прибыть прибывать приехать"
)
_TALK = lexicon.words("говорить разговаривать общаться")
"""Verbs that are a call with 'по телефону' ('мы говорили с Трампом по телефону')."""
_FIRST_PERSON = lexicon.words("я мы")
_LIST_GLUE = re.compile(r"[\s,]*(?:и\s+)?")
_GAP = 2
"""Triggers this close (in tokens) are one mention: 'раунд переговоров', 'визит и переговоры'."""


@dataclass(frozen=True)
class QuotedSpeaker:
    """Who speaks a quotation: 'мы' inside it includes him, though named sentences away."""

    start: int
    stop: int
    sentence: Sentence
    mention: Mention


def quote_speakers(sentences: list[Sentence], text: str) -> list[QuotedSpeaker]:
    """Each quotation's speaker: the person after '», — сказал X', else before 'X сказал: «'."""
    found: list[QuotedSpeaker] = []
    for quote in find_quotes(text):
        if quote.attributed_after:
            where = next((s for s in sentences if s.start <= quote.stop < s.stop), None)
            people = [m for m in where.mentions if m.start > quote.stop] if where else []
            mention = people[0] if people else None
        else:
            where = next((s for s in sentences if s.start <= quote.start - 1 < s.stop), None)
            people = [m for m in where.mentions if m.stop < quote.start] if where else []
            mention = people[-1] if people else None
        if where is not None and mention is not None and mention.kind == "PER":
            found.append(QuotedSpeaker(quote.start, quote.stop, where, mention))
    return found


@dataclass
class Actor:
    person: Person
    role: Role
    side: str | None
    head: bool
    order: int  # offset in the article: who is named first


class Parties:
    """Who a mention or a meeting names: shared by both, since merging compares them."""

    actors: list[Actor]
    sides: list[str]
    date: EventDate | None
    location: Location | None

    @property
    def names(self) -> set[str]:
        return {a.person.name for a in self.actors}

    def all_sides(self) -> set[str]:
        return set(self.sides) | {a.side for a in self.actors if a.side}

    @property
    def bare(self) -> bool:
        return not self.actors and self.date is None and self.location is None


@dataclass
class MeetingMention(Parties):
    sentence: Sentence
    trigger: int
    lemma: str
    status: MeetingStatus = MeetingStatus.HELD
    explicit: bool = False  # the status is said in words, not only by a tense
    actors: list[Actor] = field(default_factory=list)
    sides: list[str] = field(default_factory=list)
    date: EventDate | None = None
    location: Location | None = None
    format: MeetingFormat | None = None
    continuation: bool = False  # "следующий раунд", "ещё одна встреча"
    anaphoric: bool = False  # "тогда", "такой контакт", "там же"
    participation: bool = False  # "участвовали", "делегацию возглавит"
    there: bool = False  # "Там же состоятся …": at the place just named
    we: bool = False  # "мы договорились встретиться" in a quotation: its speaker and company
    topic: str | None = None  # "Собеседники обсудили X": what the meeting just named was about

    @property
    def strong(self) -> bool:
        """Enough to open a meeting: named parties and an anchor (status word, date or place)."""
        anchor = self.explicit or self.date is not None or self.location is not None
        parties = len(self.all_sides()) + len([a for a in self.actors if not a.side])
        remote = self.format in {MeetingFormat.PHONE, MeetingFormat.VIDEO}
        if self.lemma in lexicon.NEEDS_COMPANY and not self.actors and parties < 2 and not remote:
            return False
        if self.topic is not None:
            return False  # a content sentence is about a meeting, never a new one
        if self.lemma in lexicon.ARRIVAL and len(self.all_sides()) < 2:
            return False  # "Вместе с ним прилетел X": company on the trip, not a meeting
        if self.continuation:
            return anchor
        if not parties and self.explicit and _single_day(self.date):
            return True  # "во время телефонного разговора 16 октября": the sides are the story's
        if self.we and self.explicit and self.date is not None:
            return True  # «Мы договорились встретиться в январе», — сказал X
        return anchor and (parties >= 2 or len(self.actors) >= 2)


def meeting_mentions(
    sentence: Sentence,
    cast: Cast,
    published: dt.date | None,
    quoted: Sequence[QuotedSpeaker] = (),
) -> list[MeetingMention]:
    """The sentence's meeting mentions, in order; none when it names no meeting."""
    tokens = sentence.tokens
    content = _content_verb(tokens)
    if content is not None:  # "Стороны обсудили X": evidence and a topic, never a meeting
        span = (content + 1, len(tokens) - 1)
        topic = issue_phrase(sentence, content, span, [])
        return [MeetingMention(sentence, content, tokens[content].lemma, topic=topic)]
    triggers = _triggers(tokens)
    participation = _participation(tokens)
    if not triggers and not participation:
        return []
    regions = speaker_regions(sentence)
    if not triggers:
        mention = MeetingMention(
            sentence, participation, tokens[participation].lemma, participation=True
        )
        mentions = [mention]
    else:
        mentions = [
            MeetingMention(sentence, i, tokens[i].lemma, participation=participation is not None)
            for i in triggers
        ]
    anchor_of = lambda index: min(mentions, key=lambda m: abs(m.trigger - index))  # noqa: E731
    _assign_people(sentence, cast, regions, anchor_of, quoted)
    _share_subject(mentions, tokens)
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
    for index, token in enumerate(tokens):  # "телефонный разговор": the medium of the nearest
        if token.lemma in lexicon.PHONE:
            anchor_of(index).format = MeetingFormat.PHONE
        elif token.lemma in lexicon.VIDEO:
            anchor_of(index).format = MeetingFormat.VIDEO
    tense = TENSE.get(mentions[0].status)
    dated: dict[int, list[DateMention]] = {}
    for found in find_dates(sentence, published, tense):
        index = _token_at(tokens, found.start)
        if _when_spoken(sentence, regions, index):
            continue
        for target in mentions if index < first_trigger else [anchor_of(index)]:
            dated.setdefault(id(target), []).append(_in_tense(found, target, published))
    mentions = [
        one for mention in mentions for one in _dated(mention, dated.get(id(mention), []), sentence)
    ]
    mentions = [m for m in mentions if not _only_talked_about(m, regions)]
    if not mentions:
        return []
    for mention in mentions:
        if mention.date is None and mention.status == MeetingStatus.HELD and _just_now(tokens):
            today = resolve_date("сегодня", published) if published else None
            mention.date = today.model_copy(update={"text": None}) if today else None  # not worded
    return mentions


def _triggers(tokens: list[Token]) -> list[int]:
    found: list[int] = []
    for i, token in enumerate(tokens):
        noun = token.pos in {"NOUN", "PROPN"} and token.lemma in lexicon.TRIGGER_NOUNS
        verb = token.pos == "VERB" and (
            token.lemma in lexicon.TRIGGER_VERBS
            or token.lemma in lexicon.ARRIVAL
            or (token.lemma in _TALK and any(t.lemma == "телефон" for t in tokens[i : i + 6]))
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


_GROUP = lexicon.words(
    "собеседник сторона министр лидер президент делегация участник переговорщик глава они мы"
)
_CONTENT = lexicon.words("обсудить обсуждать затронуть затрагивать обменяться рассмотреть")


def _content_verb(tokens: list[Token]) -> int | None:
    """'Собеседники/Стороны/Министры обсудили …': the verb, when a group that just met is its
    subject (within the first three words)."""
    for i, token in enumerate(tokens[:4]):
        if token.lemma in _CONTENT and token.pos == "VERB":
            subject = [t for t in tokens[:i] if t.lemma in _GROUP and t.case in {"Nom", None}]
            return i if subject and tokens[0].lemma != "не" else None
    return None


def _receives_someone(tokens: list[Token], i: int) -> bool:
    """'принял в Кремле Уиткоффа', 'где его примет Путин'; not 'принял решение' or
    'принял участие'. An animate accusative often comes tagged as a genitive."""
    if i > 0 and tokens[i - 1].pos == "PRON" and tokens[i - 1].lemma in {"он", "она", "они"}:
        return tokens[i - 1].case in {"Acc", "Gen"}
    subject = any(t.pos == "PROPN" and t.case == "Nom" for t in tokens[max(0, i - 3) : i])
    for token in tokens[i + 1 : i + 6]:
        if token.pos == "PUNCT":
            return False
        if (token.pos == "PROPN" and (subject or token.case != "Nom")) or (
            token.case in {"Acc", "Gen"} and token.lemma in lexicon.ROLE_NOUNS
        ):
            return True
    return False


def _participation(tokens: list[Token]) -> int | None:
    """A sentence like 'Делегацию возглавит Костюков' or 'его сопровождал и Кушнер'."""
    for i, token in enumerate(tokens):
        taking_part = i + 1 < len(tokens) and tokens[i + 1].lemma == "участие"
        if token.lemma in lexicon.RECEIVE and taking_part:  # "принял участие"
            return i
        verb_or_noun = token.pos == "VERB" or token.lemma == "участие"
        if verb_or_noun and token.lemma in lexicon.PARTICIPATION:
            listed = any(t.lemma in {"делегация", "состав", "сторона"} for t in tokens)
            # "Украину на переговорах представляли …" lists people too
            listed = listed or (token.lemma.startswith("представ") and _side_object(tokens, i))
            if token.lemma in {"представлять", "представить", "входить", "войти"} and not listed:
                continue
            return i
    return None


def _side_object(tokens: list[Token], verb: int) -> bool:
    """A country in the accusative before 'представлять': who the people stand for."""
    return any(
        t.pos == "PROPN" and t.case == "Acc" and side_code(t.text) is not None
        for t in tokens[max(0, verb - 4) : verb]
    )


def _assign_people(
    sentence: Sentence,
    cast: Cast,
    regions: list[SpeakerRegion],
    anchor_of: Callable[[int], MeetingMention],
    quoted: Sequence[QuotedSpeaker],
) -> None:
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
            Actor(
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
                Actor(person, role, person.side or role.side, head, tokens[index].start)
            )
    for index, token in enumerate(tokens):  # «Мы говорили с Трампом …», — сказал Зеленский
        if token.pos == "PRON" and token.lemma in _FIRST_PERSON and token.case in {"Nom", None}:
            here = [(sentence, m) for m in _quoting(sentence, regions)]
            here = here or [
                (q.sentence, q.mention) for q in quoted if q.start <= token.start < q.stop
            ]
            for said_in, speaker in here:
                person = cast.person(speaker)
                target = anchor_of(index)
                if all(a.person.name != person.name for a in target.actors):
                    role = role_of(said_in, speaker, cast)
                    side = person.side or role.side
                    target.actors.insert(0, Actor(person, role, side, False, speaker.start))
                    target.we = True
            break
    for index in _pronouns(tokens, excluded):
        found = cast.named_before(tokens[index].start)
        if found is None:
            continue
        person, role = found
        target = anchor_of(index)
        if all(a.person.name != person.name for a in target.actors):
            target.actors.append(
                Actor(person, role, person.side or role.side, False, tokens[index].start)
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
                        Actor(person, role, person.side or role.side, False, person_mention.start),
                    )


_THEN = lexicon.words("а и затем потом после чего также")


def _share_subject(mentions: list[MeetingMention], tokens: list[Token]) -> None:
    """'X провел переговоры с Y, а затем созвонился с Z': a later meeting verb with no subject
    of its own is X's too (two meetings, X in both)."""
    first = mentions[0]
    subject = [a for a in first.actors if a.order < tokens[first.trigger].start]
    for before, mention in pairwise(mentions):
        if tokens[mention.trigger].pos != "VERB" or not subject:
            continue
        between = tokens[before.trigger + 1 : mention.trigger]
        joined = any(
            t.text == "," and k + 1 < len(between) and between[k + 1].lemma in _THEN
            for k, t in enumerate(between)
        )
        own = any(t.pos == "PROPN" and t.case == "Nom" for t in between)
        if joined and not own:
            for actor in subject:
                if all(a.person.name != actor.person.name for a in mention.actors):
                    mention.actors.insert(0, replace(actor))


def _only_talked_about(mention: MeetingMention, regions: list[SpeakerRegion]) -> bool:
    """'на брифинге заявил, что Киев настаивает на участии … в переговорах': a meeting word in
    what someone said, with no status, time or place of its own, is no meeting mention."""
    if (
        mention.explicit
        or mention.date
        or mention.location
        or (mention.participation and mention.actors)
    ):
        return False
    return any(
        r.content is not None
        and not r.subject_elided
        and r.content[0] <= mention.trigger <= r.content[1]
        for r in regions
    )


def _when_spoken(sentence: Sentence, regions: list[SpeakerRegion], index: int) -> bool:
    """'Песков на брифинге в среду сказал, что …': a date of the speaking, not of the meeting
    (unlike 'Трамп поручил Уиткоффу встретиться с ним на следующей неделе')."""
    tokens = sentence.tokens
    return any(
        region.first <= index <= region.last
        and (region.verb is None or tokens[region.verb].lemma in lexicon.SPEECH_VERBS)
        for region in regions
    )


def _pronouns(tokens: list[Token], excluded: set[int]) -> list[int]:
    """'где его примет Путин', 'он встретится с Путиным', 'вместе с ним прилетел', 'его
    переговоры с X': a person pronoun a meeting word governs stands for the last person named."""
    found: list[int] = []
    for i, token in enumerate(tokens):
        if i in excluded:
            continue
        if token.pos == "DET" and token.lemma in {"его", "ее", "её"}:  # "его переговоры"
            if i + 1 < len(tokens) and tokens[i + 1].lemma in lexicon.TRIGGER_NOUNS:
                found.append(i)
            continue
        if token.pos != "PRON" or token.lemma not in {"он", "она"}:
            continue
        lo, hi = max(0, i - 3), min(len(tokens), i + 4)
        if any(
            t.pos == "VERB"
            and (
                t.lemma in lexicon.TRIGGER_VERBS
                or t.lemma in lexicon.RECEIVE
                or t.lemma in lexicon.ARRIVAL
            )
            for t in tokens[lo:hi]
        ):
            found.append(i)
    return found


def _quoting(sentence: Sentence, regions: list[SpeakerRegion]) -> list[Mention]:
    """The people a '— сказал X' after the quotation names: who 'мы' in it includes."""
    return [
        m
        for region in regions
        if region.verb is not None and region.content is None
        for m in sentence.mentions
        if m.kind == "PER" and region.verb < m.first <= region.last
    ]


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


def _classify(mention: MeetingMention, tokens: list[Token]) -> None:
    """Status, format and the words that tie a mention to a neighbour."""
    i = mention.trigger
    window = [t.lemma for t in tokens[max(0, i - 3) : i]]
    sentence_lemmas = {t.lemma for t in tokens}
    mention.continuation = bool(
        lexicon.CONTINUATION & set(window) or ("еще" in window and "один" in window)
    )
    mention.anaphoric = bool(set(window) & lexicon.ANAPHORA) or bool(
        {"тогда", "там"} & sentence_lemmas
    )
    mention.there = "там" in [t.lemma for t in tokens[:3]]
    status = meeting_status(tokens, i)
    if status is not None:
        mention.status, mention.explicit = status
    if mention.lemma in _IN_PERSON or mention.participation:
        mention.format = MeetingFormat.IN_PERSON


def _single_day(date: EventDate | None) -> bool:
    return date is not None and date.end is None and date.start.count("-") == 2


def _in_tense(
    found: DateMention, mention: MeetingMention, published: dt.date | None
) -> DateMention:
    """The date read in its own meeting's tense: '3 ноября' of a past call is last November."""
    tense = TENSE.get(mention.status)
    if published is None or found.date.text is None or tense is None:
        return found
    date = resolve_date(found.date.text, published, tense=tense)
    return replace(found, date=date) if date is not None else found


def _dated(
    mention: MeetingMention, found: list[DateMention], sentence: Sentence
) -> list[MeetingMention]:
    """The mention with its date; one copy per day when it lists several ('16 мая, 2 июня и
    23 июля'): each day of a list is a meeting of its own."""
    listed = _listed_days(found, sentence)
    if len(listed) < 2:
        mention.date = found[0].date if found else None
        return [mention]
    return [
        replace(mention, date=day.date, actors=list(mention.actors), sides=list(mention.sides))
        for day in listed
    ]


def _listed_days(found: list[DateMention], sentence: Sentence) -> list[DateMention]:
    """The longest run of single days joined only by commas and 'и'."""
    best: list[DateMention] = []
    run: list[DateMention] = []
    for date in found:
        if not _single_day(date.date):
            run = []
            continue
        between = (
            sentence.text[run[-1].stop - sentence.start : date.start - sentence.start]
            if run
            else ""
        )
        run = [*run, date] if run and _LIST_GLUE.fullmatch(between) else [date]
        if len(run) > len(best):
            best = run
    return best


def _just_now(tokens: list[Token]) -> bool:
    """'встреча, только что закончившаяся': it ended on the day of publication."""
    return any(
        t.lemma == "только" and k + 1 < len(tokens) and tokens[k + 1].lemma == "что"
        for k, t in enumerate(tokens)
    )


def _punct_between(tokens: list[Token], a: int, b: int) -> bool:
    return any(t.pos == "PUNCT" for t in tokens[a + 1 : b])


def _token_at(tokens: list[Token], offset: int) -> int:
    for i, token in enumerate(tokens):
        if token.start >= offset:
            return i
    return len(tokens) - 1
