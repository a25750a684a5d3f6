"""The offline baseline: meetings and positions from rules over natasha, offsets exact.

Seed articles check the whole pipeline; short invented sentences of the genre
(not copied from the seeds) check one rule each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_extract import ArticleError, load_article
from llm_extract.baseline import BaselineExtractor
from llm_extract.baseline.nlp import _models, parse
from llm_extract.ground import check_spans
from llm_extract.schemas import ArticleExtraction, Meeting, Position

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))


@pytest.fixture(scope="module")
def baseline() -> BaselineExtractor:
    extractor = BaselineExtractor()
    extractor.load()
    return extractor


def run(baseline: BaselineExtractor, body: str, published: str = "2025-11-28") -> ArticleExtraction:
    article = load_article(f" date {published} {body}")
    extraction = baseline.extract(article)
    assert check_spans(extraction, article.text) == []
    return extraction


def sides(meeting: Meeting) -> set[str]:
    return {d.side for d in meeting.delegations}


def head(meeting: Meeting, side: str) -> str | None:
    delegation = next(d for d in meeting.delegations if d.side == side)
    return delegation.head.name if delegation.head else None


def people(meeting: Meeting) -> set[str]:
    return {p.name for d in meeting.delegations for p in ([d.head] if d.head else []) + d.members}


# --------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem[:3])
def test_seed_evidence_offsets_are_exact(baseline: BaselineExtractor, path: Path) -> None:
    article = load_article(path)
    extraction = baseline.extract(article)
    assert extraction.meetings, "every seed reports at least one meeting"
    assert check_spans(extraction, article.text) == []
    for meeting in extraction.meetings:
        for evidence in meeting.evidence:
            assert article.text[evidence.start : evidence.end] == evidence.text
    ArticleExtraction.model_validate_json(extraction.model_dump_json())


def test_seed_kremlin_talks_and_the_meetings_they_set_up(baseline: BaselineExtractor) -> None:
    article = load_article(SEEDS[0])
    meetings = baseline.extract(article).meetings
    kremlin = next(m for m in meetings if m.location and m.location.venue == "Кремль")
    assert kremlin.status == "held"
    assert (kremlin.location.place, kremlin.location.country) == ("Москва", "RU")
    assert head(kremlin, "RU") == "Владимир Путин"
    assert head(kremlin, "US") == "Стив Уиткофф"
    assert {"Юрий Ушаков", "Кирилл Дмитриев", "Джаред Кушнер", "Джош Грюнбаум"} <= people(kremlin)
    abu_dhabi = [m for m in meetings if m.location and m.location.place == "Абу-Даби"]
    assert {m.status for m in abu_dhabi} == {"planned"}
    group = next(m for m in abu_dhabi if sides(m) == {"RU", "US", "UA"})
    assert group.date.start == "2026-01-23"
    assert head(group, "RU") == "Игорь Костюков"
    earlier = next(m for m in meetings if m.date and m.date.start == "2025-12-02")
    assert earlier.status == "held"
    assert people(earlier) == {"Владимир Путин", "Стив Уиткофф"}  # "российский президент" ...


# --------------------------------------------------------------------------- meetings


def test_phone_call_with_weekday_resolved_against_publication(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Глава МИД России Сергей Лавров в четверг провел телефонный разговор с "
        "государственным секретарем США Марко Рубио.",
        published="2025-11-28",
    )
    [call] = extraction.meetings
    assert (call.status, call.format) == ("held", "phone")
    assert call.date.start == "2025-11-27"
    assert head(call, "RU") == "Сергей Лавров"
    assert head(call, "US") == "Марко Рубио"
    lavrov = next(d for d in call.delegations if d.side == "RU").head
    assert lavrov.role == "глава МИД России"
    assert lavrov.name_en == "Sergey Lavrov"


def test_planned_meeting_at_a_venue_fixes_city_and_country(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Президент Украины Владимир Зеленский встретится с президентом США Дональдом "
        "Трампом в Белом доме в пятницу.",
        published="2025-02-25",
    )
    [meeting] = extraction.meetings
    assert (meeting.status, meeting.format) == ("planned", "in_person")
    assert meeting.location.model_dump() == {
        "place": "Вашингтон",
        "country": "US",
        "venue": "Белый дом",
    }
    assert meeting.date.start == "2025-02-28"
    assert head(meeting, "UA") == "Владимир Зеленский"
    assert head(meeting, "US") == "Дональд Трамп"


def test_participants_named_in_the_next_sentences_join_the_meeting(
    baseline: BaselineExtractor,
) -> None:
    extraction = run(
        baseline,
        "Встреча представителей России и США состоялась 15 марта в Женеве. Российскую "
        "делегацию возглавил замминистра иностранных дел Сергей Рябков. Американскую "
        "сторону представлял помощник госсекретаря Джон Смит.",
        published="2025-03-20",
    )
    [meeting] = extraction.meetings
    assert meeting.status == "held"
    assert (meeting.location.place, meeting.location.country) == ("Женева", "CH")
    assert meeting.date.start == "2025-03-15"
    assert head(meeting, "RU") == "Сергей Рябков"
    assert head(meeting, "US") == "Джон Смит"
    assert len(meeting.evidence) == 3


def test_taking_part_adds_a_member(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Уиткофф и Дмитриев встретились в Майами 24 октября. Во встрече также принял участие "
        "Джаред Кушнер.",
        published="2025-10-25",
    )
    [meeting] = extraction.meetings
    america = next(d for d in meeting.delegations if d.side == "US")
    assert (america.head.name, [m.name for m in america.members]) == (
        "Стив Уиткофф",
        ["Джаред Кушнер"],
    )


def test_receiving_a_guest_is_a_meeting(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Президент России Владимир Путин во вторник принял в Кремле специального посланника "
        "президента США Стива Уиткоффа. Беседа продолжалась около пяти часов.",
        published="2025-12-03",
    )
    [meeting] = extraction.meetings
    assert (meeting.status, meeting.date.start) == ("held", "2025-12-02")
    assert people(meeting) == {"Владимир Путин", "Стив Уиткофф"}
    assert meeting.location.venue == "Кремль"
    assert len(meeting.evidence) == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            "Переговоры делегаций России и Украины в Стамбуле, запланированные на "
            "понедельник, перенесены.",
            "postponed",
        ),
        ("Встреча министров обороны России и Турции в Стамбуле отменена.", "cancelled"),
        ("Делегации России и Украины намерены встретиться в Стамбуле.", "planned"),
        ("Делегации России и Украины проводят переговоры в Стамбуле.", "ongoing"),
        ("Встреча делегаций России и Украины может пройти в Стамбуле.", "proposed"),
        ("Делегации России и Украины встретились в Стамбуле.", "held"),
    ],
)
def test_status_from_cue_words_and_tense(
    baseline: BaselineExtractor, body: str, status: str
) -> None:
    [meeting] = run(baseline, body).meetings
    assert meeting.status == status
    assert meeting.location.place == "Стамбул"


@pytest.mark.parametrize(
    ("body", "status", "format_"),
    [
        ("Зеленский заявил, что готов встретиться с Путиным.", "proposed", "in_person"),
        ("Трамп не исключил встречи с Путиным в ближайшее время.", "proposed", "in_person"),
        ("Президенты России и США провели видеоконференцию.", "held", "video"),
        ("Путин и Трамп созвонились в четверг.", "held", "phone"),
    ],
)
def test_proposals_and_formats(
    baseline: BaselineExtractor, body: str, status: str, format_: str
) -> None:
    [meeting] = run(baseline, body).meetings
    assert (meeting.status, meeting.format) == (status, format_)
    assert len(meeting.delegations) == 2


def test_next_round_is_a_new_meeting_of_the_same_sides(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Представители США и России провели переговоры в Майами. Следующий раунд может "
        "пройти в Москве.",
    )
    first, following = extraction.meetings
    assert (first.status, first.location.place) == ("held", "Майами")
    assert (following.status, following.location.place) == ("proposed", "Москва")
    assert sides(following) == sides(first) == {"US", "RU"}


def test_different_sides_in_one_sentence_are_two_meetings(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "В минувшие выходные в Майами прошли переговоры российской и американской "
        "делегаций, а также состоялись встречи украинских представителей с "
        "американскими переговорщиками.",
        published="2025-12-26",
    )
    assert [sides(m) for m in extraction.meetings] == [{"RU", "US"}, {"UA", "US"}]
    for meeting in extraction.meetings:
        assert (meeting.date.start, meeting.date.end) == ("2025-12-20", "2025-12-21")
        assert meeting.location.place == "Майами"


def test_who_sends_others_is_not_at_the_meeting(baseline: BaselineExtractor) -> None:
    body = "Трамп поручил Уиткоффу встретиться с Путиным на следующей неделе."
    [meeting] = run(baseline, body, published="2025-10-25").meetings
    assert people(meeting) == {"Стив Уиткофф", "Владимир Путин"}
    assert meeting.status == "planned"
    assert (meeting.date.start, meeting.date.end) == ("2025-10-27", "2025-11-02")


def test_who_reports_a_meeting_is_not_at_it(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Пресс-секретарь Кремля Дмитрий Песков подтвердил, что Путин встретится с "
        "Уиткоффом в четверг.",
    )
    [meeting] = extraction.meetings
    assert people(meeting) == {"Владимир Путин", "Стив Уиткофф"}
    assert meeting.status == "planned"


@pytest.mark.parametrize(
    "body",
    [
        "В последние месяцы стороны обсуждают мирный план.",
        "Кремль скептически оценивает перспективы мирных переговоров с Украиной.",
        "Министр подчеркнул важность переговорного процесса.",
        "Встреча Путина и Трампа пока не планируется, заявил Песков.",
        "Зеленский заявил, что без прямого контакта с руководством РФ невозможно договориться.",
    ],
)
def test_no_meeting_in_talk_about_talks(baseline: BaselineExtractor, body: str) -> None:
    assert run(baseline, body).meetings == []


def test_relative_dates_need_a_publication_date(baseline: BaselineExtractor) -> None:
    article = load_article(
        "Лавров и Рубио встретились накануне в Эр-Рияде. Следующая встреча пройдет "
        "2 марта в Женеве."
    )
    assert article.published is None
    meetings = baseline.extract(article).meetings
    assert [(m.status, m.location.place, m.date) for m in meetings] == [
        ("held", "Эр-Рияд", None),
        ("planned", "Женева", None),
    ]


def test_members_listed_after_a_delegation_take_its_side(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Прямые переговоры делегаций России и Украины прошли в пятницу в Стамбуле. "
        "Российскую делегацию возглавлял помощник президента Владимир Мединский. В ее состав "
        "вошли замминистра иностранных дел Михаил Галузин и замминистра обороны Александр Фомин.",
        published="2025-05-17",
    )
    [meeting] = extraction.meetings
    russia = next(d for d in meeting.delegations if d.side == "RU")
    assert russia.head.name == "Владимир Мединский"
    assert [m.name for m in russia.members] == ["Михаил Галузин", "Александр Фомин"]
    assert russia.members[0].role == "замминистра иностранных дел"


def test_a_region_and_its_city_are_one_meeting(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Саммит России и США на Аляске завершился. Переговоры Владимира Путина и Дональда "
        "Трампа в Анкоридже продолжались около трех часов.",
        published="2025-08-16",
    )
    [meeting] = extraction.meetings
    assert meeting.location.country == "US"
    assert people(meeting) == {"Владимир Путин", "Дональд Трамп"}


def test_an_invitation_is_a_proposed_visit(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Путин и Трамп провели телефонный разговор. Путин пригласил Трампа посетить Москву.",
    )
    call, visit = extraction.meetings
    assert (call.status, call.format) == ("held", "phone")
    assert (visit.status, visit.location.place) == ("proposed", "Москва")


# --------------------------------------------------------------------------- positions


def test_quote_attributed_after_a_dash(baseline: BaselineExtractor) -> None:
    body = "«Мы против любых территориальных уступок», — заявил Зеленский журналистам."
    [position] = run(baseline, body).positions
    assert position.holder.name == "Владимир Зеленский"
    assert (position.side, position.stance, position.speech) == ("UA", "oppose", "direct")
    assert position.quote.text == "Мы против любых территориальных уступок"


def test_words_of_a_person_and_what_they_propose(baseline: BaselineExtractor) -> None:
    body = "По словам Рубио, Вашингтон предлагает заморозить конфликт по линии фронта."
    [position] = run(baseline, body).positions
    assert position.holder.name == "Марко Рубио"
    assert (position.stance, position.speech) == ("propose", "reported")
    assert "заморозить конфликт" in position.issue


def test_calling_talks_constructive_is_an_assessment(baseline: BaselineExtractor) -> None:
    body = "Министр Сергей Лавров назвал переговоры с американской делегацией конструктивными."
    [position] = run(baseline, body).positions
    assert position.holder.name == "Сергей Лавров"
    assert position.stance == "assessment"
    assert position.issue.startswith("переговоры")


def test_pronoun_is_the_person_named_before(baseline: BaselineExtractor) -> None:
    body = (
        "Пресс-секретарь президента Дмитрий Песков ответил на вопросы журналистов. "
        "Он отметил, что встреча была полезной."
    )
    [position] = run(baseline, body).positions
    assert position.holder.name == "Дмитрий Песков"
    assert position.stance == "assessment"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("В Кремле отказались сообщить детали переговоров.", [("RU", "decline")]),
        ("Россия требует уступок, которые Киев отвергает.", [("RU", "demand"), ("UA", "oppose")]),
        ("Киев не согласен с передачей территорий.", [("UA", "oppose")]),
    ],
)
def test_sides_as_holders(baseline: BaselineExtractor, body: str, expected: list) -> None:
    positions = run(baseline, body).positions
    assert [(p.side, p.stance) for p in positions] == expected
    assert all(p.holder is None for p in positions)


def test_a_bare_fact_is_not_a_position(baseline: BaselineExtractor) -> None:
    assert run(baseline, "Песков подтвердил, что встреча запланирована.").positions == []


def test_speech_after_what_was_said(baseline: BaselineExtractor) -> None:
    body = "Следующая встреча может пройти в Москве, заявил Лавров."
    [position] = run(baseline, body).positions
    assert (position.holder.name, position.stance) == ("Сергей Лавров", "propose")


def test_title_without_a_name_is_the_person_who_holds_it(baseline: BaselineExtractor) -> None:
    body = (
        "Министр иностранных дел России Сергей Лавров провел переговоры в Эр-Рияде. "
        "Российский министр назвал переговоры полезными."
    )
    [position] = run(baseline, body).positions
    assert position.holder.name == "Сергей Лавров"


# --------------------------------------------------------------------------- natasha slips


def test_title_glued_to_a_name_is_not_that_person(baseline: BaselineExtractor) -> None:
    body = (
        "Спецпредставитель президента РФ Кирилл Дмитриев провел встречи с Уиткоффом. "
        "Спецпосланник Путина назвал переговоры конструктивными."
    )
    [_, glued] = parse(body)
    assert [m.normal for m in glued.mentions if m.kind == "PER"] == ["Путина"]
    assert glued.mentions[0].after_role
    extraction = run(baseline, body)
    assert [p.holder.name for p in extraction.positions] == ["Кирилл Дмитриев"]
    assert people(extraction.meetings[0]) == {"Кирилл Дмитриев", "Стив Уиткофф"}


def test_the_social_network_x_is_not_a_person(baseline: BaselineExtractor) -> None:
    body = "Уиткофф в соцсети Х написал, что провел продуктивные встречи с Дмитриевым."
    assert all(m.text != "Х" for s in parse(body) for m in s.mentions)
    extraction = run(baseline, body)
    assert people(extraction.meetings[0]) == {"Стив Уиткофф", "Кирилл Дмитриев"}
    assert [p.holder.name for p in extraction.positions] == ["Стив Уиткофф"]


def test_white_house_in_a_title_is_not_the_place(baseline: BaselineExtractor) -> None:
    body = "Советник Белого дома Джош Грюнбаум встретился с Кириллом Дмитриевым в Майами."
    [meeting] = run(baseline, body).meetings
    assert meeting.location.model_dump() == {"place": "Майами", "country": "US", "venue": None}
    adviser = next(d for d in meeting.delegations if d.side == "US").head
    assert (adviser.name, adviser.organisation) == ("Джош Грюнбаум", "Белый дом")


def test_a_title_glued_to_a_full_name_is_stripped() -> None:
    # natasha tags the capitalised title alone as a person here
    [sentence] = parse("Как сообщает ТАСС, Спецпосланник президента США Стив Уиткофф прибыл.")
    people = [(m.normal, m.after_role) for m in sentence.mentions if m.kind == "PER"]
    assert people == [("Стив Уиткофф", False)]


def test_capitalised_common_words_are_not_organisations() -> None:
    sentences = parse("НОВОСТИ\nДелегация США прибыла в Женеву. Представители сторон встретились.")
    organisations = [m.text for s in sentences for m in s.mentions if m.kind == "ORG"]
    assert organisations == []


# --------------------------------------------------------------------------- input and loading


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Trump and Zelensky met at the White House on Monday.", "'en'"),
        ("Зеленський зустрівся з Трампом у Білому домі в понеділок.", "'uk'"),
    ],
)
def test_other_languages_are_refused_clearly(
    baseline: BaselineExtractor, text: str, language: str
) -> None:
    with pytest.raises(ArticleError, match=f"Russian only.*{language}"):
        baseline.extract(load_article(text))


def test_an_article_without_meetings_or_positions_is_empty(baseline: BaselineExtractor) -> None:
    extraction = run(baseline, "Погода в Москве будет облачной, без осадков.")
    assert extraction == ArticleExtraction()


def test_models_load_once_per_process(baseline: BaselineExtractor) -> None:
    before = _models.cache_info()
    BaselineExtractor().extract(load_article(SEEDS[1]))
    BaselineExtractor().extract(load_article(SEEDS[2]))
    after = _models.cache_info()
    assert after.misses == before.misses <= 1
    assert after.currsize == 1


# --------------------------------------------------------------------------- dates and status


def only(extraction: ArticleExtraction) -> Meeting:
    assert len(extraction.meetings) == 1, extraction.meetings
    return extraction.meetings[0]


@pytest.mark.parametrize(
    ("body", "start"),
    [
        ("Дипломаты России и США встретились в минувшее воскресенье в Эр-Рияде.", "2026-03-08"),
        ("Уиткофф и Дмитриев провели переговоры в прошлую пятницу в Майами.", "2026-03-06"),
        ("Лавров и Рубио встретятся в следующий вторник в Будапеште.", "2026-03-10"),
    ],
)
def test_a_weekday_with_which_resolves(baseline: BaselineExtractor, body: str, start: str) -> None:
    meeting = only(run(baseline, body, "2026-03-09"))  # a Monday
    assert meeting.date.start == start
    assert meeting.date.text in body


def test_a_dateline_dates_the_article_not_the_meeting(baseline: BaselineExtractor) -> None:
    body = (
        "ЖЕНЕВА, 11 марта 2026 года. Российская и украинская делегации проведут новый раунд "
        "переговоров в Женеве в пятницу."
    )
    meeting = only(run(baseline, body, "2026-03-11"))
    assert meeting.status == "planned"
    assert (meeting.date.start, meeting.date.text) == ("2026-03-13", "в пятницу")


def test_the_eve_of_an_event_is_not_the_day_before(baseline: BaselineExtractor) -> None:
    body = "Накануне новых консультаций в Женеве Лавров созвонился с Рубио."
    meeting = next(m for m in run(baseline, body, "2026-03-09").meetings if m.format == "phone")
    assert meeting.date is None


def test_the_end_of_a_month_dates_a_planned_meeting(baseline: BaselineExtractor) -> None:
    body = "Переговоры Лаврова и Рубио в Эр-Рияде запланированы на конец февраля."
    meeting = only(run(baseline, body, "2026-02-02"))
    assert (meeting.status, meeting.date.start) == ("planned", "2026-02")


def test_a_date_text_is_the_articles_words_or_nothing(baseline: BaselineExtractor) -> None:
    body = "Путин принял в Кремле Уиткоффа. Встреча, только что закончившаяся, шла три часа."
    meeting = only(run(baseline, body, "2026-03-09"))
    assert meeting.date.start == "2026-03-09"
    assert meeting.date.text is None


def test_each_listed_day_is_its_own_meeting(baseline: BaselineExtractor) -> None:
    body = "Лавров и Рубио несколько раз встречались: 4 апреля, 19 мая и 30 июня."
    meetings = run(baseline, body, "2026-03-09").meetings
    assert sorted(m.date.start for m in meetings) == ["2025-04-04", "2025-05-19", "2025-06-30"]
    assert all(m.status == "held" and sides(m) == {"RU", "US"} for m in meetings)


def test_when_a_speaker_spoke_is_not_when_the_meeting_is(baseline: BaselineExtractor) -> None:
    body = "Ушаков на брифинге во вторник сообщил, что встреча Путина и Трампа пройдет в Будапеште."
    meeting = only(run(baseline, body, "2026-03-11"))
    assert meeting.date is None
    assert meeting.status == "planned"


def test_a_round_that_took_place_is_held_whatever_its_ordinal(
    baseline: BaselineExtractor,
) -> None:
    body = "Очередной раунд консультаций России и Украины прошел в Стамбуле 5-6 марта."
    meeting = only(run(baseline, body, "2026-03-09"))
    assert meeting.status == "held"
    assert (meeting.date.start, meeting.date.end) == ("2026-03-05", "2026-03-06")
    assert meeting.format == "in_person"


# --------------------------------------------------------------------------- visits and receptions


def test_a_reception_after_an_arrival_is_one_planned_visit(baseline: BaselineExtractor) -> None:
    body = "Глава МИД Венгрии Петер Сийярто прибудет в Москву в среду. Его примет Сергей Лавров."
    meeting = only(run(baseline, body, "2026-03-09"))
    assert meeting.status == "planned"
    assert sides(meeting) == {"HU", "RU"}
    assert (meeting.location.place, meeting.date.start) == ("Москва", "2026-03-11")


def test_where_he_will_be_received_names_the_host(baseline: BaselineExtractor) -> None:
    body = (
        "Президент Финляндии Александер Стубб должен прилететь в Вашингтон, где его примет Трамп."
    )
    extraction = run(baseline, body, "2026-03-09")
    meeting = only(extraction)
    assert (meeting.status, sides(meeting)) == ("planned", {"FI", "US"})
    assert not extraction.positions, "a schedule is not a demand"


def test_a_headline_arrival_does_not_make_a_coming_meeting_held(
    baseline: BaselineExtractor,
) -> None:
    body = (
        "Кушнер прилетел в Москву\n"
        "Зять президента США Джаред Кушнер прилетел в Москву. Вечером его примет Путин."
    )
    meeting = only(run(baseline, body, "2026-03-09"))
    assert meeting.status == "planned"
    assert people(meeting) == {"Джаред Кушнер", "Владимир Путин"}
    assert meeting.location.place == "Москва"


# --------------------------------------------------------------------------- calls and participants


def test_a_first_person_call_in_a_quotation_includes_the_speaker(
    baseline: BaselineExtractor,
) -> None:
    body = "«Мы говорили с Трампом по телефону в пятницу», — рассказал Зеленский журналистам."
    meeting = only(run(baseline, body, "2026-03-09"))
    assert (meeting.status, meeting.format) == ("held", "phone")
    assert people(meeting) == {"Владимир Зеленский", "Дональд Трамп"}
    assert meeting.date.start == "2026-03-06"


def test_a_past_call_mentioned_in_passing_is_its_own_meeting(baseline: BaselineExtractor) -> None:
    body = (
        "Лидеры России и США провели переговоры в Анкоридже. По словам Ушакова, о новой встрече "
        "президенты договорились в ходе телефонного разговора 3 ноября."
    )
    meetings = run(baseline, body, "2026-03-09").meetings
    call = next(m for m in meetings if m.format == "phone")
    assert (call.status, call.date.start) == ("held", "2025-11-03")
    assert sides(call) == {"RU", "US"}
    assert any(m.location and m.location.place == "Анкоридж" for m in meetings if m is not call)


@pytest.mark.parametrize(
    "follow_up",
    [
        "Американскую сторону представит Стив Уиткофф.",
        "Ожидается участие Стива Уиткоффа.",
    ],
)
def test_people_named_after_the_meeting_join_it(
    baseline: BaselineExtractor, follow_up: str
) -> None:
    body = "Переговоры делегаций России и США пройдут в Женеве в четверг. " + follow_up
    meeting = only(run(baseline, body, "2026-03-09"))
    assert head(meeting, "US") == "Стив Уиткофф"
    assert sides(meeting) == {"RU", "US"}


def test_roles_are_in_the_nominative_and_titles_give_sides(baseline: BaselineExtractor) -> None:
    body = (
        "Президент Украины Владимир Зеленский во вторник встретился в Киеве с главой "
        "эстонского МИД Маргусом Цахкной и с секретарем СНБО Александром Литвиненко."
    )
    meeting = only(run(baseline, body, "2026-03-09"))
    roles = {(d.side, p.role) for d in meeting.delegations for p in [d.head, *d.members] if p}
    assert ("EE", "глава эстонского МИД") in roles
    assert ("UA", "секретарь СНБО") in roles


# --------------------------------------------------------------------------- positions


def test_readiness_to_meet_is_a_proposal(baseline: BaselineExtractor) -> None:
    body = "Финляндия готова предоставить площадку для переговоров, заявил Александер Стубб."
    [position] = run(baseline, body, "2026-03-09").positions
    assert position.stance == "propose"


def test_refusing_to_take_part_is_opposition_not_a_refusal_to_comment(
    baseline: BaselineExtractor,
) -> None:
    body = "«Мы не будем участвовать в таких консультациях», — заявил Рустем Умеров."
    [position] = run(baseline, body, "2026-03-09").positions
    assert (position.stance, position.holder.name) == ("oppose", "Рустем Умеров")


def test_a_long_title_before_the_name_attributes_to_the_name(baseline: BaselineExtractor) -> None:
    body = (
        "«Эти контакты полезны и конструктивны», — отметил помощник президента России Юрий Ушаков."
    )
    [position] = run(baseline, body, "2026-03-09").positions
    assert (position.holder.name, position.side) == ("Юрий Ушаков", "RU")


def test_an_agreement_to_meet_is_news_not_a_position(baseline: BaselineExtractor) -> None:
    body = "Песков сообщил, что стороны условились о новой встрече в Стамбуле."
    assert run(baseline, body, "2026-03-09").positions == []


# --------------------------------------------------------------------------- issue phrases


@pytest.mark.parametrize(
    ("body", "issue"),
    [
        (
            "Министр иностранных дел Венгрии Петер Сийярто назвал переговоры в Женеве полезными.",
            "переговоры в Женеве",
        ),
        (
            "Премьер Норвегии Йонас Стёре заявил, что Осло требует немедленного прекращения огня.",
            "немедленное прекращение огня",
        ),
        (
            "Канцлер Австрии Карл Нехаммер сказал, что мирный план Вашингтона неприемлем.",
            "мирный план Вашингтона",
        ),
        (
            "Президент Молдавии Майя Санду заявила, что настаивает на прямом контакте с Брюсселем.",
            "прямой контакт с Брюсселем",
        ),
    ],
)
def test_issue_is_a_nominative_noun_phrase(
    baseline: BaselineExtractor, body: str, issue: str
) -> None:
    [position] = run(baseline, body).positions
    assert position.issue == issue


def test_a_bare_meeting_word_takes_its_place(baseline: BaselineExtractor) -> None:
    body = (
        "Вчера в Стамбуле прошли переговоры делегаций Словакии и Румынии. "
        "Глава словацкой делегации Милан Ковач назвал встречу трудной."
    )
    [position] = run(baseline, body).positions
    assert position.issue == "встреча в Стамбуле"


def test_an_infinitive_object_is_the_course_of_action(baseline: BaselineExtractor) -> None:
    body = "Посол Ирана Казем Джалали заявил, что стороны согласились продолжать консультации."
    [position] = run(baseline, body).positions
    assert position.issue == "продолжать консультации"


# --------------------------------------------------------------------------- attribution patterns


def test_a_fronted_refusal_to_comment_is_a_decline(baseline: BaselineExtractor) -> None:
    body = "Комментировать заявление Вашингтона о новых пошлинах Дмитрий Песков отказался."
    [position] = run(baseline, body).positions
    assert (position.holder.name, position.stance) == ("Дмитрий Песков", "decline")
    assert position.issue.startswith("заявление Вашингтона")


def test_a_speaking_place_that_would_not_comment(baseline: BaselineExtractor) -> None:
    body = "В Кремле не стали комментировать сообщения о возможной встрече в Будапеште."
    [position] = run(baseline, body).positions
    assert (position.holder, position.side, position.stance) == (None, "RU", "decline")
    assert position.issue.startswith("сообщения")


def test_a_capital_that_says_it_disagrees(baseline: BaselineExtractor) -> None:
    body = "В Киеве заявили, что не согласны с планом Вашингтона по заморозке конфликта."
    [position] = run(baseline, body).positions
    assert (position.holder, position.side, position.stance) == (None, "UA", "oppose")
    assert position.issue.startswith("план Вашингтона")


def test_in_his_opinion_is_the_last_speaker(baseline: BaselineExtractor) -> None:
    body = (
        "Министр Петер Сийярто заявил журналистам, что Будапешт готов принять переговоры. "
        "Он напомнил, что в прошлом месяце в Будапеште побывал госсекретарь США Марко Рубио. "
        "По его мнению, прекращение огня возможно уже весной."
    )
    positions = run(baseline, body).positions
    opinion = next(p for p in positions if p.issue == "прекращение огня")
    assert (opinion.holder.name, opinion.stance) == ("Петер Сийярто", "assessment")


def test_a_quote_attributed_by_title_only(baseline: BaselineExtractor) -> None:
    body = (
        "Секретарь СНБО Рустем Умеров прибыл в Женеву.\n"
        "«Мы настаиваем на полном обмене пленными», — написал секретарь СНБО в Telegram."
    )
    [position] = run(baseline, body).positions
    assert (position.holder.name, position.side, position.stance) == (
        "Рустем Умеров",
        "UA",
        "demand",
    )
    assert position.speech == "direct"


def test_a_chain_of_statements_by_one_person(baseline: BaselineExtractor) -> None:
    body = (
        "Глава МИД Турции Хакан Фидан заявил, что Анкара готова принять новый раунд. "
        "Фидан также отметил, что прекращение огня остается главным приоритетом."
    )
    positions = run(baseline, body).positions
    assert {(p.holder.name, p.side, p.stance) for p in positions} == {
        ("Хакан Фидан", "TR", "propose"),
        ("Хакан Фидан", "TR", "assessment"),
    }


@pytest.mark.parametrize(
    ("body", "stance", "issue"),
    [
        (
            "Посол Ирана Казем Джалали считает, что переговоры в Омане были полезными.",
            "assessment",
            "переговоры в Омане",
        ),
        (
            "Президент Финляндии Александр Стубб уверен, что гарантии безопасности должны "
            "быть юридически обязывающими.",
            "demand",
            "гарантии безопасности",
        ),
        (
            "Генсек НАТО Марк Рютте выразил надежду на скорое заключение перемирия.",
            "assessment",
            "скорое заключение перемирия",
        ),
        (
            "Президент Чехии Петр Павел призвал стороны к немедленному прекращению огня.",
            "demand",
            "немедленное прекращение огня",
        ),
        (
            "Канцлер Германии Фридрих Мерц раскритиковал мирный план Белого дома.",
            "oppose",
            "мирный план Белого дома",
        ),
        (
            "Президент Франции Эмманюэль Макрон приветствовал возобновление переговоров.",
            "support",
            "возобновление переговоров",
        ),
    ],
)
def test_stance_verbs_of_the_genre(
    baseline: BaselineExtractor, body: str, stance: str, issue: str
) -> None:
    [position] = run(baseline, body).positions
    assert (position.stance, position.issue) == (stance, issue)


# --------------------------------------------------------------------------- people of a meeting


def test_a_country_represented_by_people_named_after_the_meeting(
    baseline: BaselineExtractor,
) -> None:
    body = (
        "В пятницу в Стамбуле прошел очередной раунд переговоров России и Украины. "
        "Украину на переговорах представляли Рустем Умеров и Сергей Кислица."
    )
    [meeting] = run(baseline, body).meetings
    assert sides(meeting) == {"RU", "UA"}
    delegation = next(d for d in meeting.delegations if d.side == "UA")
    assert {delegation.head.name, *(m.name for m in delegation.members)} == {
        "Рустем Умеров",
        "Сергей Кислица",
    }


def test_a_side_listed_two_sentences_after_the_meeting(baseline: BaselineExtractor) -> None:
    body = (
        "В Женеве прошли переговоры делегаций США и Украины. Встреча продлилась четыре часа. "
        "С американской стороны в них участвовали министр армии США Дэн Дрисколл и генерал "
        "Алексус Гринкевич."
    )
    [meeting] = run(baseline, body).meetings
    assert sides(meeting) == {"US", "UA"}
    assert head(meeting, "US") == "Дэн Дрисколл"
    assert "Алексус Гринкевич" in people(meeting)


def test_a_person_named_after_a_long_title_takes_part(baseline: BaselineExtractor) -> None:
    body = (
        "В Эр-Рияде прошли переговоры министра иностранных дел Саудовской Аравии Фейсала "
        "бин Фархана и делегации Эстонии."
    )
    [meeting] = run(baseline, body).meetings
    assert sides(meeting) == {"SA", "EE"}
    assert head(meeting, "SA") == "Фейсал бин Фархан"


def test_the_head_of_state_without_a_name_is_the_one_named_elsewhere(
    baseline: BaselineExtractor,
) -> None:
    body = (
        "Президент Бразилии Луис Инасиу Лула да Силва прилетел в Брюссель. "
        "В понедельник глава государства провел телефонный разговор с президентом Франции "
        "Эмманюэлем Макроном."
    )
    [meeting] = run(baseline, body).meetings
    assert sides(meeting) == {"BR", "FR"}
    assert meeting.format == "phone"
    assert head(meeting, "FR") == "Эмманюэль Макрон"


def test_an_unnamed_head_of_state_still_gives_his_side(baseline: BaselineExtractor) -> None:
    body = (
        "В понедельник глава государства провел телефонный разговор с президентом Франции "
        "Эмманюэлем Макроном. Президент Египта поблагодарил французского коллегу за поддержку."
    )
    [meeting] = run(baseline, body).meetings
    assert sides(meeting) == {"EG", "FR"}


# --------------------------------------------------------------------------- genre-wide probe patterns


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            "Встреча министров обороны Литвы и Украины, которая была запланирована на 12 апреля, "
            "перенесена.",
            "postponed",
        ),
        (
            "Консультации делегаций Польши и Украины, которые планировали провести в Осло, "
            "не состоятся.",
            "cancelled",
        ),
        (
            "Переговоры экспертов Канады и Украины, которые собирались провести в Вене, сорвались.",
            "cancelled",
        ),
    ],
)
def test_the_main_predicate_outranks_a_relative_clause(
    baseline: BaselineExtractor, body: str, status: str
) -> None:
    (meeting,) = run(baseline, body).meetings
    assert meeting.status == status


def _quote_in_evidence(position: Position) -> bool:
    q = position.quote
    return any(q.start < e.end and e.start < q.end for e in position.evidence)


def test_a_merged_position_never_carries_a_quote_from_outside_its_evidence(
    baseline: BaselineExtractor,
) -> None:
    extraction = run(
        baseline,
        "Премьер Эстонии Кристен Михал потребовал усилить санкции против России. "
        "Михал также потребовал ужесточить санкции против России. "
        "Михал вновь призвал усилить санкции против России. "
        "«Мы требуем усилить санкции против России», — сказал Михал.",
    )
    assert extraction.positions
    for position in extraction.positions:
        assert position.quote is None or _quote_in_evidence(position)


def test_each_quote_goes_to_its_own_statement(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Глава МИД Латвии Байба Браже выступила перед журналистами. «Мы поддерживаем переговоры "
        "в Женеве и считаем их полезными», — заявила Браже. «Мы против переговоров без Украины», "
        "— заявил министр иностранных дел Литвы Кястутис Будрис.",
    )
    quoted = {p.holder.name: p.quote.text for p in extraction.positions if p.quote}
    assert quoted["Кястутис Будрис"] == "Мы против переговоров без Украины"
    assert all(_quote_in_evidence(p) for p in extraction.positions if p.quote)


def test_first_person_meetings_in_an_interview_include_the_speaker(
    baseline: BaselineExtractor,
) -> None:
    meetings = run(
        baseline,
        "Премьер Словакии Роберт Фицо дал интервью телеканалу. «С премьером Венгрии Виктором "
        "Орбаном мы говорили по телефону в понедельник. Мы договорились встретиться в апреле», "
        "— сказал Фицо.",
        published="2026-03-09",
    ).meetings
    call = next(m for m in meetings if m.format == "phone")
    assert {"Роберт Фицо", "Виктор Орбан"} <= people(call)
    planned = next(m for m in meetings if m.status == "planned")
    assert "Роберт Фицо" in people(planned)
    assert planned.date.start.endswith("-04")


def test_we_in_a_quotation_announced_before_it_is_its_speaker(baseline: BaselineExtractor) -> None:
    meetings = run(
        baseline,
        "Канцлер Австрии Кристиан Штокер заявил: «С премьером Чехии мы говорили по телефону "
        "во вторник».",
        published="2026-03-09",
    ).meetings
    (call,) = meetings
    assert call.format == "phone"
    assert "Кристиан Штокер" in people(call)


def test_two_calls_in_one_sentence_share_their_caller(baseline: BaselineExtractor) -> None:
    meetings = run(
        baseline,
        "Министр иностранных дел Венгрии Петер Сийярто прилетел в Белград. Сийярто провел "
        "телефонные переговоры с Лавровым, а затем отдельно созвонился с Рубио.",
    ).meetings
    calls = [m for m in meetings if m.format == "phone"]
    assert len(calls) == 2
    assert {frozenset(sides(m)) for m in calls} == {
        frozenset({"HU", "RU"}),
        frozenset({"HU", "US"}),
    }
    assert all("Петер Сийярто" in people(m) for m in calls)
    assert all(m.location is None for m in calls)  # his arrival is no part of a call


def test_talks_there_are_at_the_place_just_named_with_the_one_his_stands_for(
    baseline: BaselineExtractor,
) -> None:
    meetings = run(
        baseline,
        "Глава МИД Финляндии Элина Валтонен 2 февраля встретилась с Рубио в Брюсселе. "
        "Валтонен прилетела в Нью-Йорк. Вместе с ней в США прилетел финский посол Микко Хаутала. "
        "Сегодня там пройдут ее переговоры с Рубио.",
        published="2026-03-09",
    ).meetings
    brussels = next(m for m in meetings if m.location and m.location.place == "Брюссель")
    new_york = next(m for m in meetings if m.location and m.location.place == "Нью-Йорк")
    assert {"Элина Валтонен", "Марко Рубио"} <= people(new_york)
    assert new_york.date.start == "2026-03-09"
    assert "Микко Хаутала" in people(new_york)  # the arrival leads into the coming talks
    assert "Микко Хаутала" not in people(brussels)


@pytest.mark.parametrize("group", ["Собеседники", "Министры", "Стороны также"])
def test_what_the_sides_discussed_is_the_meeting_just_named(
    baseline: BaselineExtractor, group: str
) -> None:
    (call,) = run(
        baseline,
        "Глава МИД Норвегии Эспен Барт Эйде провел телефонный разговор с Рубио. "
        f"{group} обсудили подготовку встречи Норвегии и США в Осло.",
    ).meetings
    assert call.format == "phone"
    assert len(call.evidence) == 2
    assert call.topics and call.topics[0].startswith("подготовка встречи")


def test_a_briefing_about_taking_part_in_talks_is_no_meeting(baseline: BaselineExtractor) -> None:
    extraction = run(
        baseline,
        "Официальный представитель МИД Молдовы на брифинге заявил, что Кишинев настаивает на "
        "участии Румынии в переговорах с Россией и США.",
    )
    assert extraction.meetings == []


def test_a_headline_and_its_lead_are_one_coming_round(baseline: BaselineExtractor) -> None:
    meetings = run(
        baseline,
        "Делегации Армении и Азербайджана снова встретятся в Вене\n"
        "Новый раунд переговоров между Арменией и Азербайджаном пройдет в пятницу в отеле "
        "«Империал». В прошлом году переговоры прошли 14 мая.",
        published="2026-03-09",
    ).meetings
    coming = [m for m in meetings if m.status == "planned"]
    assert len(coming) == 1
    (round_,) = coming
    assert sides(round_) == {"AM", "AZ"}
    assert round_.location.place == "Вена"
    assert round_.date.start == "2026-03-13"  # never last year's 14 May


def test_a_dateline_city_is_the_place_of_a_venue_without_one(baseline: BaselineExtractor) -> None:
    (meeting,) = run(
        baseline,
        "ВЕНА, 9 марта 2026 года, 14:05 — Переговоры делегаций Армении и Азербайджана начались "
        "во дворце Хофбург.",
        published="2026-03-09",
    ).meetings
    assert (meeting.location.place, meeting.location.venue) == ("Вена", "дворец Хофбург")


def test_a_meeting_word_in_what_someone_said_adds_nothing_to_a_meeting(
    baseline: BaselineExtractor,
) -> None:
    (talks,) = run(
        baseline,
        "Делегации Сербии и Венгрии провели переговоры в Брюсселе 18 февраля. Официальный "
        "представитель МИД Албании на брифинге заявил, что его страна настаивает на участии Албании "
        "в переговорах Сербии и Венгрии.",
        published="2026-03-09",
    ).meetings
    assert "AL" not in sides(talks)
    assert len(talks.evidence) == 1


def test_natasha_runs_on_one_blas_thread_and_leaves_the_setting_as_it_was() -> None:
    from threadpoolctl import threadpool_info

    models = _models()

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    assert before, "numpy's BLAS is loaded once natasha is"
    with models.running():
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before
