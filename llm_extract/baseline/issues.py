"""What a stance is about: a short noun phrase in the nominative, read off the parse.

"назвал переговоры в Майами конструктивными" is about "переговоры в Майами", the
object of the evaluative verb; "заявил, что встреча была полезной" is about the
subject of the reported clause; "требует гарантий безопасности" about the
object of the stance verb. The phrase is that noun with its adjectives and
noun complements ("контроль над Донбассом"), two to five words, head and
adjectives put in the nominative. A bare meeting word takes the place it was
held in from its clause or the sentences before ("встреча" → "встреча в Давосе").
"""

from __future__ import annotations

from llm_extract.baseline import lexicon
from llm_extract.baseline.entities import places
from llm_extract.baseline.nlp import Sentence, Token, dependencies
from llm_extract.normalise import nominative_phrase

__all__ = ["OBJECT_VERBS", "issue_phrase"]

OBJECT_VERBS = lexicon.words(
    "назвать называть охарактеризовать оценить оценивать считать требовать потребовать "
    "настаивать возражать отвергать отвергнуть отклонить отклонять предлагать предложить "
    "поддерживать поддержать приветствовать одобрить одобрять раскритиковать критиковать "
    "призвать призывать осудить осуждать согласный выступать"
)
"""Verbs (and 'не согласен') whose object or oblique is what the stance is about."""

_PIVOTS = lexicon.words("мочь должный быть стать являться хотеть")
"""Predicates that hand their meaning to the verb they govern ('может пройти')."""
_NOUNS = frozenset({"NOUN", "PROPN"})
_COMPLEMENTS = frozenset({"nmod", "flat", "flat:name", "flat:foreign", "compound", "nummod"})
_PLACE_PREPS = lexicon.words("в во на с со по между")
_PARTIES = lexicon.ROLE_NOUNS | lexicon.words(
    "сторона делегация страна власть правительство руководство администрация команда"
)
"""Who acts, not what about: 'стороны согласились продолжать …'."""
_FEELINGS = lexicon.words("надежда уверенность обеспокоенность озабоченность сожаление")
_MAX_WORDS = 5
_SKIP = lexicon.words("этот тот такой данный весь свой их его ее наш ваш")


def issue_phrase(
    sentence: Sentence, anchor: int | None, span: tuple[int, int], before: list[Sentence]
) -> str:
    """The issue of a stance anchored at `anchor` (a verb of `sentence`, or None for a
    quotation) about the tokens in `span`; `before` are the sentences before, for a place."""
    arcs = dependencies(sentence)
    focus = _focus(sentence, arcs, anchor, span)
    if focus is None:
        return ""
    focus = _felt_about(sentence, arcs, focus)
    kept = _phrase(sentence, arcs, focus)
    words = _render(sentence, kept, focus)
    if sentence.tokens[focus].lemma in lexicon.TRIGGER_NOUNS and kept[-1] == focus:
        complement = _where(sentence, arcs, focus, before)
        if complement:
            words.append(complement)
    return " ".join(words)


def _felt_about(sentence: Sentence, arcs: list[tuple[int, str]], focus: int) -> int:
    """'выразил надежду на скорое перемирие': the hope is about the truce."""
    if sentence.tokens[focus].lemma not in _FEELINGS:
        return focus
    for child, rel in _children(arcs, focus):
        if rel in {"nmod", "acl", "ccomp"}:
            found = child if rel == "nmod" else _about(sentence, arcs, child, depth=1)
            if found is not None and _topic(sentence, found):
                return found
    return focus


def _children(arcs: list[tuple[int, str]], i: int) -> list[tuple[int, str]]:
    return [(j, rel) for j, (head, rel) in enumerate(arcs) if head == i and j != i]


def _focus(
    sentence: Sentence, arcs: list[tuple[int, str]], anchor: int | None, span: tuple[int, int]
) -> int | None:
    tokens = sentence.tokens
    if anchor is not None and tokens[anchor].lemma in OBJECT_VERBS:
        found = _object(sentence, arcs, anchor)
        if found is not None:
            return found
    lo, hi = span
    if hi < lo:
        return None
    inside = range(lo, hi + 1)
    roots = [
        i
        for i in inside
        if (arcs[i][0] not in inside or arcs[i][0] == i) and tokens[i].pos != "PUNCT"
    ]  # the parser sometimes heads a word by itself
    for root in roots:
        found = _about(sentence, arcs, root, depth=0)
        if found is not None:
            return found
    return next((i for i in inside if _topic(sentence, i)), None)


def _about(sentence: Sentence, arcs: list[tuple[int, str]], root: int, depth: int) -> int | None:
    """What a clause is about: a verb's object, else its subject; a predicate's subject;
    else what the verb it governs is about ('должна закончить войну', 'невозможно …')."""
    tokens = sentence.tokens
    token = tokens[root]
    if depth > 3:
        return None
    children = _children(arcs, root)
    if token.lemma in OBJECT_VERBS or token.lemma in lexicon.SPEECH_VERBS:
        found = _object(sentence, arcs, root)
        if found is not None:
            return found
    verb = token.pos in {"VERB", "AUX"}
    for wanted in ("obj", "nsubj", "nsubj:pass") if verb else ("nsubj", "obj", "obl"):
        for child, rel in children:
            if rel == wanted and _topic(sentence, child):
                return child
    for child, rel in children:
        if rel in {"xcomp", "ccomp", "csubj"}:
            acts = tokens[child].lemma not in lexicon.COMMENT_VERBS  # not what is withheld
            if (
                acts
                and tokens[child].pos == "VERB"
                and any(r == "obj" for _, r in _children(arcs, child))
            ):
                return child  # "продолжать диалог": the course of action itself
            found = _about(sentence, arcs, child, depth + 1)
            if found is not None:
                return found
    if verb:
        for child, rel in children:
            if rel == "obl" and _topic(sentence, child):
                return child
    if token.pos == "NOUN" and _topic(sentence, root):
        return root
    return None


def _object(sentence: Sentence, arcs: list[tuple[int, str]], verb: int) -> int | None:
    """The verb's direct object, else its prepositional object ('настаивает на гарантиях')."""
    children = _children(arcs, verb)
    for wanted in ("obj", "obl", "iobj"):
        for child, rel in children:
            if rel != wanted:
                continue
            if sentence.tokens[child].pos == "VERB" or _topic(sentence, child):
                return child
    return None


def _topic(sentence: Sentence, i: int) -> bool:
    """A noun that can be an issue: not a person, a pronoun or a side speaking."""
    token = sentence.tokens[i]
    if token.pos not in _NOUNS or token.lemma in _PARTIES:
        return False
    named = next((m for m in sentence.mentions if m.first <= i <= m.last), None)
    return named is None or named.kind not in {"PER", "LOC"} or token.pos == "NOUN"


def _phrase(sentence: Sentence, arcs: list[tuple[int, str]], focus: int) -> list[int]:
    """The head with its adjectives and noun complements, at most five words."""
    tokens = sentence.tokens
    kept = [focus]

    if tokens[focus].pos == "VERB":  # an infinitive: the verb and its object
        for child, rel in _children(arcs, focus):
            if rel == "obj":
                kept += _noun_group(arcs, tokens, child)
        return sorted(kept)[:_MAX_WORDS]
    for child, rel in _children(arcs, focus):
        if rel == "amod" and _adjective(tokens[child]):
            kept.append(child)
    for child, rel in _children(arcs, focus):
        if rel not in _COMPLEMENTS or _words(tokens, kept) >= _MAX_WORDS:
            continue
        group = _noun_group(arcs, tokens, child)
        if _words(tokens, kept + group) > _MAX_WORDS:  # "с посланником", not whose envoy
            group = [k for k in group if k == child or arcs[k][1] in {"case", "fixed"}]
        if _words(tokens, kept + group) <= _MAX_WORDS:
            kept += group
    return sorted(set(kept))


def _words(tokens: list[Token], kept: list[int]) -> int:
    return sum(1 for k in set(kept) if tokens[k].pos != "ADP")


def _noun_group(arcs: list[tuple[int, str]], tokens: list[Token], head: int) -> list[int]:
    """A dependent noun with its preposition, adjectives and one genitive of its own."""
    group = [head]
    for child, rel in _children(arcs, head):
        own = rel in {"flat", "flat:name", "nummod"}
        if rel == "case":  # with the rest of a compound preposition: "в виде"
            group += [child] + [k for k, r in _children(arcs, child) if r == "fixed"]
        adjective = rel == "amod" and _adjective(tokens[child])
        genitive = rel == "nmod" and tokens[child].case == "Gen" and not _has_case(arcs, child)
        if own or adjective or genitive:
            group.append(child)
    return group


def _has_case(arcs: list[tuple[int, str]], i: int) -> bool:
    return any(rel == "case" for _, rel in _children(arcs, i))


def _adjective(token: Token) -> bool:
    """An adjective worth keeping: not a pronoun ('эта') nor a participle ('проведенную')."""
    return (
        token.pos == "ADJ"
        and token.lemma not in _SKIP
        and token.feats.get("VerbForm") != "Part"
        and token.text not in '«»"'
    )


def _render(sentence: Sentence, kept: list[int], focus: int) -> list[str]:
    """The words in text order, the head and the adjectives before it in the nominative."""
    tokens = sentence.tokens
    lead = [k for k in kept if k <= focus]
    texts = [tokens[k].text for k in lead]
    if tokens[focus].pos == "NOUN" and all(tokens[k].pos == "ADJ" for k in lead[:-1]):
        plural = tokens[focus].feats.get("Number") == "Plur"
        texts = nominative_phrase(texts, plural=plural)
    if texts and not (tokens[lead[0]].pos == "PROPN" or texts[0].isupper()):
        texts[0] = texts[0][:1].lower() + texts[0][1:]
    return texts + [tokens[k].text for k in kept if k > focus]


def _where(
    sentence: Sentence, arcs: list[tuple[int, str]], focus: int, before: list[Sentence]
) -> str:
    """'в Майами' for a bare meeting word: its clause's place, else the last place named."""
    head = arcs[focus][0]
    if head >= 0:
        for child, rel in _children(arcs, head):
            preposition = _preposition(arcs, sentence.tokens, child)
            if rel == "obl" and child != focus and preposition:
                group = sorted(_noun_group(arcs, sentence.tokens, child))
                if sentence.tokens[child].pos == "PROPN" or preposition in {"с", "со"}:
                    return " ".join(sentence.tokens[k].text for k in group)
    for earlier in [sentence, *reversed(before[-3:])]:
        found = places(earlier)
        for index, location in reversed(found):
            if location.place and index > 0 and earlier.tokens[index - 1].lemma in {"в", "во"}:
                mention = next(m for m in earlier.mentions if m.first == index)
                return f"{earlier.tokens[index - 1].text.lower()} {mention.text}"
    return ""


def _preposition(arcs: list[tuple[int, str]], tokens: list[Token], i: int) -> str:
    """The preposition of a place or partner ('в', 'с'), or ''."""
    return next(
        (
            tokens[child].lemma
            for child, rel in _children(arcs, i)
            if rel == "case" and tokens[child].lemma in _PLACE_PREPS
        ),
        "",
    )
