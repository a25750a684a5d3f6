"""Whether a meeting took place, is under way, is planned, proposed, cancelled or postponed.

Cue words in the trigger's clause decide first (a call-off outweighs the plan
it ends; otherwise the nearest wins), then words just before a meeting noun
("по итогам встречи", "следующий раунд"), then the tense of the trigger verb
or of the nearest verb in its clause.
"""

from __future__ import annotations

from llm_extract.baseline import lexicon
from llm_extract.baseline.nlp import Token
from llm_extract.normalise import Tense
from llm_extract.schemas import MeetingStatus

__all__ = ["TENSE", "meeting_status"]

TENSE: dict[MeetingStatus, Tense] = {
    MeetingStatus.HELD: "past",
    MeetingStatus.PLANNED: "future",
    MeetingStatus.PROPOSED: "future",
}
"""The tense a status reads weekdays in: 'в четверг' before or after publication."""

_BACKDROP = {("в", "время"), ("в", "ход")}
_HAPPENED = lexicon.words(
    "состояться пройти проходить продлиться длиться завершиться закончиться начаться открыться"
)
"""Verbs whose subject is the meeting itself: their tense outweighs 'очередной', 'новый'."""


def meeting_status(tokens: list[Token], i: int) -> tuple[MeetingStatus, bool] | None:
    """The status cue nearest the trigger; (status, explicit), explicit unless tense alone."""
    trigger = tokens[i]
    # Words right before a meeting noun: "по итогам встречи", "следующий раунд".
    for token in reversed(tokens[max(0, i - 3) : i]):
        if token.pos == "PUNCT":
            break
        if token.lemma in lexicon.PROPOSED_MODIFIERS:
            return MeetingStatus.PROPOSED, True
    if _backdrop(tokens, i):  # "условились во время телефонного разговора": it took place
        verb = _nearest_verb(tokens, i)
        if verb is not None:
            return _by_tense(verb), True
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
            verb = _nearest_verb(tokens, i)
            if verb is not None and verb.lemma in _HAPPENED and verb.tense == "Past":
                return MeetingStatus.HELD, True  # "очередной раунд прошел": it is the verb's
            return MeetingStatus.PLANNED, True
    if trigger.finite:
        return _by_tense(trigger), True
    if trigger.feats.get("VerbForm") == "Inf":  # "поручил встретиться": still to happen
        done = i > 0 and tokens[i - 1].lemma in {"удаться", "смочь", "успеть"}
        return (MeetingStatus.HELD, True) if done else (MeetingStatus.PLANNED, False)
    verb = _nearest_verb(tokens, i)
    if verb is None:
        return None
    return _by_tense(verb), verb.lemma in lexicon.EVENT_VERBS


def _backdrop(tokens: list[Token], i: int) -> bool:
    """'во время разговора', 'в ходе переговоров': the meeting is when the clause's event
    happened, so the clause's tense is its status, not the clause's plan words."""
    return (i >= 2 and (tokens[i - 2].lemma, tokens[i - 1].lemma) in _BACKDROP) or (
        i >= 3
        and (tokens[i - 3].lemma, tokens[i - 2].lemma) in _BACKDROP
        and tokens[i - 1].pos == "ADJ"
    )


def _lexical_cue(tokens: list[Token], i: int) -> MeetingStatus | None:
    """Cancelled, postponed, proposed or planned, said in words in the trigger's clause.

    The main predicate after a relative clause ("Встреча, которая была запланирована на
    …, перенесена") is the trigger's own and outranks everything said inside it."""
    lo, hi = _clause(tokens, i)
    main = _after_relative(tokens, hi)
    best: tuple[tuple[int, int, int], MeetingStatus] | None = None
    for j in [*range(lo, hi + 1), *main]:
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
        elif token.lemma in {"исключить", "исключать"} and _negated(tokens, j):
            status = MeetingStatus.PROPOSED  # "не исключил встречи"
        elif token.lemma in lexicon.PLAN and not _negated(tokens, j):
            status = MeetingStatus.PLANNED
        elif token.lemma == "не" and j + 1 < len(tokens) and tokens[j + 1].lemma == "состояться":
            status = MeetingStatus.CANCELLED
        if status is None:
            continue
        final = status in {MeetingStatus.CANCELLED, MeetingStatus.POSTPONED}
        # the main predicate first; then a call-off outweighs the plan it ends
        rank = (0 if j in main else 1, 0 if final else 1, abs(j - i))
        if best is None or rank < best[0]:
            best = (rank, status)
    return best[1] if best else None


def _after_relative(tokens: list[Token], hi: int) -> range:
    """The rest of the main clause when the trigger's clause ends at ', который …,'."""
    if hi + 1 >= len(tokens) or tokens[hi + 1].lemma != "который":
        return range(0)
    close = next((k for k in range(hi + 2, len(tokens)) if tokens[k].text == ","), None)
    if close is None:
        return range(0)
    end = close + 1
    while end < len(tokens) and not _boundary(tokens, end) and tokens[end].text != ",":
        end += 1
    return range(close + 1, end)


def _negated(tokens: list[Token], j: int) -> bool:
    return j > 0 and tokens[j - 1].lemma == "не"


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
    for j in [*range(lo, hi + 1), *_after_relative(tokens, hi)]:
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
