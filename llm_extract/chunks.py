"""Long articles in chunks: where to cut, and one extraction again from the chunks' answers.

An article longer than a prompt takes is split into overlapping chunks cut at
paragraph or sentence ends (`split_text`); each chunk's answer is grounded on
its own text, its offsets moved back to the article (`shifted`), and the
records found twice in an overlap merged (`merge_extractions`). People are one
person by `score.same_person`, the rule scoring uses: a shared surname is not
enough when both give a first name («Иван Иванов» is not «Пётр Иванов»).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from llm_extract.aliases import fold
from llm_extract.schemas import (
    ArticleExtraction,
    Delegation,
    Evidence,
    Meeting,
    Participant,
    Position,
)
from llm_extract.score import same_person
from llm_extract.settings import CHUNK_OVERLAP, DEFAULT_CHUNK_CHARS

__all__ = ["CHUNK_OVERLAP", "DEFAULT_CHUNK_CHARS", "merge_extractions", "shifted", "split_text"]


def split_text(text: str, size: int, overlap: int = CHUNK_OVERLAP) -> list[tuple[int, str]]:
    """(offset, chunk) pairs covering `text`, cut at paragraph or sentence ends, overlapping."""
    if len(text) <= size:
        return [(0, text)]
    chunks: list[tuple[int, str]] = []
    start = 0
    while True:
        end = min(start + size, len(text))
        if end < len(text):
            end = _cut(text, start + size // 2, end)
        chunks.append((start, text[start:end]))
        if end >= len(text):
            return chunks
        start = _begin(text, max(end - overlap, start + 1), end)


def _cut(text: str, lo: int, hi: int) -> int:
    """The last paragraph end in text[lo:hi], else the last sentence end, else a space."""
    for mark in ("\n", ". ", "! ", "? ", " "):
        at = text.rfind(mark, lo, hi)
        if at != -1:
            return at + len(mark)
    return hi


def _begin(text: str, lo: int, hi: int) -> int:
    """The first paragraph, sentence or word start in text[lo:hi), so a chunk opens cleanly
    and still overlaps the one before (which ends at `hi`)."""
    for mark in ("\n", ". ", "! ", "? ", " "):
        at = text.find(mark, lo, hi)
        if at != -1 and at + len(mark) < hi:
            return at + len(mark)
    return lo


def shifted(extraction: ArticleExtraction, offset: int) -> ArticleExtraction:
    """`extraction` with every set span moved by `offset` (a chunk's start in the article)."""
    if offset == 0:
        return extraction

    def move(evidence: Evidence) -> Evidence:
        if evidence.start is None or evidence.end is None:
            return evidence
        return evidence.model_copy(
            update={"start": evidence.start + offset, "end": evidence.end + offset}
        )

    moved = extraction.model_copy(deep=True)
    for meeting in moved.meetings:
        meeting.evidence = [move(e) for e in meeting.evidence]
    for position in moved.positions:
        position.evidence = [move(e) for e in position.evidence]
        if position.quote is not None:
            position.quote = move(position.quote)
    return moved


def merge_extractions(parts: Sequence[ArticleExtraction]) -> ArticleExtraction:
    """One extraction from the chunks' extractions: a record found twice is kept once.

    Two records are one when their grounded evidence overlaps in the article, or,
    for meetings, when status, date, sides and people agree; for positions, when
    holder, side, stance and issue agree. The kept record gains the other's
    evidence and fills its empty fields from it.
    """
    meetings: list[Meeting] = []
    positions: list[Position] = []
    for part in parts:
        for meeting in part.meetings:
            _merge_into(meetings, meeting, _same_meeting, _absorb_meeting)
        for position in part.positions:
            _merge_into(positions, position, _same_position, _absorb_position)
    return ArticleExtraction(meetings=meetings, positions=positions)


R = TypeVar("R", Meeting, Position)


def _merge_into(
    kept: list[R], record: R, same: Callable[[R, R], bool], absorb: Callable[[R, R], None]
) -> None:
    """Fold `record` into its twin among `kept`, or keep a copy of it."""
    twin = next((k for k in kept if same(k, record)), None)
    if twin is None:
        kept.append(record.model_copy(deep=True))
    else:
        absorb(twin, record)


def _spans(evidence: Iterable[Evidence]) -> list[tuple[int, int]]:
    return [(e.start, e.end) for e in evidence if e.start is not None and e.end is not None]


def _overlap(a: Iterable[Evidence], b: Iterable[Evidence]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in _spans(a) for s2, e2 in _spans(b))


def _people(meeting: Meeting) -> list[Participant]:
    people = []
    for delegation in meeting.delegations:
        if delegation.head is not None:
            people.append(delegation.head)
        people.extend(delegation.members)
    return people


def _known(person: Participant, among: Iterable[Participant]) -> bool:
    return any(same_person(person, other) for other in among)


def _same_people(a: Sequence[Participant], b: Sequence[Participant]) -> bool:
    """Every person of each list is someone in the other."""
    return all(_known(p, b) for p in a) and all(_known(p, a) for p in b)


def _same_meeting(a: Meeting, b: Meeting) -> bool:
    if _overlap(a.evidence, b.evidence):
        return True
    people = _people(a)
    return (
        bool(people)
        and a.status == b.status
        and a.date == b.date
        and {d.side for d in a.delegations} == {d.side for d in b.delegations}
        and _same_people(people, _people(b))
    )


def _same_holder(a: Position, b: Position) -> bool:
    if a.holder is None or b.holder is None:
        return a.holder is None and b.holder is None
    return same_person(a.holder, b.holder)


def _same_position(a: Position, b: Position) -> bool:
    if _overlap(a.evidence, b.evidence):
        return True
    return (
        a.side == b.side
        and a.stance == b.stance
        and fold(a.issue) == fold(b.issue)
        and _same_holder(a, b)
    )


def _add_evidence(into: list[Evidence], new: Iterable[Evidence]) -> None:
    for evidence in new:
        if not _overlap([evidence], into) and all(e.text != evidence.text for e in into):
            into.append(evidence)


def _absorb_meeting(kept: Meeting, other: Meeting) -> None:
    _add_evidence(kept.evidence, other.evidence)
    kept.format = kept.format or other.format
    kept.date = kept.date or other.date
    kept.location = kept.location or other.location
    by_side = {d.side: d for d in kept.delegations}
    for delegation in other.delegations:
        mine = by_side.get(delegation.side)
        if mine is None:
            kept.delegations.append(delegation.model_copy(deep=True))
            continue
        mine.head = mine.head or delegation.head
        _add_people(mine, delegation.members)
    kept.topics.extend(t for t in other.topics if t not in kept.topics)
    kept.outcomes.extend(o for o in other.outcomes if o not in kept.outcomes)


def _add_people(delegation: Delegation, people: Iterable[Participant]) -> None:
    known = [*delegation.members, *([delegation.head] if delegation.head else [])]
    for person in people:
        if not _known(person, known):
            delegation.members.append(person)
            known.append(person)


def _absorb_position(kept: Position, other: Position) -> None:
    _add_evidence(kept.evidence, other.evidence)
    kept.quote = kept.quote or other.quote
    kept.holder = kept.holder or other.holder
    kept.side = kept.side or other.side
