"""natasha, loaded once per process, and the article as sentences of tagged tokens.

The rest of the baseline reads only the records built here: tokens with lemma,
part of speech and case; named mentions with a nominative form; sentences cut
at line breaks as well as at full stops (headlines carry no full stop).
Known natasha slips are repaired here, once, so no rule downstream sees them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from llm_extract.baseline.lexicon import RELATIONAL, ROLE_NOUNS
from llm_extract.normalise import person_entry

__all__ = ["Mention", "Sentence", "Token", "dependencies", "load_models", "parse"]

_LOCK = threading.Lock()
_SPLIT = re.compile(r"\n+")
_MORPH_BATCH = 16
"""Sentences per morphology batch: measured fastest on the seeds (8: 0.023 s, 16: 0.021 s)."""


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    stop: int
    lemma: str
    pos: str
    feats: dict[str, str]

    @property
    def case(self) -> str | None:
        return self.feats.get("Case")

    @property
    def tense(self) -> str | None:
        return self.feats.get("Tense")

    @property
    def finite(self) -> bool:
        """A verb form with tense: finite, or a short participle ('запланирована')."""
        if self.pos not in {"VERB", "AUX"}:
            return False
        form = self.feats.get("VerbForm")
        if form == "Part":
            return self.feats.get("Variant") == "Short"
        return form == "Fin" or (form is None and "Tense" in self.feats)


@dataclass(slots=True)
class Mention:
    """A named person, place or organisation as natasha found it, repaired."""

    kind: str  # PER, LOC, ORG
    start: int
    stop: int
    text: str
    normal: str
    first: int  # index of its first token in the sentence
    last: int  # index of its last token in the sentence (inclusive)
    case: str | None
    after_role: bool = False  # a title glued to it makes it someone else's ("Спецпосланник Путина")


@dataclass(slots=True)
class Sentence:
    index: int
    start: int
    stop: int
    text: str
    tokens: list[Token] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    arcs: list[tuple[int, str]] | None = None  # (head index or -1, relation) once parsed


@dataclass(frozen=True, slots=True)
class _Models:
    segmenter: Any
    morph: Any
    ner: Any
    vocab: Any
    syntax: Any
    blas: Any
    """numpy's BLAS threads (threadpoolctl), held at one while natasha runs."""

    @contextmanager
    def running(self) -> Iterator[None]:
        """One article at a time (the taggers keep per-call state), on one BLAS thread:
        natasha's small matrices gain nothing from more, and on 2 cores OpenBLAS's
        spinning threads doubled the CPU a run costs (12-13 s for 30 articles, 5-6 s
        pinned)."""
        with _LOCK, self.blas.limit(limits=1, user_api="blas"):
            yield


@cache
def _models() -> _Models:
    from natasha import (
        MorphVocab,
        NewsEmbedding,
        NewsMorphTagger,
        NewsNERTagger,
        NewsSyntaxParser,
        Segmenter,
    )

    embedding = NewsEmbedding()
    morph = NewsMorphTagger(embedding)
    morph.batch_size = morph.infer.encoder.batch_size = _MORPH_BATCH
    from threadpoolctl import ThreadpoolController

    return _Models(
        Segmenter(),
        morph,
        NewsNERTagger(embedding),
        MorphVocab(),
        NewsSyntaxParser(embedding),
        ThreadpoolController(),  # after natasha has loaded numpy, so it sees its BLAS
    )


def load_models() -> None:
    """Load natasha's embeddings and taggers now rather than on the first article."""
    with _LOCK:
        _models()


def parse(text: str) -> list[Sentence]:
    """Sentences of `text` with tokens and repaired mentions; offsets point into `text`."""
    from natasha import Doc

    models = _models()
    doc = Doc(text)
    with models.running():
        doc.segment(models.segmenter)
        _tag_morph(doc, models.morph)
        doc.tag_ner(models.ner)
    tokens = [
        Token(
            t.text,
            t.start,
            t.stop,
            models.vocab.lemmatize(t.text, t.pos, t.feats).replace("ё", "е"),
            t.pos,
            dict(t.feats),
        )
        for t in doc.tokens
    ]
    sentences = _sentences(text, [(s.start, s.stop) for s in doc.sents], tokens)
    for span in doc.spans:
        span.normalize(models.vocab)
        _place_mention(sentences, span, models.vocab)
    for sentence in sentences:
        _known_people(sentence)
    return sentences


def dependencies(sentence: Sentence) -> list[tuple[int, str]]:
    """natasha's dependency parse of one sentence: (head index or -1, relation) per token.

    Parsed on first request and kept: only the few sentences that carry a position
    need it, and parsing every sentence would nearly double the per-article cost.
    """
    if sentence.arcs is None:
        words = [t.text for t in sentence.tokens]
        arcs: list[tuple[int, str]] = []
        if words:
            models = _models()
            with models.running():
                markup = next(iter(models.syntax.map([words])))
            arcs = [(int(t.head_id) - 1, t.rel) for t in markup.tokens]
        sentence.arcs = arcs
    return sentence.arcs


def _known_people(sentence: Sentence) -> None:
    """Names natasha missed that the alias table knows ('Уиткофф в соцсети Х написал')."""
    covered = {i for m in sentence.mentions for i in range(m.first, m.last + 1)}
    for i, token in enumerate(sentence.tokens):
        word = token.text
        if i in covered or not word[:1].isupper() or word.isupper() or len(word) < 3:
            continue
        if token.pos not in {"PROPN", "NOUN"} or person_entry(word) is None:
            continue
        sentence.mentions.append(
            Mention("PER", token.start, token.stop, word, word, i, i, token.case)
        )
    sentence.mentions.sort(key=lambda m: m.start)


def _tag_morph(doc: Any, tagger: Any) -> None:
    """natasha's morphology, with sentences batched by length: padding is most of the cost."""
    sents = sorted(doc.sents, key=lambda s: len(s.tokens))
    markups = tagger.map([[t.text for t in s.tokens] for s in sents])
    for sent, markup in zip(sents, markups, strict=True):
        for target, source in zip(sent.tokens, markup.tokens, strict=True):
            target.pos, target.feats = source.pos, source.feats


def _sentences(text: str, bounds: list[tuple[int, int]], tokens: list[Token]) -> list[Sentence]:
    """natasha's sentences, cut again at line breaks: a headline is a sentence."""
    pieces: list[tuple[int, int]] = []
    for start, stop in bounds:
        pos = start
        for gap in _SPLIT.finditer(text, start, stop):
            pieces.append((pos, gap.start()))
            pos = gap.end()
        pieces.append((pos, stop))
    sentences: list[Sentence] = []
    queue = iter(tokens)
    token = next(queue, None)
    for start, stop in pieces:
        chunk = text[start:stop]
        lead = len(chunk) - len(chunk.lstrip())
        start, stop = start + lead, start + len(chunk.rstrip())
        if stop <= start:
            continue
        sentence = Sentence(len(sentences), start, stop, text[start:stop])
        while token is not None and token.start < stop:
            if token.start >= start:
                sentence.tokens.append(token)
            token = next(queue, None)
        sentences.append(sentence)
    return sentences


def _place_mention(sentences: list[Sentence], span: Any, vocab: Any) -> None:
    sentence = next((s for s in sentences if s.start <= span.start < s.stop), None)
    if sentence is None:
        return
    indices = [i for i, t in enumerate(sentence.tokens) if span.start <= t.start < span.stop]
    if not indices:
        return
    first, last = indices[0], indices[-1]
    mention = Mention(
        kind=span.type,
        start=span.start,
        stop=min(span.stop, sentence.stop),
        text=span.text,
        normal=span.normal or span.text,
        first=first,
        last=last,
        case=sentence.tokens[last].case,
    )
    mention = _repair(mention, sentence, vocab)
    if mention is not None:
        mention.text = sentence.text[mention.start - sentence.start : mention.stop - sentence.start]
        sentence.mentions.append(mention)


def _repair(mention: Mention, sentence: Sentence, vocab: Any) -> Mention | None:
    """Undo natasha's known slips, or drop the mention when nothing named is left."""
    tokens = sentence.tokens[mention.first : mention.last + 1]
    if all(len(t.text) <= 1 for t in tokens):
        return None  # "Х" (the social network), stray initials
    if mention.kind == "PER":
        lead = 0
        while lead < len(tokens) and _is_title(sentence, mention.first + lead, vocab):
            lead += 1
        if lead == len(tokens):
            return None
        if lead:  # a title glued to the name: "Президент Путин", "Спецпосланник Путина"
            kept = tokens[lead:]
            mention.first += lead
            mention.start = kept[0].start
            mention.normal = " ".join(mention.normal.split()[lead:]) or kept[0].text
            # "Спецпосланник Путина" is someone else: Путин's envoy, not Путин
            title = vocab(tokens[lead - 1].text.lower())[0].normal_form
            mention.after_role = title in RELATIONAL and len(kept) == 1
    elif mention.kind == "ORG" and len(tokens) == 1 and _is_title(sentence, mention.first, vocab):
        return None  # "Делегация", "Представители", "НОВОСТИ": capitalised common words
    return mention


def _is_title(sentence: Sentence, index: int, vocab: Any) -> bool:
    """A title, or a common word capitalised only by its place (first in the sentence,
    or all capitals) that no dictionary reading makes a name: "Делегация", "НОВОСТИ"."""
    word = sentence.tokens[index].text
    if not word[:1].isalpha() or (word.isupper() and len(word) <= 4):
        return False  # abbreviations (ГРУ, США) are names
    parses = vocab(word.lower())
    if any(p.normal_form in ROLE_NOUNS for p in parses):
        return True  # a title anywhere ("… 2025 Спецпосланник президента США")
    if index > 0 and not word.isupper():
        return False
    if not parses or not parses[0].is_known:
        return False
    names = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"}
    return not any(p.tag.grammemes & names for p in parses)
