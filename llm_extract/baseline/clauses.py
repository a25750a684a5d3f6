"""Who is speaking in a sentence: the speaker's words are not the event's cast.

"Песков подтвердил, что встреча запланирована" names Песков, but Песков is not at
the meeting; nor is whoever sends others ("Трамп поручил Уиткоффу встретиться …").
The speaker regions found here are token ranges whose people a meeting rule
must skip; `positions` reads the same regions to find holders.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_extract.baseline import lexicon
from llm_extract.baseline.nlp import Sentence, Token

__all__ = ["SpeakerRegion", "speaker_regions"]

_CLAUSE_END = frozenset(',;:—–-«»"()')


@dataclass(frozen=True, slots=True)
class SpeakerRegion:
    first: int  # token indices, inclusive
    last: int
    verb: int | None  # the speech verb, or None for "по словам"
    content: tuple[int, int] | None  # what was said: token range, inclusive
    subject_elided: bool  # the content's verb has no subject of its own: the speaker acts


def speaker_regions(sentence: Sentence) -> list[SpeakerRegion]:
    tokens = sentence.tokens
    regions: list[SpeakerRegion] = []
    n = len(tokens)
    for i, token in enumerate(tokens):
        words = _by_words(tokens, i)
        if words is not None:
            end = _clause_end(sentence, words + 1)
            content = (end + 1, n - 1) if end + 1 < n else None
            regions.append(SpeakerRegion(i, end, None, content, False))
            continue
        if token.pos != "VERB" or token.lemma not in lexicon.SPEECH_VERBS | lexicon.DIRECTING:
            continue
        if not token.finite:
            continue
        first = _clause_start(sentence, i)
        for j in range(i - 1, first - 1, -1):
            if tokens[j].finite:  # "провели переговоры и заявили": the subject did both
                first = j + 1
                break
        last = _clause_end(sentence, i + 1)
        content = None
        elided = False
        that = last + 1
        if that < n and tokens[that].text in {",", ":"}:
            that += 1
        if that < n and tokens[that].lemma in {"что", "чтобы"}:
            content = (that + 1, _sentence_or_clause_end(sentence, that + 1))
            elided = _subject_elided(sentence, that + 1)
        elif that < n and tokens[last].text == ":":
            content = (that, n - 1)
        regions.append(SpeakerRegion(first, last, i, content, elided))
    return regions


def _by_words(tokens: list[Token], i: int) -> int | None:
    """'по словам X', 'по его словам', 'по данным X': the index of 'словам', or None."""
    if tokens[i].lemma != "по":
        return None
    pronouns = {"его", "ее", "их", "он", "она", "они"}
    for j in (i + 1, i + 2):
        if (
            j < len(tokens)
            and tokens[j].lemma in {"слово", "данные", "мнение", "оценка"}
            and (j == i + 1 or tokens[i + 1].lemma in pronouns)
        ):
            return j
    return None


def _clause_start(sentence: Sentence, i: int) -> int:
    j = i
    while j > 0 and sentence.tokens[j - 1].text not in _CLAUSE_END:
        j -= 1
    return j


def _clause_end(sentence: Sentence, i: int) -> int:
    """The last token of the clause from `i`: before punctuation or 'и' joining another verb."""
    tokens = sentence.tokens
    j = i
    while j < len(tokens) and tokens[j].text not in _CLAUSE_END and tokens[j].pos != "PUNCT":
        if tokens[j].lemma == "и" and any(t.finite for t in tokens[j + 1 : j + 3]):
            break
        j += 1
    return max(i - 1, j - 1)


def _sentence_or_clause_end(sentence: Sentence, i: int) -> int:
    n = len(sentence.tokens)
    j = i
    while j < n and sentence.tokens[j].text not in {";", "."}:
        j += 1
    return j - 1


def _subject_elided(sentence: Sentence, i: int) -> bool:
    """'написал, что провел встречи', 'заявил, что готов встретиться': the predicate
    after 'что' has no subject before it, so it is the speaker's."""
    for token in sentence.tokens[i:]:
        if token.pos in {"NOUN", "PROPN", "PRON"} and token.feats.get("Case") == "Nom":
            return False
        if token.finite:
            return token.feats.get("Number") == "Sing" and token.feats.get("Tense") == "Past"
        if token.pos == "ADJ" and token.feats.get("Variant") == "Short":
            return token.feats.get("Gender") in {"Masc", "Fem"}  # not "невозможно"
        if token.text in _CLAUSE_END:
            return False
    return False
