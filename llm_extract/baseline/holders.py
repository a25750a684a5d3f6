"""Who holds a position: the subject of a speech or stance verb, resolved to a person or side.

The subject is the nearest candidate before the verb in its clause, else right
after it ("— заявил Рубио"; "по словам Уиткоффа"). A pronoun is the last person
named; a title without a name ("Спецпосланник Путина", "представитель РФ") is
the one person the article gives it, else the last person named on its side,
else the side itself; a place that speaks ("в Кремле отказались", "Киев не
согласен") is its side.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_extract.baseline import lexicon
from llm_extract.baseline.entities import Cast, Person, describe, is_possessor, role_of
from llm_extract.baseline.nlp import Mention, Sentence, Token
from llm_extract.normalise import side_code
from llm_extract.schemas import Participant

__all__ = ["Holder", "Memory", "find_holder"]

_PRONOUNS = lexicon.words("он она")
_OPINION = lexicon.words("слово мнение оценка")


@dataclass(frozen=True)
class Holder:
    person: Person | None
    participant: Participant | None
    side: str | None


class Memory:
    """People named so far, for 'он' and for titles without a name."""

    def __init__(self) -> None:
        self.people: list[tuple[int, Person, Participant]] = []
        self.speakers: list[tuple[int, Holder]] = []

    def spoke(self, offset: int, holder: Holder) -> None:
        """A person found speaking: 'по его мнению' later means him, not the last name."""
        if holder.person is not None:
            self.speakers.append((offset, holder))

    def last_speaker(self, before: int) -> Holder | None:
        return next((h for start, h in reversed(self.speakers) if start < before), None)

    def see(self, sentence: Sentence, cast: Cast) -> None:
        for mention in sentence.mentions:
            if mention.kind == "PER" and (
                not is_possessor(sentence, mention) or _after_words(sentence.tokens, mention)
            ):
                self.people.append(
                    (mention.start, cast.person(mention), _participant(sentence, mention, cast))
                )

    def last(self, before: int, side: str | None = None) -> tuple[Person, Participant] | None:
        """The last person named before an offset, on a side if given."""
        for start, person, participant in reversed(self.people):
            if start < before and (side is None or person.side == side):
                return person, participant
        return None


def find_holder(sentence: Sentence, anchor: int, cast: Cast, memory: Memory) -> Holder | None:
    """The anchor's subject: nearest before it in the clause, else just after it."""
    tokens = sentence.tokens
    lo = anchor
    while lo > 0 and not _subject_boundary(tokens, lo - 1):
        lo -= 1
    hi = anchor
    while hi + 1 < len(tokens) and tokens[hi + 1].text not in {",", ".", ";", ":", "«", '"'}:
        hi += 1
    before = list(range(anchor - 1, lo - 1, -1))
    after = list(range(anchor + 1, hi + 1))
    if tokens[anchor].lemma == "по":  # "по словам X": X follows
        before, after = [], list(range(anchor + 1, hi + 1))
    for index in before + after:
        holder = _holder_at(sentence, index, cast, memory, tokens[anchor].start, index == lo)
        if holder is not None:
            return holder
    return None


def _subject_boundary(tokens: list[Token], j: int) -> bool:
    token = tokens[j]
    if token.text in {";", ":", "—", "–", "«", "»", '"', "(", ")"}:
        return True
    return token.lemma in {"что", "который", "поскольку", "потому", "если", "как", "чтобы"}


def _holder_at(
    sentence: Sentence, index: int, cast: Cast, memory: Memory, offset: int, first: bool
) -> Holder | None:
    """Who a token names as the holder; `first`: it opens the clause, so it is the subject
    whatever case the tagger gave it."""
    tokens = sentence.tokens
    token = tokens[index]
    mention = next((m for m in sentence.mentions if m.first <= index <= m.last), None)
    if mention is not None and mention.kind == "PER":
        speaker = _after_words(tokens, mention)
        subject = mention.case in {"Nom", None} or (first and index == mention.first)
        if not speaker and (is_possessor(sentence, mention) or not subject):
            return None
        person = cast.person(mention)
        return Holder(
            person, _participant(sentence, mention, cast), _side_of(sentence, mention, cast)
        )
    if mention is not None and index == mention.first and mention.case in {"Nom", "Loc", None}:
        code = side_code(mention.normal)
        if code and (mention.case != "Loc" or _venue_speaks(tokens, mention)):
            return Holder(None, None, code)
    if token.lemma in _PRONOUNS and token.pos == "PRON" and token.case in {"Nom", "Gen", None}:
        found = memory.last(offset)
        if found is not None:
            return Holder(found[0], found[1], found[0].side)
    if (
        token.lemma in {"его", "ее"}
        and index + 1 < len(tokens)
        and tokens[index + 1].lemma in _OPINION
    ):  # "по его словам", "по её мнению": whoever spoke last, else the last person named
        speaker = memory.last_speaker(offset)
        if speaker is not None:
            return speaker
        found = memory.last(offset)
        if found is not None:
            return Holder(found[0], found[1], found[0].side)
    if token.lemma in lexicon.ROLE_NOUNS and token.case == "Nom":
        if _named_after(sentence, index):
            return None  # "— сказал пресс-секретарь президента России Дмитрий Песков": the name
        described = describe(sentence, index, cast)
        if described is not None:
            person, role = described
            participant = Participant(name=person.name, name_en=person.name_en, role=role.text)
            return Holder(person, participant, person.side or role.side)
        side = _role_side(sentence, index, cast)
        members = _including(sentence, index, cast)
        if members is not None:
            return members
        found = memory.last(offset, side) if side else None
        if found is not None and token.feats.get("Number") != "Plur":
            return Holder(found[0], found[1], found[0].side)
        return Holder(None, None, side) if side else None
    return None


def _named_after(sentence: Sentence, index: int) -> bool:
    """A title whose holder is named after it, before the clause ends."""
    for mention in sentence.mentions:
        if mention.kind == "PER" and mention.first > index and not mention.after_role:
            between = sentence.tokens[index + 1 : mention.first]
            return len(between) <= 8 and not any(t.pos == "PUNCT" for t in between)
    return False


def _side_of(sentence: Sentence, mention: Mention, cast: Cast) -> str | None:
    """A person's side: the alias table's, else the one his title names ('канцлер Германии')."""
    person = cast.person(mention)
    if person.side:
        return person.side
    role = role_of(sentence, mention, cast)
    if role.side is None:
        role = cast.first_role(person.name) or role
    return role.side


def _after_words(tokens: list[Token], mention: Mention) -> bool:
    """'по словам Уиткоффа': a genitive that is the speaker, not a possessor."""
    window = [t.lemma for t in tokens[max(0, mention.first - 4) : mention.first]]
    return "слово" in window or "данные" in window


def _venue_speaks(tokens: list[Token], mention: Mention) -> bool:
    """'в Кремле отказались', 'в России заявили': a place stands for who speaks there."""
    if mention.first == 0 or tokens[mention.first - 1].lemma != "в":
        return False
    for token in tokens[mention.last + 1 : mention.last + 4]:
        if token.finite:
            return True
        if token.pos not in {"ADV", "PART"}:
            return False
    return False


def _role_side(sentence: Sentence, index: int, cast: Cast) -> str | None:
    """The side a title belongs to: 'представитель РФ', 'Спецпосланник Путина', 'российский'."""
    tokens = sentence.tokens
    if index > 0 and tokens[index - 1].lemma in lexicon.SIDE_ADJECTIVES:
        return lexicon.SIDE_ADJECTIVES[tokens[index - 1].lemma]
    for mention in sentence.mentions:
        if index < mention.first <= index + 3:
            if mention.kind == "PER":
                return cast.person(mention).side
            return side_code(mention.normal)
    return None


def _including(sentence: Sentence, index: int, cast: Cast) -> Holder | None:
    """'Российские представители, включая Путина, …': the one member named."""
    tokens = sentence.tokens
    for j in range(index + 1, min(index + 4, len(tokens))):
        if tokens[j].lemma == "включая":
            mention = next(
                (m for m in sentence.mentions if m.first == j + 1 and m.kind == "PER"), None
            )
            if mention is not None:
                person = cast.person(mention)
                return Holder(person, _participant(sentence, mention, cast), person.side)
    return None


def _participant(sentence: Sentence, mention: Mention, cast: Cast) -> Participant:
    role = role_of(sentence, mention, cast)
    if role.text is None:
        role = cast.first_role(cast.person(mention).name) or role
    return cast.participant(mention, role)
