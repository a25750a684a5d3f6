"""Who is speaking in a sentence: the speaker's words are not the event's cast.

"Песков подтвердил, что встреча запланирована" names Песков, but Песков is not at
the meeting. The speaker regions found here are token ranges whose people a
meeting rule must skip; `positions` reads the same regions to find holders.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_extract.baseline import lexicon
from llm_extract.baseline.nlp import Sentence

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
        if token.lemma == "по" and i + 1 < n and tokens[i + 1].lemma in {"слово", "данные"}:
            end = _clause_end(sentence, i + 2)
            regions.append(
                SpeakerRegion(i, end, None, (end + 1, n - 1) if end + 1 < n else None, False)
            )
            continue
        if token.pos != "VERB" or token.lemma not in lexicon.SPEECH_VERBS:
            continue
        if not token.finite:
            continue
        first = _clause_start(sentence, i)
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


def _clause_start(sentence: Sentence, i: int) -> int:
    j = i
    while j > 0 and sentence.tokens[j - 1].text not in _CLAUSE_END:
        j -= 1
    return j


def _clause_end(sentence: Sentence, i: int) -> int:
    j = i
    n = len(sentence.tokens)
    while (
        j < n and sentence.tokens[j].text not in _CLAUSE_END and sentence.tokens[j].pos != "PUNCT"
    ):
        j += 1
    return max(i - 1, j - 1)


def _sentence_or_clause_end(sentence: Sentence, i: int) -> int:
    n = len(sentence.tokens)
    j = i
    while j < n and sentence.tokens[j].text not in {";", "."}:
        j += 1
    return j - 1


def _subject_elided(sentence: Sentence, i: int) -> bool:
    """'написал, что провел встречи': the verb after 'что' has no subject before it."""
    for token in sentence.tokens[i:]:
        if token.pos in {"NOUN", "PROPN", "PRON"} and token.feats.get("Case") == "Nom":
            return False
        if token.finite:
            return token.feats.get("Number") == "Sing" and token.feats.get("Tense") == "Past"
        if token.text in _CLAUSE_END:
            return False
    return False
