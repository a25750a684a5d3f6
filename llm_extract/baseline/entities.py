"""Who, where and which side: people, their titles, places and side markers in a sentence.

A name after a title and in the genitive often belongs to someone else's title
("представителем Путина Кириллом Дмитриевым": Путин is not there), so every
person mention is first classed as an actor or a possessor. Titles are read
back from the name to the first title noun ("специальным посланником
американского лидера Стивеном Уиткоффом"), and put in the nominative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from llm_extract.aliases import alias_table, fold
from llm_extract.baseline import lexicon
from llm_extract.baseline.nlp import Mention, Sentence, Token
from llm_extract.normalise import (
    english_name,
    nominative_name,
    nominative_phrase,
    person_entry,
    place_country,
    side_code,
)
from llm_extract.schemas import Location, Participant

__all__ = [
    "Cast",
    "Person",
    "Role",
    "dateline_city",
    "describe",
    "is_possessor",
    "places",
    "role_of",
    "side_markers",
]

_CHAIN_POS = frozenset({"NOUN", "PROPN", "ADJ", "DET", "X"})
_NOT_IN_ROLE = lexicon.words("другой этот тот такой сам весь также еще")
_PLACE_PREPS = lexicon.words("в во")
_NOT_SIDE_PREPS = lexicon.words("в во на по о об из для про над под")
_PEOPLE_NOUNS = lexicon.words(
    "делегация сторона представитель переговорщик команда партнер президент лидер власть "
    "чиновник дипломат посланник спецпосланник спецпредставитель министр военный глава "
    "администрация собеседник коллега руководство правительство МИД мид"
)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    name_en: str | None
    side: str | None


@dataclass(frozen=True, slots=True)
class Role:
    text: str | None
    organisation: str | None
    side: str | None
    head_of_state: bool
    title: str | None = None  # the title noun's lemma without 'спец': 'посланник'


_NO_ROLE = Role(None, None, None, False)


class Cast:
    """The article's people: one canonical person per name, surnames linked to full names."""

    def __init__(self, sentences: list[Sentence]) -> None:
        self._full: dict[str, str] = {}
        for sentence in sentences:
            for mention in sentence.mentions:
                words = mention.normal.split()
                if mention.kind == "PER" and len(words) >= 2:
                    self._full.setdefault(fold(words[-1]), mention.normal)
        self._cache: dict[str, Person] = {}
        self._named: list[tuple[int, str]] = []  # (offset, name) of each person as he is named
        self._roles: dict[str, Role] = {}
        self._titles: dict[tuple[str, str], set[str]] = {}
        self._heads: list[tuple[int, str]] = []  # (offset, side) of each head of state's title
        for sentence in sentences:
            for i, token in enumerate(sentence.tokens):
                if _head_of_state(sentence.tokens, i):
                    role = _title(sentence, [token], 0, token.stop, self)
                    side = role.side or _side_after(sentence, i, self)
                    if side:
                        self._heads.append((token.start, side))
        for sentence in sentences:
            for mention in sentence.mentions:
                if mention.kind == "PER" and not is_possessor(sentence, mention):
                    role = role_of(sentence, mention, self)
                    name = self.person(mention).name
                    if not _companion(sentence, mention):
                        self._named.append((mention.start, name))
                    if role.text:
                        self._roles.setdefault(name, role)
                    side = role.side or self.person(mention).side
                    if role.title and side:
                        self._titles.setdefault((role.title, side), set()).add(name)

    def head_side(self, sentence: Sentence, offset: int) -> str | None:
        """The side whose head of state the article names nearest an offset, outside its
        sentence (which names the other party): what an unnamed 'глава государства' is."""
        heads = [h for h in self._heads if not sentence.start <= h[0] < sentence.stop]
        if not heads:
            return None
        return min(heads, key=lambda head: abs(head[0] - offset))[1]

    def titled(self, title: str, side: str) -> Person | None:
        """The one person the article gives this title on this side ('российский президент')."""
        names = self._titles.get((title, side), set())
        return self.named(next(iter(names))) if len(names) == 1 else None

    def named_before(self, offset: int) -> tuple[Person, Role] | None:
        """The last person named before an offset, with his first title: what 'он' stands for
        (a companion, 'Вместе с ним прилетел X', is not)."""
        name = next((n for start, n in reversed(self._named) if start < offset), None)
        if name is None:
            return None
        return self.named(name), self._roles.get(name, _NO_ROLE)

    def first_role(self, name: str) -> Role | None:
        """The article's first description of a person: used where a passage gives none."""
        return self._roles.get(name)

    def person(self, mention: Mention) -> Person:
        return self.named(mention.normal)

    def named(self, normal: str) -> Person:
        if normal not in self._cache:
            self._cache[normal] = self._resolve(normal)
        return self._cache[normal]

    def _resolve(self, normal: str) -> Person:
        entry = person_entry(normal)
        if entry is not None:
            return Person(entry.name, entry.name_en, entry.side)
        nominative = nominative_name(normal)
        words = nominative.split()
        if len(words) == 1:
            full = self._full.get(fold(words[0]))
            if full is not None and fold(full) != fold(normal):
                return self._resolve(full)
        return Person(nominative, english_name(nominative), None)

    def participant(self, mention: Mention, role: Role) -> Participant:
        person = self.person(mention)
        return Participant(
            name=person.name,
            name_en=person.name_en,
            role=role.text,
            organisation=role.organisation,
        )


def _companion(sentence: Sentence, mention: Mention) -> bool:
    """'Вместе с ним прилетел X', 'Его сопровождал X': X goes along with the one 'он' is."""
    before = sentence.tokens[: mention.first]
    along = any(
        a.lemma == "вместе" and b.lemma == "с" and c.pos == "PRON"
        for a, b, c in zip(before, before[1:], before[2:], strict=False)
    )
    return along or any(t.lemma == "сопровождать" for t in before)


def is_possessor(sentence: Sentence, mention: Mention) -> bool:
    """Whether a named person only qualifies another word ("по словам Уиткоффа",
    "представитель Трампа Джаред Кушнер") rather than being there himself."""
    if mention.after_role:
        return True
    follower = _mention_at(sentence, mention.last + 1)
    if follower is not None and follower.kind == "PER":
        return True
    tokens = sentence.tokens
    before = mention.first - 1
    if before >= 1 and tokens[before].lemma == "и":
        previous = _mention_ending(sentence, before - 1)
        if previous is not None and previous.kind == "PER":
            return is_possessor(sentence, previous)
    if mention.case != "Gen":
        return False
    number = tokens[mention.last].feats.get("Number")
    i = mention.first - 1
    while i >= 0:
        token = tokens[i]
        inside = _mention_ending(sentence, i)
        if inside is not None:
            i = inside.first - 1
            continue
        if token.pos in {"ADJ", "DET"}:
            i -= 1
            continue
        if token.pos not in {"NOUN", "PROPN"}:
            return False
        if token.lemma in lexicon.TRIGGER_NOUNS or token.lemma == "участие":
            return False  # "переговоры Лаврова", "участие Кушнера": the person takes part
        if token.lemma in lexicon.ROLE_NOUNS and _agrees(token, mention, i == mention.first - 1):
            plural = token.feats.get("Number") != number
            if not (plural and token.lemma in lexicon.RELATIONAL):
                i -= 1  # an appositive title: "президента Путина", "президентов Путина и …"
                continue
        if (
            token.lemma not in lexicon.ROLE_NOUNS
            and token.case == "Gen"
            and _titled_before(tokens, i)
        ):
            i -= 1  # the title's own complement: "министра иностранных дел Саудовской Аравии"
            continue
        return True
    return False


def _titled_before(tokens: list[Token], i: int) -> bool:
    """A genitive chain that a title opens within a few words ('министра иностранных дел')."""
    for token in reversed(tokens[max(0, i - 4) : i]):
        if token.lemma in lexicon.ROLE_NOUNS:
            return True
        if token.pos not in {"NOUN", "PROPN", "ADJ"} or token.case != "Gen":
            return False
    return False


def _agrees(title: Token, mention: Mention, adjacent: bool) -> bool:
    """Title and name in one case. An animate accusative looks genitive ('принял посланника
    президента США Стива Уиткоффа'), except right after a relational title ('помощника Путина')."""
    if title.case == mention.case:
        return True
    ambiguous = {title.case, mention.case} == {"Acc", "Gen"}
    return ambiguous and not (adjacent and title.lemma in lexicon.RELATIONAL)


def role_of(sentence: Sentence, mention: Mention, cast: Cast) -> Role:
    """The title written before a name, in the nominative, with its body and side."""
    tokens = sentence.tokens
    start = mention.first
    i = mention.first - 1
    while i >= 0:
        inside = _mention_ending(sentence, i)
        if inside is not None:
            if inside.kind == "PER" and not is_possessor(sentence, inside):
                break
            i = inside.first - 1
            start = inside.first
            continue
        token = tokens[i]
        if token.lemma in lexicon.TRIGGER_NOUNS:
            break
        if token.pos == "ADP" and token.lemma == "по" and i > 0:
            start = i
            i -= 1
            continue
        if token.pos not in _CHAIN_POS or token.text in '«»"':
            break
        start = i
        i -= 1
    region = tokens[start : mention.first]
    heads = [k for k, t in enumerate(region) if t.lemma in lexicon.ROLE_NOUNS]
    if not heads:
        return _NO_ROLE
    begin = _title_start(region, heads[0])
    return _title(sentence, region[begin:], heads[0] - begin, mention.start, cast)


def describe(sentence: Sentence, index: int, cast: Cast) -> tuple[Person, Role] | None:
    """The person an unnamed title points to ('российский президент встречался …').

    Only a title that heads its phrase, names no one after it, and has a side,
    and only when the article gives that title on that side to one person.
    """
    tokens = sentence.tokens
    token = tokens[index]
    if token.lemma not in lexicon.ROLE_NOUNS or token.feats.get("Number") == "Plur":
        return None
    back = index - 1
    while back >= 0 and tokens[back].pos in {"ADJ", "DET"}:
        back -= 1
    if back >= 0 and tokens[back].pos in {"NOUN", "PROPN"} and token.case == "Gen":
        return None  # a dependent: "посланником американского лидера"
    end = index + 1
    while end < len(tokens) and tokens[end].case == "Gen" and tokens[end].pos in _CHAIN_POS:
        named = _mention_ending(sentence, end)
        if named is not None and named.kind == "PER" and not is_possessor(sentence, named):
            return None  # the title of a named person
        end += 1
    if end < len(tokens):
        named = _mention_at(sentence, end)
        if named is not None and named.kind == "PER":
            return None
    begin = index
    while begin > 0 and tokens[begin - 1].pos in {"ADJ", "DET"}:
        if tokens[begin - 1].lemma in _NOT_IN_ROLE:
            break
        begin -= 1
    role = _title(sentence, tokens[begin:end], index - begin, tokens[end - 1].stop, cast)
    if role.side is None and _head_of_state(tokens, index):
        role = replace(role, side=cast.head_side(sentence, token.start), head_of_state=True)
    if role.title is None or role.side is None:
        return None
    person = cast.titled(role.title, role.side)
    if person is None and role.head_of_state:  # "глава государства" is the president named
        person = next((p for t in lexicon.HEADS_OF_STATE if (p := cast.titled(t, role.side))), None)
    return (person, role) if person is not None else None


def _head_of_state(tokens: list[Token], i: int) -> bool:
    """'президент', 'глава государства', 'премьер' naming one person."""
    token = tokens[i]
    if token.feats.get("Number") == "Plur":
        return False
    if token.lemma == "глава":
        return i + 1 < len(tokens) and tokens[i + 1].lemma == "государство"
    return token.lemma in lexicon.HEADS_OF_STATE


def _side_after(sentence: Sentence, i: int, cast: Cast) -> str | None:
    """'президент России', 'глава украинского государства': the side right after a title."""
    for token in sentence.tokens[i + 1 : i + 3]:
        code = lexicon.SIDE_ADJECTIVES.get(token.lemma)
        if code:
            return code
    for mention in sentence.mentions:
        if i < mention.first <= i + 2 and mention.kind != "PER":
            return side_code(mention.normal)
    return None


def _title_start(region: list[Token], head: int) -> int:
    begin = head
    while begin > 0 and region[begin - 1].pos in {"ADJ", "DET"}:
        if region[begin - 1].lemma in _NOT_IN_ROLE:
            break
        begin -= 1
    return begin


def _title(sentence: Sentence, words: list[Token], head: int, stop: int, cast: Cast) -> Role:
    """A title from its words (adjectives, title noun, what follows), in the nominative."""
    lead = " ".join(nominative_phrase([t.text for t in words[: head + 1]]))
    rest = sentence.text[words[head].stop - sentence.start : stop - sentence.start]
    text = (lead + rest).strip()
    if text and not words[0].text.isupper():
        text = text[0].lower() + text[1:]
    organisation = side = None
    for other in sentence.mentions:
        if not (words[0].start <= other.start and other.stop <= stop):
            continue
        venue = lexicon.VENUES.get(fold(other.normal))
        if other.kind == "ORG" or venue is not None:
            organisation = organisation or (venue[0] if venue else other.normal)
        side = side or _side_of_mention(other, cast)
    for token in words:
        side = side or lexicon.SIDE_ADJECTIVES.get(token.lemma)
    lemma = words[head].lemma
    if words[head].feats.get("Number") == "Plur":
        text = ""  # "президентов Путина и Зеленского": no one person's title
    return Role(
        text=text or None,
        organisation=organisation,
        side=side,
        head_of_state=lemma in lexicon.HEADS_OF_STATE,
        title=lemma.removeprefix("спец"),
    )


def side_markers(sentence: Sentence, cast: Cast) -> list[tuple[int, str]]:
    """(token index, side) for each place the sentence names a side, not counting people."""
    tokens = sentence.tokens
    found: list[tuple[int, str]] = []
    for i, token in enumerate(tokens):
        code = lexicon.SIDE_ADJECTIVES.get(token.lemma)
        if code and _heads_people(tokens, i):
            found.append((i, code))
        elif token.lemma in lexicon.SIDE_NOUNS:
            found.append((i, lexicon.SIDE_NOUNS[token.lemma]))
        elif _head_of_state(tokens, i) and _unnamed(sentence, i):
            side = _side_after(sentence, i, cast) or cast.head_side(sentence, token.start)
            if side:
                found.append((i, side))
    for mention in sentence.mentions:
        if mention.kind == "PER":
            if is_possessor(sentence, mention):
                side = cast.person(mention).side
                if side:
                    found.append((mention.first, side))
            continue
        before = tokens[mention.first - 1].lemma if mention.first else ""
        if before in _NOT_SIDE_PREPS:
            continue
        if before in lexicon.VISIT_VERBS:
            continue
        code = _side_of_mention(mention, cast)
        if code:
            found.append((mention.first, code))
    return sorted(found)


def places(sentence: Sentence) -> list[tuple[int, Location]]:
    """(token index, location) for each place the sentence puts something in."""
    tokens = sentence.tokens
    table = alias_table()
    found: list[tuple[int, Location]] = []
    for mention in sentence.mentions:
        if mention.kind not in {"LOC", "ORG"}:
            continue
        before = tokens[mention.first - 1].lemma if mention.first else ""
        key = fold(mention.normal)
        venue = lexicon.VENUES.get(key)
        if venue is not None:
            if before in _PLACE_PREPS and not _speaks(tokens, mention.last + 1):
                found.append(
                    (mention.first, Location(venue=venue[0], place=venue[1], country=venue[2]))
                )
            continue
        city = table.place_country(mention.normal)
        side = side_code(mention.normal)
        located = before in _PLACE_PREPS or before == "город"
        visited = _visited(tokens, mention.first)
        near = _after_trigger(tokens, mention.first)
        if city is not None and (located or visited):
            found.append((mention.first, Location(place=mention.normal, country=city)))
        elif side is not None and len(side) == 2 and (visited or (located and near)):
            found.append((mention.first, Location(country=side)))  # "посещал Россию"
        elif (
            mention.kind == "LOC"
            and side is None
            and (located or (before == "на" and near))
            and mention.case == "Loc"
            and mention.normal[:1].isupper()
        ):
            place = nominative_name(mention.normal)  # natasha leaves some places inflected
            found.append((mention.first, Location(place=place, country=place_country(place))))
    taken = {i for i, _ in found}
    for i, token in enumerate(tokens[:-1]):  # "во дворце Наций", "в отеле «Ритц»"
        if token.lemma in _VENUE_NOUNS and i and tokens[i - 1].lemma in _PLACE_PREPS:
            name = _proper_run(tokens, i + 1)
            if name and i not in taken:
                venue = sentence.text[tokens[i + 1].start - sentence.start : name - sentence.start]
                found.append((i, Location(venue=f"{token.lemma} {venue.strip('«»')}")))
    return sorted(found, key=lambda item: item[0])


_DATELINE_CITY = re.compile(r"\s*([А-ЯЁ][А-ЯЁ]+(?:[ -][А-ЯЁ]+)*),\s*\d")


def dateline_city(sentence: Sentence) -> Location | None:
    """'СТАМБУЛ, 9 марта 2026 года, 14:05 —': the city the report is filed from."""
    match = _DATELINE_CITY.match(sentence.text)
    if match is None:
        return None
    name = re.sub(r"[А-ЯЁ]+", lambda m: m.group().capitalize(), match.group(1))
    return Location(place=name, country=alias_table().place_country(name))


_VENUE_NOUNS = lexicon.words("дворец отель резиденция вилла особняк")


def _proper_run(tokens: list[Token], i: int) -> int | None:
    """The end offset of the capitalised name starting at token i, if one does."""
    end = None
    for token in tokens[i : i + 4]:
        word = token.text.strip("«»")
        if token.text in {"«", "»"} or (word[:1].isupper() and token.pos != "PUNCT"):
            end = token.stop
            continue
        break
    return end


def _unnamed(sentence: Sentence, i: int) -> bool:
    """A title no name follows or precedes ('глава государства провел …')."""
    near = range(i - 1, i + 4)
    return not any(m.kind == "PER" and m.first in near for m in sentence.mentions)


def _side_of_mention(mention: Mention, cast: Cast) -> str | None:
    if mention.kind == "PER":
        return cast.person(mention).side
    return side_code(mention.normal)


def _heads_people(tokens: list[Token], i: int) -> bool:
    """'российская делегация', 'российские и американские представители', 'с украинской'."""
    j = i + 1
    while j < len(tokens) and (tokens[j].pos == "ADJ" or tokens[j].lemma == "и"):
        j += 1
    if j >= len(tokens):
        return True
    nxt = tokens[j]
    return nxt.lemma in _PEOPLE_NOUNS or nxt.pos == "PUNCT"


def _after_trigger(tokens: list[Token], i: int) -> bool:
    """A meeting word just before: 'встреча … в Саудовской Аравии', 'саммит на Аляске'."""
    window = tokens[max(0, i - 5) : i]
    return any(t.lemma in lexicon.TRIGGER_NOUNS or t.lemma in lexicon.TRIGGER_VERBS for t in window)


def _visited(tokens: list[Token], i: int) -> bool:
    """A country as the goal of a visit: 'посещал Россию', 'визит в Россию'."""
    window = [t.lemma for t in tokens[max(0, i - 3) : i]]
    return any(w in lexicon.VISIT_VERBS or w in {"визит", "поездка"} for w in window)


def _speaks(tokens: list[Token], i: int) -> bool:
    """'В Кремле рассказали': the building speaks, nobody meets there."""
    for token in tokens[i : i + 3]:
        if token.pos == "VERB":
            return token.lemma in lexicon.SPEECH_VERBS or token.lemma in lexicon.INSTITUTION_VERBS
    return False


def _mention_at(sentence: Sentence, index: int) -> Mention | None:
    return next((m for m in sentence.mentions if m.first == index), None)


def _mention_ending(sentence: Sentence, index: int) -> Mention | None:
    return next((m for m in sentence.mentions if m.first <= index <= m.last), None)
