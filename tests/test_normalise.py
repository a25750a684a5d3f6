"""Normalisation on the seeds' names, sides, places and date expressions, and on the gold."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from llm_extract.articles import load_article
from llm_extract.normalise import (
    canonical_name,
    canonical_place,
    english_name,
    given_name,
    nominative_name,
    nominative_phrase,
    normalise_extraction,
    person_key,
    place_country,
    resolve_date,
    same_day,
    side_code,
    time_of_day,
)
from llm_extract.schemas import ArticleExtraction, MeetingStatus
from llm_extract.score import gold_files

ROOT = Path(__file__).resolve().parent.parent
GOLD = gold_files(ROOT / "evals" / "gold")

WED_2026_01_21 = dt.date(2026, 1, 21)  # seed 001
FRI_2025_12_26 = dt.date(2025, 12, 26)  # seed 002
FRI_2026_01_23 = dt.date(2026, 1, 23)  # seed 000
SUN_2026_02_01 = dt.date(2026, 2, 1)  # seed 003 (dateline)


@pytest.mark.parametrize(
    ("inflected", "nominative"),
    [
        ("Уиткоффом", "Уиткофф"),  # unknown to pymorphy: a consonant stem loses -ом
        ("Стивеном Уиткоффом", "Стивен Уиткофф"),
        ("Владимира Путина", "Владимир Путин"),
        ("Кирилла Дмитриева", "Кирилл Дмитриев"),
        ("Кириллом Дмитриевым", "Кирилл Дмитриев"),
        ("Джаредом Кушнером", "Джаред Кушнер"),
        ("Скоттом Бессентом", "Скотт Бессент"),
        ("Джошем Грюнбаумом", "Джош Грюнбаум"),
        ("Юрием Ушаковым", "Юрий Ушаков"),
        ("Владимиру Зеленскому", "Владимир Зеленский"),  # adjectival surname
        ("Давидом Арахамией", "Давид Арахамия"),  # a man's surname in -я
        ("Натальи Петровой", "Наталья Петрова"),  # a woman keeps the feminine form
        ("Марко Рубио", "Марко Рубио"),  # indeclinable
        ("Стив Уиткофф", "Стив Уиткофф"),
        ("Эммануэлем Макроном", "Эммануэль Макрон"),
        ("Steve Witkoff", "Steve Witkoff"),
    ],
)
def test_nominative_name(inflected: str, nominative: str) -> None:
    assert nominative_name(inflected) == nominative


@pytest.mark.parametrize(
    ("variant", "canonical", "english"),
    [
        ("Уиткоффом", "Стив Уиткофф", "Steve Witkoff"),
        ("Виткофф", "Стив Уиткофф", "Steve Witkoff"),
        ("Стивен Уиткофф", "Стив Уиткофф", "Steve Witkoff"),
        ("Witkoff", "Стив Уиткофф", "Steve Witkoff"),
        ("Steven Witkoff", "Стив Уиткофф", "Steve Witkoff"),
        ("Бессента", "Скотт Бессент", "Scott Bessent"),
        ("Кадырова", "Рамзан Кадыров", "Ramzan Kadyrov"),  # bare surname, one person
        ("Сибигой", "Андрей Сибига", "Andrii Sybiha"),
        ("В. Путин", "Владимир Путин", "Vladimir Putin"),
        ("Джеем Ди Вэнсом", "Джей Ди Вэнс", "JD Vance"),
        ("Грюнбойма", "Джош Грюнбаум", "Josh Gruenbaum"),
    ],
)
def test_alias_table_gives_the_canonical_person(variant: str, canonical: str, english: str) -> None:
    assert canonical_name(variant) == canonical
    assert english_name(variant) == english
    assert person_key(variant) == person_key(canonical)


def test_one_key_for_every_form_of_witkoff() -> None:
    forms = ["Уиткоффом", "Виткофф", "Стив Уиткофф", "Witkoff", "Steven Witkoff", "Уиткоффу"]
    assert {person_key(f) for f in forms} == {"steve witkoff"}


def test_a_different_first_name_is_a_different_person() -> None:
    # Charles Kushner shares a surname with Jared Kushner, who is in the table.
    assert canonical_name("Чарльз Кушнер") == "Чарльз Кушнер"
    assert english_name("Чарльз Кушнер") == "Charlz Kushner"  # transliterated, not Jared's
    assert person_key("Чарльз Кушнер") != person_key("Джаред Кушнер")


@pytest.mark.parametrize(
    ("name", "surname", "given"),
    [
        ("Рябков Сергей", "ryabkov", "sergey"),
        ("Сергей Рябков", "ryabkov", "sergey"),
        ("Шойгу Сергей", "shoygu", "sergey"),
        ("Пётр Иванов", "ivanov", "petr"),
        ("Хантер Байден", "bayden", "khanter"),
        ("Рябков С.В.", "ryabkov", "s"),
        ("Грушко", "grushko", None),
        ("Hunter Biden", "biden", "hunter"),
        # one rule across languages: Russian, Ukrainian, English, Chinese, Turkish
        ("Алексей Ерхов", "erkhov", "aleksey"),
        ("Олексій Ерхов", "erkhov", "oleksii"),
        ("Юлія Свириденко", "svyrydenko", "yuliia"),
        ("Тарас Шевченко", "shevchenko", "taras"),
        ("Wang Yi", "wang", "yi"),
        ("Ван И", "van", "i"),
        ("Си Цзиньпин", "si", "tszinpin"),
        ("Хакан Фидан", "fidan", "khakan"),
        ("Hakan Fidan", "fidan", "hakan"),
    ],
)
def test_the_surname_is_found_by_one_rule(name: str, surname: str, given: str | None) -> None:
    assert person_key(name) == surname
    assert given_name(name) == given


def test_a_table_person_in_surname_first_order_is_still_found() -> None:
    assert person_key("Дмитриев Кирилл") == person_key("Кирилл Дмитриев") == "kirill dmitriev"
    assert given_name("Кирилл Дмитриев") is None


def test_people_outside_the_table_key_on_their_nominative_surname() -> None:
    assert canonical_name("Ивана Петрова") == "Иван Петров"
    assert person_key("Ивана Петрова") == person_key("Петров") == "petrov"
    assert english_name("Ивана Петрова") == "Ivan Petrov"  # a standard transliteration
    assert english_name("Павло Паліса") == "Pavlo Palisa"  # the table's, Ukrainian spelling
    assert english_name("Олексій Ерхов") == "Oleksii Erkhov"  # Ukrainian national system
    assert english_name("John Smith") == "John Smith"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Россия", "RU"),
        ("РФ", "RU"),
        ("российская сторона", "RU"),
        ("российской стороны", "RU"),
        ("Кремлем", "RU"),
        ("Москвы", "RU"),
        ("президент России", "RU"),
        ("США", "US"),
        ("американской делегации", "US"),
        ("Вашингтоне", "US"),
        ("Белого дома", "US"),
        ("Соединенных Штатов", "US"),
        ("Украина", "UA"),
        ("Киев", "UA"),
        ("украинской стороной", "UA"),
        ("ЕС", "EU"),
        ("Евросоюза", "EU"),
        ("НАТО", "NATO"),
        ("ООН", "UN"),
        ("Катара", "QA"),  # pycountry's Russian names
        ("Russia", "RU"),
        ("the United States", "US"),
        ("Germany", "DE"),
        ("the Russian side", "RU"),
    ],
)
def test_side_code(name: str, code: str) -> None:
    assert side_code(name) == code


@pytest.mark.parametrize(
    "name", ["Вашингтон и Москва", "американо-российская группа", "европейские партнеры", "стороны"]
)
def test_side_code_refuses_two_sides_or_none(name: str) -> None:
    assert side_code(name) is None


@pytest.mark.parametrize(
    ("place", "code"),
    [
        ("Абу-Даби", "AE"),
        ("Майами", "US"),
        ("Давос", "CH"),
        ("Москве", "RU"),
        ("Кремль", "RU"),
        ("Швейцария", "CH"),
        ("Abu Dhabi", "AE"),
    ],
)
def test_place_country(place: str, code: str) -> None:
    assert place_country(place) == code


def test_known_places_take_the_tables_spelling() -> None:
    assert canonical_place("Москве") == "Москва"
    assert canonical_place("Абу-Даби") == "Абу-Даби"
    assert canonical_place("Гаване") == "Гаване"  # unknown places are left alone


def test_place_country_is_never_an_organisation() -> None:
    assert place_country("НАТО") is None
    assert place_country("Нигде-на-Свете") is None


@pytest.mark.parametrize(
    ("expression", "start", "end"),
    [
        ("23 января 2026 года", "2026-01-23", None),
        ("23-24 января 2026", "2026-01-23", "2026-01-24"),
        ("23.01.2026", "2026-01-23", None),
        ("в январе 2026 года", "2026-01", None),
        ("в 2025 году", "2025", None),
    ],
)
def test_without_a_publication_date_absolute_dates_still_resolve(
    expression: str, start: str, end: str | None
) -> None:
    date = resolve_date(expression, None)
    assert date is not None and (date.start, date.end) == (start, end)


@pytest.mark.parametrize(
    "expression",
    ["накануне", "23 января", "в четверг", "в январе", "в прошлом году", "в этом месяце"],
)
def test_without_a_publication_date_relative_dates_give_none(expression: str) -> None:
    assert resolve_date(expression, None) is None


@pytest.mark.parametrize(
    ("expression", "published", "tense", "start", "end"),
    [
        ("накануне", WED_2026_01_21, None, "2026-01-20", None),
        ("Накануне", WED_2026_01_21, "past", "2026-01-20", None),
        ("в четверг на этой неделе", WED_2026_01_21, None, "2026-01-22", None),
        ("вечером в среду", WED_2026_01_21, None, "2026-01-21", None),
        ("в минувшие выходные", FRI_2025_12_26, None, "2025-12-20", "2025-12-21"),
        ("в прошлые выходные", FRI_2025_12_26, "past", "2025-12-20", "2025-12-21"),
        ("23 января", FRI_2026_01_23, "future", "2026-01-23", None),
        ("2 декабря 2025 года", FRI_2026_01_23, None, "2025-12-02", None),
        ("2 декабря", FRI_2026_01_23, None, "2025-12-02", None),  # nearest year
        ("31 января", SUN_2026_02_01, "past", "2026-01-31", None),
        ("1 февраля", SUN_2026_02_01, "future", "2026-02-01", None),
        ("в январе", WED_2026_01_21, None, "2026-01", None),
        ("до конца января", WED_2026_01_21, None, "2026-01", None),
        ("в начале февраля", WED_2026_01_21, None, "2026-02", None),
        ("в декабре", WED_2026_01_21, None, "2025-12", None),
        ("в январе", FRI_2025_12_26, "future", "2026-01", None),
        ("в прошлом году", WED_2026_01_21, None, "2025", None),
        ("в 2025 году", WED_2026_01_21, None, "2025", None),
        ("сегодня", WED_2026_01_21, None, "2026-01-21", None),
        ("вчера", WED_2026_01_21, None, "2026-01-20", None),
        ("завтра", WED_2026_01_21, None, "2026-01-22", None),
        ("три дня назад", WED_2026_01_21, None, "2026-01-18", None),
        ("в понедельник", WED_2026_01_21, None, "2026-01-19", None),
        ("в понедельник", WED_2026_01_21, "past", "2026-01-19", None),
        ("в понедельник", WED_2026_01_21, "future", "2026-01-26", None),
        ("в пятницу", WED_2026_01_21, "past", "2026-01-16", None),
        ("в прошлый четверг", WED_2026_01_21, None, "2026-01-15", None),
        ("в следующий вторник", WED_2026_01_21, None, "2026-01-27", None),
        ("в четверг на следующей неделе", WED_2026_01_21, None, "2026-01-29", None),
        ("на прошлой неделе", WED_2026_01_21, None, "2026-01-12", "2026-01-18"),
        ("на этой неделе", WED_2026_01_21, None, "2026-01-19", "2026-01-25"),
        ("в эти выходные", WED_2026_01_21, None, "2026-01-24", "2026-01-25"),
        ("23-24 января", WED_2026_01_21, None, "2026-01-23", "2026-01-24"),
        ("31 января – 1 февраля", WED_2026_01_21, None, "2026-01-31", "2026-02-01"),
        ("30 декабря – 2 января", FRI_2025_12_26, None, "2025-12-30", "2026-01-02"),
        ("в четверг, 22 января", WED_2026_01_21, None, "2026-01-22", None),
        ("23.01.2026", WED_2026_01_21, None, "2026-01-23", None),
        ("on Thursday", WED_2026_01_21, None, "2026-01-22", None),
        ("yesterday", WED_2026_01_21, None, "2026-01-20", None),
        ("last weekend", WED_2026_01_21, None, "2026-01-17", "2026-01-18"),
        ("next week", WED_2026_01_21, None, "2026-01-26", "2026-02-01"),
        ("January 23, 2026", WED_2026_01_21, None, "2026-01-23", None),
        ("in March", WED_2026_01_21, None, "2026-03", None),
    ],
)
def test_resolve_date(
    expression: str, published: dt.date, tense: str | None, start: str, end: str | None
) -> None:
    date = resolve_date(expression, published, tense=tense)  # type: ignore[arg-type]
    assert date is not None
    assert (date.start, date.end, date.text) == (start, end, expression)


def test_precision_follows_the_expression() -> None:
    assert resolve_date("накануне", WED_2026_01_21).precision == "day"
    assert resolve_date("в январе", WED_2026_01_21).precision == "month"
    assert resolve_date("в прошлом году", WED_2026_01_21).precision == "year"


@pytest.mark.parametrize(
    "expression",
    ["ранее", "недавно", "в последнее время", "на днях", "накануне встречи", "вечером"],
)
def test_vague_expressions_give_no_date(expression: str) -> None:
    assert resolve_date(expression, WED_2026_01_21) is None


def _gold(path: Path) -> tuple[ArticleExtraction, object]:
    article = load_article(ROOT / "seeds" / f"{path.stem}.txt")
    return ArticleExtraction.model_validate_json(path.read_text("utf-8")), article


@pytest.mark.parametrize("path", GOLD, ids=lambda p: p.stem[:3])
def test_gold_dates_are_what_the_rules_give(path: Path) -> None:
    gold, article = _gold(path)
    tenses = {"held": "past", "planned": "future", "proposed": "future"}
    for meeting in gold.meetings:
        if meeting.date is None or meeting.date.text is None:
            continue
        tense = tenses.get(meeting.status.value)
        resolved = resolve_date(meeting.date.text, article.published, tense=tense)  # type: ignore[arg-type]
        if resolved is None:  # a same-day cue: the publication day (or the night into it)
            cue = same_day(meeting.date.text, article.published, meeting.status)
            assert cue is not None, meeting.date.text
            assert cue.start in (meeting.date.start, meeting.date.end)
            continue
        assert (resolved.start, resolved.end) == (meeting.date.start, meeting.date.end)


@pytest.mark.parametrize("path", GOLD, ids=lambda p: p.stem[:3])
def test_gold_is_already_normal(path: Path) -> None:
    gold, article = _gold(path)
    assert normalise_extraction(gold, article) == gold  # type: ignore[arg-type]


def test_normalise_repairs_what_models_get_wrong_and_keeps_the_rest() -> None:
    path = next(p for p in GOLD if p.stem.startswith("001"))
    gold, article = _gold(path)
    raw = gold.model_copy(deep=True)
    planned, davos = raw.meetings[0], raw.meetings[1]
    us, ru = planned.delegations
    assert us.head is not None and ru.head is not None
    us.head.name, us.head.name_en = "Уиткоффом", None
    us.members[0].name, us.members[0].name_en = "Джаредом Кушнером", None
    ru.head.name, ru.head.name_en = "Владимира Путина", "V. Putin"
    assert planned.location is not None and planned.date is not None
    planned.location.country, planned.location.place = None, "Москве"
    planned.date.start = "2025-01-22"  # the model's stale year for «в четверг на этой неделе»
    assert davos.date is not None
    davos.date.start = "2026-01-21"  # a wrong day is the model's call: kept, not rewritten
    holder = raw.positions[0].holder
    assert holder is not None
    holder.name, raw.positions[0].side = "Виткофф", None

    normal = normalise_extraction(raw, article)  # type: ignore[arg-type]

    assert normal.meetings[0] == gold.meetings[0]
    assert normal.meetings[1].date is not None and normal.meetings[1].date.start == "2026-01-21"
    assert normal.positions[0] == gold.positions[0]
    assert len(normal.meetings) == len(raw.meetings)
    assert len(normal.positions) == len(raw.positions)
    assert raw.meetings[0].delegations[0].head.name == "Уиткоффом"  # the input is untouched


def test_unknown_people_keep_the_models_english_name() -> None:
    extraction = ArticleExtraction.model_validate(
        {
            "meetings": [
                {
                    "status": "held",
                    "delegations": [
                        {
                            "side": "FR",
                            "head": {"name": "Эммануэлем Макроном", "name_en": "Emmanuel Macron"},
                        }
                    ],
                    "evidence": [{"text": "Макрон встретился"}],
                }
            ]
        }
    )
    article = load_article("Макрон встретился с Зеленским.")
    head = normalise_extraction(extraction, article).meetings[0].delegations[0].head
    assert head is not None
    assert (head.name, head.name_en) == ("Эммануэль Макрон", "Emmanuel Macron")


@pytest.mark.parametrize(
    ("words", "nominative"),
    [
        (["главой"], ["глава"]),
        (["специальным", "посланником"], ["специальный", "посланник"]),
        (["Помощнику"], ["Помощник"]),
        (["представителями"], ["представители"]),
        (["министр"], ["министр"]),
    ],
)
def test_nominative_phrase(words: list[str], nominative: list[str]) -> None:
    assert nominative_phrase(words) == nominative


def _people_of(extraction: ArticleExtraction) -> list[tuple[str, str | None, str | None]]:
    people = []
    for meeting in extraction.meetings:
        for delegation in meeting.delegations:
            for person in ([delegation.head] if delegation.head else []) + delegation.members:
                people.append((person.name, person.name_en, person.person_id))
    people += [
        (p.holder.name, p.holder.name_en, p.holder.person_id)
        for p in extraction.positions
        if p.holder is not None
    ]
    return people


def test_a_bare_surname_in_any_case_joins_the_person_named_in_full() -> None:
    text = "Хакан Фидан встретился с Лавровым. Позиция Фидана не изменилась, — сказал Фидан."
    extraction = ArticleExtraction.model_validate(
        {
            "meetings": [
                {
                    "status": "held",
                    "delegations": [
                        {"side": "TR", "head": {"name": "Хакан Фидан"}},
                        {"side": "RU", "head": {"name": "Лавровым"}},
                    ],
                    "evidence": [{"text": "Хакан Фидан встретился с Лавровым."}],
                }
            ],
            "positions": [
                {
                    "holder": {"name": name},
                    "issue": "позиция",
                    "stance": "assessment",
                    "summary": "Фидан.",
                    "speech": "reported",
                    "evidence": [{"text": "Позиция Фидана не изменилась"}],
                }
                for name in ("Фидана", "Фидан")
            ],
        }
    )
    normal = normalise_extraction(extraction, load_article(text))
    fidan = ("Хакан Фидан", "Khakan Fidan", None)
    assert _people_of(normal) == [fidan, ("Лавров", "Sergey Lavrov", "sergey-lavrov"), fidan, fidan]
    assert [p.side for p in normal.positions] == ["TR", "TR"]  # from his delegation


def test_one_name_policy_for_a_ukrainian_article() -> None:
    text = "Андрій Сибіга, Рустем Умєров, Павло Паліса і Марко Рубіо провели переговори."
    names = ["Андрієм Сибігою", "Рустем Умєров", "Павло Паліса", "Марко Рубіо", "Ерхов"]
    extraction = ArticleExtraction.model_validate(
        {
            "meetings": [
                {
                    "status": "held",
                    "delegations": [
                        {"side": "UA", "members": [{"name": n} for n in names[:3]]},
                        {"side": "US", "head": {"name": "Марка Рубіо", "name_en": "Marco Rubio"}},
                        {"side": "RU", "head": {"name": "Олексій Ерхов"}},
                    ],
                    "evidence": [{"text": text}],
                }
            ]
        }
    )
    normal = normalise_extraction(extraction, load_article(text))
    assert _people_of(normal) == [
        ("Андрій Сибіга", "Andrii Sybiha", "andrii-sybiha"),
        ("Рустем Умєров", "Rustem Umerov", "rustem-umerov"),
        ("Павло Паліса", "Pavlo Palisa", "pavlo-palisa"),
        ("Марко Рубіо", "Marco Rubio", "marco-rubio"),
        ("Олексій Ерхов", "Oleksii Erkhov", None),
    ]


@pytest.mark.parametrize(
    ("expression", "tense", "start", "end"),
    [
        ("10-12 березня", None, "2026-03-10", "2026-03-12"),
        ("10 березня", None, "2026-03-10", None),
        ("у березні", None, "2026-03", None),
        ("учора", None, "2026-03-11", None),
        ("напередодні", None, "2026-03-11", None),
        ("у середу", "future", "2026-03-18", None),  # a future weekday resolves forward
        ("у п'ятницю", "past", "2026-03-06", None),
        ("минулого тижня", None, "2026-03-02", "2026-03-08"),
        ("на минулих вихідних", None, "2026-03-07", "2026-03-08"),
        ("три дні тому", None, "2026-03-09", None),
        ("минулого року", None, "2025", None),
        ("вечером в среду", "future", "2026-03-18", None),
        ("next Tuesday", None, "2026-03-17", None),
    ],
)
def test_ukrainian_and_forward_dates(
    expression: str, tense: str | None, start: str, end: str | None
) -> None:
    date = resolve_date(expression, dt.date(2026, 3, 12), tense=tense)  # a Thursday
    assert date is not None
    assert (date.start, date.end) == (start, end)


def test_a_clock_time_and_its_zone_are_kept() -> None:
    date = resolve_date("сегодня в 22:00 по московскому времени", dt.date(2026, 3, 12))
    assert date is not None
    assert (date.start, date.time, date.time_zone) == ("2026-03-12", "22:00", "Europe/Moscow")
    assert time_of_day("at 10:30 UTC+2") == ("10:30", "UTC+2")
    assert time_of_day("о 15:00 за київським часом") == ("15:00", "Europe/Kyiv")
    assert time_of_day("в 2026 году") is None


@pytest.mark.parametrize(
    ("sentence", "status", "text"),
    [
        ("Переговоры в Анкоридже начались.", MeetingStatus.ONGOING, "начались"),
        ("Только что закончившаяся встреча прошла в Кремле.", MeetingStatus.HELD, "Только что"),
        ("Переговори тривають у Женеві.", MeetingStatus.ONGOING, "тривають"),
        ("The talks are under way in Geneva.", MeetingStatus.ONGOING, "under way"),
    ],
)
def test_same_day_meetings_take_the_publication_date(
    sentence: str, status: MeetingStatus, text: str
) -> None:
    date = same_day(sentence, dt.date(2026, 3, 12), status)
    assert date is not None
    assert (date.start, date.precision, date.text) == ("2026-03-12", "day", text)


def test_same_day_keeps_the_time_and_needs_a_cue_and_a_date() -> None:
    planned = same_day("Переговоры намечены на 22:00 по московскому времени.", dt.date(2026, 3, 12), MeetingStatus.PLANNED)  # fmt: skip
    assert planned is not None and (planned.time, planned.time_zone) == ("22:00", "Europe/Moscow")
    assert same_day("Переговоры прошли в Женеве.", dt.date(2026, 3, 12), MeetingStatus.HELD) is None
    assert same_day("Переговоры начались.", None, MeetingStatus.ONGOING) is None
    assert (
        same_day("Встреча может пройти сегодня.", dt.date(2026, 3, 12), MeetingStatus.PROPOSED)
        is None
    )
