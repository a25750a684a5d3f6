"""Positions: who says or wants what, from attribution patterns and stance cue words.

Anchors are speech verbs ("заявил, что …", "«…», — указал X"), "по словам X",
and verbs that are a stance in themselves ("требует", "отвергает",
"предлагают", "не согласен"). The holder is the anchor's subject: a named
person, a pronoun or a title ("Спецпосланник Путина") resolved to the last
person named on that side, or a side ("Киев", "в Кремле"). The stance comes from
cue words in the anchor and what was said; an anchor with no cue and no
quotation is a bare fact ("Песков подтвердил, что встреча запланирована").
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from llm_extract.aliases import fold
from llm_extract.baseline import lexicon
from llm_extract.baseline.clauses import speaker_regions
from llm_extract.baseline.entities import Cast
from llm_extract.baseline.evidence import span_evidence
from llm_extract.baseline.holders import Holder, Memory, find_holder
from llm_extract.baseline.issues import issue_phrase
from llm_extract.baseline.nlp import Sentence, Token, dependencies
from llm_extract.baseline.quotes import Quote, find_quotes
from llm_extract.schemas import Evidence, Position, Speech, Stance

__all__ = ["find_positions"]

_ORDER = (
    Stance.DECLINE,
    Stance.DEMAND,
    Stance.OPPOSE,
    Stance.PROPOSE,
    Stance.SUPPORT,
    Stance.ASSESSMENT,
)
_VERBS = {
    Stance.ASSESSMENT: "оценивает",
    Stance.DEMAND: "требует",
    Stance.OPPOSE: "выступает против",
    Stance.PROPOSE: "предлагает",
    Stance.SUPPORT: "поддерживает",
    Stance.DECLINE: "отказывается раскрывать",
}
_STANCE_VERBS = lexicon.words(
    "требовать потребовать настаивать возражать отвергать отвергнуть отклонить отклонять "
    "предлагать предложить поддерживать поддержать приветствовать одобрить одобрять "
    "отказаться отказываться оценивать призвать призывать раскритиковать критиковать выразить"
)
_CONVINCED = lexicon.words("уверенный убежденный убедить")
"""'уверен, что …': an opinion introduced like speech."""
_WITHHOLD = lexicon.words("стать мочь")
"""'не стали комментировать', 'не смог уточнить': a refusal to comment."""
_OPINION = lexicon.words("мнение оценка") | _CONVINCED
"""Anchors that make what follows an opinion even without a cue word."""
_PREDICATES = lexicon.words("оставаться являться стать выглядеть казаться")
_EVALUATIVE = lexicon.words("назвать называть охарактеризовать оценить оценивать считать")
_AGREE = lexicon.words("договориться условиться")
_TAKE_PART = lexicon.words("участвовать присоединиться поддерживать поддержать")
_SCHEDULE = lexicon.EVENT_VERBS | lexicon.ARRIVAL | lexicon.TRIGGER_VERBS
_REPORTING = lexicon.SPEECH_VERBS | {"по"}
_SEPARATORS = frozenset({",", "—", "–", "-"})
_MAX_EVIDENCE = 2


@dataclass
class _Draft:
    holder: Holder
    stance: Stance
    issue: str
    evidence: list[Evidence]
    quote: Evidence | None = None


def find_positions(sentences: list[Sentence], cast: Cast, text: str) -> list[Position]:
    """Every stance a named person or side takes, one record per holder, stance and issue."""
    quotes = find_quotes(text)
    words = [t for sentence in sentences for t in sentence.tokens]
    memory = Memory()
    drafts: list[_Draft] = []
    for sentence in sentences:
        memory.see(sentence, cast)
        inside = [q for q in quotes if sentence.start <= q.stop and q.start <= sentence.stop]
        for draft in _sentence_positions(sentence, cast, memory, inside, words, sentences, text):
            _add(drafts, draft)
    return [_record(d) for d in drafts]


def _sentence_positions(
    sentence: Sentence,
    cast: Cast,
    memory: Memory,
    quotes: list[Quote],
    words: list[Token],
    sentences: list[Sentence],
    text: str,
) -> list[_Draft]:
    tokens = sentence.tokens
    drafts: list[_Draft] = []
    previous: Holder | None = None
    for anchor, (lo, hi) in _anchors(sentence):
        holder = find_holder(sentence, anchor, cast, memory) or previous
        if holder is None:
            continue
        previous = holder
        if tokens[anchor].lemma in _REPORTING:
            memory.spoke(tokens[anchor].start, holder)
        body = [t for t in tokens[lo : hi + 1] if t.pos != "PUNCT"] if hi >= lo else []
        quote = None
        if body:
            quote = _most_shared(quotes, body[0].start, body[-1].stop)
        attributed = quote is None and _attributed_quote(quotes, tokens[anchor].start)
        if attributed:
            quote = attributed
            body = [t for t in words if quote.start <= t.start < quote.stop]
        stance = _stance(tokens[anchor], body, quote)
        if anchor and tokens[anchor - 1].lemma == "не" and tokens[anchor].lemma in _WITHHOLD:
            stance = Stance.DECLINE
        elif stance is None and _opinion(sentence, anchor, (lo, hi)):
            stance = Stance.ASSESSMENT
        if stance is None:
            continue
        if attributed:
            where_said, span = _quoted_tokens(sentences, quote)
            issue = issue_phrase(where_said, None, span, sentences[: where_said.index])
        else:
            issue = issue_phrase(sentence, anchor, (lo, hi), sentences[: sentence.index])
        if not issue and drafts:  # "Россия требует уступок, которые Киев отвергает"
            issue = drafts[-1].issue
        if not issue:
            continue
        where = (quote.start, quote.stop) if attributed else (sentence.start, sentence.stop)
        drafts.append(
            _Draft(
                holder=holder,
                stance=stance,
                issue=issue,
                evidence=[span_evidence(text, *where)],
                quote=span_evidence(text, quote.start, quote.stop) if quote else None,
            )
        )
    return drafts


# --------------------------------------------------------------------------- anchors


def _anchors(sentence: Sentence) -> list[tuple[int, tuple[int, int]]]:
    """(anchor token, content token range) for each attribution or stance verb."""
    tokens = sentence.tokens
    found: dict[int, tuple[int, int]] = {}
    for region in speaker_regions(sentence):
        anchor = region.verb if region.verb is not None else region.first
        if region.content is not None:
            found[anchor] = region.content
        elif region.verb is not None and _inverted(tokens, region.verb):
            found[anchor] = (0, _inverted(tokens, region.verb))
        elif region.verb is not None:
            found[anchor] = (region.verb + 1, _object_end(tokens, region.verb + 1))
    for i, token in enumerate(tokens):
        if i in found:
            continue
        negated = i > 0 and tokens[i - 1].lemma == "не"
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.lemma in _CONVINCED and nxt is not None and nxt.lemma in {"что", ","}:
            that = i + 2 if nxt.lemma == "," else i + 1  # "уверен, что …"
            found[i] = (that + 1, _object_end(tokens, that + 1))
        elif negated and token.lemma in _WITHHOLD and nxt and nxt.lemma in lexicon.COMMENT_VERBS:
            found[i] = (i + 1, _object_end(tokens, i + 1))  # "не стали комментировать"
        elif token.finite and token.lemma in lexicon.STANCE_CUES["decline"]:
            found[i] = _declined(tokens, i)
        elif (
            (token.finite and token.lemma in _STANCE_VERBS)
            or (negated and token.lemma == "согласный")
            or (token.lemma == "должный" and token.pos == "ADJ" and not _scheduled(tokens, i))
        ):
            found[i] = (i + 1, _object_end(tokens, i + 1))
    reported = [content for anchor, content in found.items() if tokens[anchor].lemma in _REPORTING]
    return sorted(
        (anchor, content)
        for anchor, content in found.items()
        if not any(lo <= anchor <= hi for lo, hi in reported)
        and not (
            tokens[anchor].lemma in _EVALUATIVE and anchor and tokens[anchor - 1].lemma == "не"
        )
    )


def _declined(tokens: list[Token], verb: int) -> tuple[int, int]:
    """What is refused: after the verb ('отказался комментировать …'), or fronted
    ('Комментировать эти сообщения Песков отказался')."""
    after = (verb + 1, _object_end(tokens, verb + 1))
    if after[1] >= after[0]:
        return after
    fronted = next(
        (
            k
            for k in range(verb)
            if tokens[k].lemma in lexicon.COMMENT_VERBS and not tokens[k].finite
        ),
        None,
    )
    return (fronted, _object_end(tokens, fronted + 1)) if fronted is not None else after


def _inverted(tokens: list[Token], verb: int) -> int:
    """'Встреча может пройти в Москве, — заявил Путин': the last token said, or 0 if not so.

    The verb follows a comma or dash, and its subject comes right after it.
    """
    j = verb - 1
    if j < 1 or tokens[j].text not in _SEPARATORS:
        return 0
    after = [t for t in tokens[verb + 1 :] if t.pos != "PUNCT"]
    if not after or after[0].pos not in {"PROPN", "PRON", "NOUN"}:
        return 0
    if after[0].case not in {"Nom", None}:
        return 0
    while j > 0 and tokens[j].text in _SEPARATORS:
        j -= 1
    return j


def _object_end(tokens: list[Token], i: int) -> int:
    """The last token of what a verb governs: up to a comma, or 'и' before another verb."""
    j = i
    while j < len(tokens):
        token = tokens[j]
        if token.text in {",", ";", ".", "—", "–", ":", "!", "?"}:
            break
        if token.lemma in {"и", "а"} and j + 1 < len(tokens) and _verb_follows(tokens, j + 1):
            break
        j += 1
    return j - 1


def _verb_follows(tokens: list[Token], i: int) -> bool:
    for token in tokens[i : i + 3]:
        if token.finite:
            return True
        if token.pos not in {"ADV", "PART"}:
            return False
    return False


# --------------------------------------------------------------------------- stance and issue


def _scheduled(tokens: list[Token], i: int) -> bool:
    """'должен прилететь', 'должна состояться': a timetable, not a demand."""
    for token in tokens[i + 1 : i + 4]:
        if token.pos == "VERB":
            return token.lemma in _SCHEDULE
        if token.pos not in {"ADV", "PART"}:
            return False
    return False


def _stance(anchor: Token, body: list[Token], quote: Quote | None) -> Stance | None:
    lemmas = [anchor.lemma] + [
        t.lemma for k, t in enumerate(body) if not (t.lemma == "должный" and _scheduled(body, k))
    ]
    negated = {b.lemma for a, b in pairwise(body) if a.lemma == "не"}
    if anchor.lemma == "согласный" or "согласный" in negated:  # "не согласны с …"
        return Stance.OPPOSE
    refused = (
        any(a.lemma == "мочь" and b.lemma in lexicon.SPEECH_VERBS for a, b in pairwise(body))
        and "мочь" in negated
    )
    if refused or lemmas[0] in lexicon.STANCE_CUES["decline"]:
        comment = any(t.lemma in lexicon.COMMENT_VERBS for t in body[:3])
        return Stance.DECLINE if comment or not body else Stance.OPPOSE
    if _refuses_to_take_part(body):  # "мы не будем участвовать"
        return Stance.OPPOSE
    if _agrees_to_meet(lemmas, body):  # "условились о новом приезде": a fact, not a stance
        return None
    venue = any(a.lemma == "мочь" and b.lemma in lexicon.EVENT_VERBS for a, b in pairwise(body))
    for stance in _ORDER:
        if set(lemmas) & lexicon.STANCE_CUES[stance.value]:
            return stance
        if stance == Stance.PROPOSE and venue:  # "встреча может пройти в Москве"
            return stance
    if anchor.lemma in _EVALUATIVE:
        return Stance.ASSESSMENT
    return None


def _opinion(sentence: Sentence, anchor: int, span: tuple[int, int]) -> bool:
    """An opinion with no cue word: 'по его мнению, …', 'уверен, что …', or a reported
    clause that characterises ('что санкции неэффективны', 'остается приоритетом')."""
    tokens = sentence.tokens
    if tokens[anchor].lemma in _CONVINCED or any(
        t.lemma in _OPINION for t in tokens[anchor + 1 : anchor + 3]
    ):
        return True
    lo, hi = span
    if tokens[anchor].lemma not in lexicon.SPEECH_VERBS or hi < lo:
        return False
    arcs = dependencies(sentence)
    for i in range(lo, hi + 1):
        if arcs[i][0] in range(lo, hi + 1) and arcs[i][0] != i:
            continue
        token = tokens[i]
        copula = any(h == i and rel == "cop" for h, rel in arcs)
        short = token.pos == "ADJ" and token.feats.get("Variant") == "Short"
        return short or copula or token.lemma in _PREDICATES
    return False


def _refuses_to_take_part(body: list[Token]) -> bool:
    """'не будем участвовать', 'не поддержим': a negated taking part."""
    for k, token in enumerate(body):
        if token.lemma != "не":
            continue
        following = (
            body[k + 1 : k + 3]
            if k + 1 < len(body) and body[k + 1].lemma == "быть"
            else body[k + 1 : k + 2]
        )
        if any(t.lemma in _TAKE_PART for t in following):
            return True
    return False


def _agrees_to_meet(lemmas: list[str], body: list[Token]) -> bool:
    """An agreement whose object is a meeting is the meeting's news, not a position."""
    cue = next((k for k, t in enumerate(body) if t.lemma in _AGREE), None)
    if cue is None and not set(lemmas) & _AGREE:
        return False
    for token in body[(cue or -1) + 1 :]:
        if token.pos in {"VERB", "AUX"}:
            return False  # "условлено продолжать диалог": a course of action
        if token.pos == "NOUN":
            return token.lemma in lexicon.TRIGGER_NOUNS
    return False


# --------------------------------------------------------------------------- quotes


def _most_shared(quotes: list[Quote], start: int, stop: int) -> Quote | None:
    """The quote that covers most of a statement: a sentence may hold two."""
    shared = {q: min(q.stop, stop) - max(q.start, start) for q in quotes}
    return max((q for q in quotes if shared[q] > 0), key=shared.__getitem__, default=None)


def _attributed_quote(quotes: list[Quote], anchor_start: int) -> Quote | None:
    """The quotation that '«…», — сказал X' attributes: it closes just before the anchor."""
    for quote in quotes:
        if quote.attributed_after and quote.stop < anchor_start and anchor_start - quote.stop <= 8:
            return quote
    return None


def _quoted_tokens(sentences: list[Sentence], quote: Quote) -> tuple[Sentence, tuple[int, int]]:
    """The sentence a quotation opens in, and its tokens inside the quotation marks."""
    sentence = next(
        (s for s in sentences if s.start <= quote.start < s.stop and s.tokens), sentences[-1]
    )
    inside = [k for k, t in enumerate(sentence.tokens) if quote.start <= t.start < quote.stop]
    return sentence, (inside[0], inside[-1]) if inside else (0, -1)


# --------------------------------------------------------------------------- records


def _add(drafts: list[_Draft], draft: _Draft) -> None:
    """One position per holder, stance and issue: a repeat adds evidence and a quote."""
    key = _key(draft)
    for other in drafts:
        if _key(other) == key or (
            other.holder == draft.holder
            and other.stance == draft.stance
            and _close(other.issue, draft.issue)
        ):
            if len(other.evidence) < _MAX_EVIDENCE and all(
                e.start != draft.evidence[0].start for e in other.evidence
            ):
                other.evidence.append(draft.evidence[0])
            if other.quote is None and _within_evidence(draft.quote, other.evidence):
                other.quote = draft.quote
            return
    drafts.append(draft)


def _within_evidence(quote: Evidence | None, evidence: list[Evidence]) -> bool:
    """A quote belongs to a position only where one of its evidence spans holds it (or
    overlaps it): else adjacent quotes get swapped between positions."""
    if quote is None or quote.start is None or quote.end is None:
        return False
    return any(
        e.start is not None and e.end is not None and quote.start < e.end and e.start < quote.end
        for e in evidence
    )


def _key(draft: _Draft) -> tuple[str, str, str]:
    holder = draft.holder.person.name if draft.holder.person else (draft.holder.side or "")
    return holder, draft.stance.value, fold(draft.issue)


def _close(a: str, b: str) -> bool:
    """Issues about the same thing: they share a content word's stem."""
    stems = lambda s: {w[:5] for w in fold(s).split() if len(w) > 3}  # noqa: E731
    return bool(stems(a) & stems(b))


def _record(draft: _Draft) -> Position:
    holder = draft.holder
    name = holder.person.name if holder.person else holder.side
    quote = draft.quote if _within_evidence(draft.quote, draft.evidence) else None
    return Position(
        holder=holder.participant,
        side=holder.side,
        issue=draft.issue,
        stance=draft.stance,
        summary=f"{name} {_VERBS[draft.stance]}: {draft.issue}",
        quote=quote,
        speech=Speech.DIRECT if quote else Speech.REPORTED,
        evidence=draft.evidence,
    )
