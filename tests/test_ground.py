"""Grounding against the seed articles: every found span must be `text[start:end]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_extract.articles import load_article
from llm_extract.ground import (
    FUZZY_MIN_CHARS,
    check_spans,
    ground_extraction,
    ground_quote,
    iter_evidence,
)
from llm_extract.normalise import normalise_extraction
from llm_extract.schemas import (
    ArticleExtraction,
    Evidence,
    MatchKind,
    Meeting,
    Position,
)
from llm_extract.score import gold_files

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
GOLD = Path(__file__).resolve().parent.parent / "evals" / "gold"


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return load_article(path).text


@pytest.fixture(scope="module")
def seed001() -> str:
    return _seed("001")


@pytest.fixture(scope="module")
def seed003() -> str:
    return _seed("003")


def _assert_span(evidence: Evidence, text: str) -> None:
    assert evidence.start is not None and evidence.end is not None
    assert text[evidence.start : evidence.end] == evidence.text


def test_exact_quote_gets_its_offsets(seed001: str) -> None:
    quote = "Пресс-секретарь Кремля Дмитрий Песков подтвердил, что встреча запланирована."
    evidence = ground_quote(quote, seed001)
    assert evidence.match is MatchKind.EXACT
    assert evidence.start == seed001.index("Пресс-секретарь Кремля")
    assert evidence.text == quote
    _assert_span(evidence, seed001)


def test_e_for_yo_and_case_and_spaces_are_normalised(seed001: str) -> None:
    # The article writes "ещё" and "пройдёт"; models often drop the dots.
    evidence = ground_quote(
        "по словам Уиткоффа,  еще одна встреча пройдет вечером в среду.", seed001
    )
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == "По словам Уиткоффа, ещё одна встреча пройдёт вечером в среду."
    _assert_span(evidence, seed001)


def test_quote_marks_and_dashes_are_normalised(seed001: str) -> None:
    evidence = ground_quote('был достигнут "большой прогресс"', seed001)
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == "был достигнут «большой прогресс»"
    dashed = ground_quote(
        "Ряд его пунктов называла неприемлемыми Украина, другие — Россия.", seed001
    )
    assert dashed.match is MatchKind.NORMALISED
    assert dashed.text == "Ряд его пунктов называла неприемлемыми Украина, другие - Россия."
    _assert_span(dashed, seed001)


def test_opening_and_closing_quote_marks_are_kept_when_the_quote_has_them(seed003: str) -> None:
    # Seed 003 uses straight double quotes; the model used guillemets.
    evidence = ground_quote("«конструктивные и продуктивные»", seed003)
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == '"конструктивные и продуктивные"'
    _assert_span(evidence, seed003)


def test_fuzzy_match_repairs_a_corrected_typo_and_snaps_to_words(seed001: str) -> None:
    # The article has the typo "с швейцарском"; a model quoting it fixes it to "в".
    quote = "Уиткофф и Кушнер встретились в швейцарском городе Давос с представителем Путина"
    evidence = ground_quote(quote, seed001)
    assert evidence.match is MatchKind.FUZZY
    assert evidence.text == (
        "Уиткофф и Кушнер встретились с швейцарском городе Давос с представителем Путина"
    )
    _assert_span(evidence, seed001)


def test_fuzzy_span_covers_whole_words_when_an_ending_differs(seed001: str) -> None:
    quote = "Уиткофф и Кушнер до конца января намерен побывать в Москве"
    evidence = ground_quote(quote, seed001)
    assert evidence.match is MatchKind.FUZZY
    assert evidence.text == "Уиткофф и Кушнер до конца января намерены побывать в Москве"


@pytest.mark.parametrize(
    "quote",
    [
        "Путин и Трамп договорились о прекращении огня в ближайшие дни",
        # A condensed paraphrase is not the article's wording.
        "Уиткофф и Кушнер в четверг на этой неделе намерены отправиться в Москву",
    ],
)
def test_invented_or_paraphrased_quote_is_not_grounded(seed001: str, quote: str) -> None:
    evidence = ground_quote(quote, seed001)
    assert evidence.start is None and evidence.end is None and evidence.match is None
    assert evidence.text == quote


FIXED = "Россия готова продолжить переговоры с США на основе понимания, достигнутого в Анкоридже."


@pytest.mark.parametrize(
    "quote",
    [
        "Россия не готова продолжить переговоры с США на основе понимания",
        "Россия готова прекратить переговоры с США на основе понимания",
        "Украина готова продолжить переговоры с США на основе понимания",
        "Россия готова продолжить переговоры с США на основе понимания, достигнутого в 2024",
        "Россия готова продолжить встречи с США на основе понимания",
        "Россия готова продолжить переговоры с США без понимания, достигнутого",
    ],
)
def test_a_fuzzy_match_never_changes_what_the_quote_says(quote: str) -> None:
    text = f"Как заявил Лавров, {FIXED} Других подробностей нет."
    assert not ground_quote(quote, text).grounded


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        # an ending and a dropped function word
        ("Россия готов продолжить переговоры с США на основе понимания", FIXED[:61]),
        ("Россия готова продолжить переговоры США на основе понимания", FIXED[:61]),
    ],
)
def test_a_fuzzy_match_may_repair_an_ending_or_a_function_word(quote: str, found: str) -> None:
    text = f"Как заявил Лавров, {FIXED} Других подробностей нет."
    evidence = ground_quote(quote, text)
    assert evidence.match is MatchKind.FUZZY
    assert evidence.text == found


def test_negated_gold_quotes_are_never_grounded() -> None:
    """The reviewer's reproduction: a "не" slipped into each multi-word quote of the gold."""
    (path,) = GOLD.glob("001_*.json")
    gold = ArticleExtraction.model_validate(json.loads(path.read_text(encoding="utf-8")))
    text = _seed("001")
    negated = gold.model_copy(deep=True)
    quotes = []
    for _path, evidence in iter_evidence(negated):
        first, _, rest = evidence.text.partition(" ")
        if rest:
            evidence.text = f"{first} не {rest}"
            evidence.start = evidence.end = evidence.match = None
            quotes.append(evidence.text)
    assert quotes
    report = ground_extraction(negated, text)
    assert sorted(report.ungrounded) == sorted(quotes)
    assert report.fuzzy == []


def test_fuzzy_matches_are_reported_with_the_models_words(seed001: str) -> None:
    quote = "Уиткофф и Кушнер до конца января намерен побывать в Москве"
    extraction = ArticleExtraction(
        meetings=[Meeting(status="planned", evidence=[Evidence(text=quote)])]
    )
    report = ground_extraction(extraction, seed001)
    assert report.complete
    assert report.fuzzy == [(quote, "Уиткофф и Кушнер до конца января намерены побывать в Москве")]


def test_short_quotes_are_never_matched_fuzzily(seed001: str) -> None:
    assert len("Песковым") < FUZZY_MIN_CHARS
    assert not ground_quote("Песковым", seed001).grounded
    assert ground_quote("Песков", seed001).match is MatchKind.EXACT


def test_ellipsis_grounds_to_the_tightest_span_from_first_to_last_part(seed001: str) -> None:
    # "Уиткофф и Кушнер" first occurs in an earlier paragraph; the tightest span wins.
    evidence = ground_quote("Уиткофф и Кушнер … намерены побывать в Москве", seed001)
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == "Уиткофф и Кушнер до конца января намерены побывать в Москве"
    bracketed = ground_quote("Уиткофф и Кушнер [...] в Москве", seed001)
    assert (bracketed.start, bracketed.end) == (evidence.start, evidence.end)


def test_trailing_ellipsis_is_ignored(seed001: str) -> None:
    evidence = ground_quote("Уиткофф ответил утвердительно...", seed001)
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == "Уиткофф ответил утвердительно"


def test_repeated_quote_takes_the_first_or_the_one_nearest_the_hint(seed001: str) -> None:
    first = seed001.index("Уиткофф и Кушнер")
    second = seed001.index("Уиткофф и Кушнер", first + 1)
    assert ground_quote("Уиткофф и Кушнер", seed001).start == first
    assert ground_quote("Уиткофф и Кушнер", seed001, hint=second - 10).start == second
    assert ground_quote("уиткофф и кушнер", seed001, hint=second).start == second


def test_latin_text_grounds_the_same_way() -> None:
    text = (
        "Witkoff said the talks were “productive and constructive”.\n"
        "Kushner — who joined him — agreed.  The next round is in Miami."
    )
    assert ground_quote("The next round is in Miami.", text).match is MatchKind.EXACT
    normalised = ground_quote('the talks were "productive and constructive"', text)
    assert normalised.match is MatchKind.NORMALISED
    assert normalised.text == "the talks were “productive and constructive”"
    across = ground_quote("Kushner - who joined him - agreed. The next round", text)
    assert across.match is MatchKind.NORMALISED
    _assert_span(across, text)
    fuzzy = ground_quote("Witkoff said that talks were productive and constructive", text)
    assert fuzzy.match is MatchKind.FUZZY
    assert fuzzy.text.startswith("Witkoff said the talks")
    _assert_span(fuzzy, text)
    # "says" for "said" is another tense, not a typo.
    assert not ground_quote(
        "Witkoff says the talks were productive and constructive", text
    ).grounded


def test_a_span_across_a_line_break_keeps_the_original_characters() -> None:
    text = "Первый абзац кончается здесь.\n\nВторой абзац начинается тут."
    evidence = ground_quote("кончается здесь. Второй абзац", text)
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == "кончается здесь.\n\nВторой абзац"
    _assert_span(evidence, text)


def test_soft_hyphens_and_zero_widths_are_invisible() -> None:
    text = "Пере\u00adговоры прошли в Абу-\u200bДаби."
    evidence = ground_quote("Переговоры прошли в Абу-Даби", text)
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == "Пере\u00adговоры прошли в Абу-\u200bДаби"


def test_empty_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="empty quote"):
        ground_quote("   ", "any text")


def _extraction(text: str) -> ArticleExtraction:
    return ArticleExtraction(
        meetings=[
            Meeting(
                status="planned",
                evidence=[
                    Evidence(
                        text="Пресс-секретарь Кремля Дмитрий Песков подтвердил, что встреча запланирована."
                    ),
                    Evidence(text="Путин пригласил Трампа в Москву на следующей неделе."),
                ],
            )
        ],
        positions=[
            Position(
                side="US",
                issue="прогресс переговоров",
                stance="assessment",
                summary="Уиткофф говорит о большом прогрессе.",
                speech="direct",
                quote=Evidence(text='"большой прогресс"'),
                evidence=[Evidence(text="был достигнут «большой прогресс»", start=3, end=9)],
            )
        ],
    )


def test_ground_extraction_grounds_copies_and_lists_what_it_could_not_find(seed001: str) -> None:
    raw = _extraction(seed001)
    report = ground_extraction(raw, seed001)
    assert report.ungrounded == ["Путин пригласил Трампа в Москву на следующей неделе."]
    assert not report.complete
    meeting = report.extraction.meetings[0]
    assert meeting.evidence[0].match is MatchKind.EXACT
    assert not meeting.evidence[1].grounded
    position = report.extraction.positions[0]
    assert position.quote is not None and position.quote.text == "«большой прогресс»"
    # Offsets a model filled in wrongly are replaced, not trusted.
    assert position.evidence[0].start == seed001.index("был достигнут")
    assert check_spans(report.extraction, seed001) == [
        "meetings[0].evidence[1]: not grounded: "
        "'Путин пригласил Трампа в Москву на следующей неделе.'"
    ]
    # The input is left as it was.
    assert raw.meetings[0].evidence[0].start is None
    assert raw.positions[0].evidence[0].start == 3


def test_ground_extraction_keeps_offsets_that_already_hold(seed001: str) -> None:
    second = seed001.index("Уиткофф и Кушнер", seed001.index("Уиткофф и Кушнер") + 1)
    kept = Evidence(text="Уиткофф и Кушнер", start=second, end=second + 16, match="exact")
    extraction = ArticleExtraction(meetings=[Meeting(status="held", evidence=[kept])])
    report = ground_extraction(extraction, seed001)
    assert report.complete
    assert report.extraction.meetings[0].evidence[0].start == second


def test_check_spans_names_each_broken_span(seed001: str) -> None:
    extraction = ArticleExtraction(
        meetings=[
            Meeting(
                status="held",
                evidence=[
                    Evidence(text="Песков", start=0, end=6, match="exact"),
                    Evidence(
                        text="Песков", start=len(seed001), end=len(seed001) + 6, match="exact"
                    ),
                    Evidence(
                        text="Песков",
                        start=seed001.index("Песков"),
                        end=seed001.index("Песков") + 6,
                    ),
                ],
            )
        ]
    )
    problems = check_spans(extraction, seed001)
    assert problems[0].startswith("meetings[0].evidence[0]: text[0:6] is 'Спецпр'")
    assert "runs past the text" in problems[1]
    assert "no match kind" in problems[2]
    assert len(problems) == 3


@pytest.mark.parametrize("gold_path", gold_files(GOLD), ids=lambda p: p.stem[:3])
def test_grounding_and_normalising_leave_their_input_unchanged(gold_path: Path) -> None:
    """Both share unchanged objects with their input; neither may edit them."""
    (seed,) = SEEDS.glob(f"{gold_path.stem[:3]}_*.txt")
    article = load_article(seed)
    gold = json.loads(gold_path.read_text("utf-8"))
    answer = ArticleExtraction.model_validate(
        {"meetings": gold["meetings"], "positions": gold["positions"]}
    )
    for record in [*answer.meetings, *answer.positions]:  # half held, half as a model gives them
        for evidence in record.evidence[::2]:
            evidence.start = evidence.end = evidence.match = None
    people = [p.holder for p in answer.positions if p.holder is not None] + [
        person
        for m in answer.meetings
        for d in m.delegations
        for person in ([d.head] if d.head is not None else []) + d.members
    ]
    for person in people[::2]:  # half canonical already, half in another spelling
        person.name = person.name.upper()
    before = answer.model_dump()
    grounded = ground_extraction(answer, article.text).extraction
    assert answer.model_dump() == before
    grounded_before = grounded.model_dump()
    normalise_extraction(grounded, article)
    assert grounded.model_dump() == grounded_before


def test_a_quote_differing_only_in_its_closing_mark_is_normalised_on_the_articles_characters() -> (
    None
):
    text = "Сибіга заявив: «Ми готові до співпраці». Далі — інше."
    evidence = ground_quote("Ми готові до співпраці.", text)
    assert evidence.match is MatchKind.NORMALISED
    assert evidence.text == "Ми готові до співпраці»."
    assert text[evidence.start : evidence.end] == evidence.text
    english = ground_quote("we don't accept it", 'He said: "We don’t accept it."')
    assert english.match is MatchKind.NORMALISED
    assert (
        ground_quote(
            "we do accept it here today", 'He said: "We don’t accept it here today."'
        ).match
        is None
    )
