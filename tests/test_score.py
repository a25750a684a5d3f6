"""Scorer tests: small hand-built extractions with expectations computed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_extract.errors import ConfigError
from llm_extract.normalise import with_side_codes
from llm_extract.schemas import (
    ArticleExtraction,
    Delegation,
    EventDate,
    Evidence,
    ExtractionResult,
    Location,
    Meeting,
    Participant,
    Position,
    Precision,
)
from llm_extract.score import (
    Prediction,
    ScoreConfig,
    date_credit,
    load_gold,
    load_predictions,
    same_person,
    score_against_gold,
    score_article,
    text_similarity,
)

TEXT = (
    "Президент России Владимир Путин встретился в Кремле 22 января со спецпосланником "
    "Стивом Уиткоффом и Джаредом Кушнером. «Встреча была полезной», — сказал Юрий Ушаков. "
    "Следующая встреча Кирилла Дмитриева с Уиткоффом пройдёт в феврале в Абу-Даби."
)
QUOTE_A = "Путин встретился в Кремле 22 января"
QUOTE_B = "Следующая встреча Кирилла Дмитриева с Уиткоффом пройдёт в феврале в Абу-Даби."
QUOTE_P = "«Встреча была полезной», — сказал Юрий Ушаков."


def person(name: str, role: str | None = None) -> Participant:
    return Participant(name=name, role=role)


def evidence(quote: str) -> Evidence:
    start = TEXT.index(quote)
    return Evidence(text=quote, start=start, end=start + len(quote))


def kremlin_meeting(**changes: object) -> Meeting:
    meeting = Meeting(
        status="held",
        format="in_person",
        date=EventDate(start="2026-01-22", text="22 января"),
        location=Location(place="Москва", country="RU", venue="Кремль"),
        delegations=[
            Delegation(side="RU", head=person("Владимир Путин", "президент России")),
            Delegation(
                side="US",
                head=person("Стив Уиткофф", "спецпосланник"),
                members=[person("Джаред Кушнер")],
            ),
        ],
        topics=["урегулирование на Украине"],
        evidence=[evidence(QUOTE_A)],
    )
    return meeting.model_copy(update=changes)


def abu_dhabi_meeting(**changes: object) -> Meeting:
    meeting = Meeting(
        status="planned",
        date=EventDate(start="2026-02", text="в феврале"),
        location=Location(place="Абу-Даби", country="AE"),
        delegations=[
            Delegation(side="RU", head=person("Кирилл Дмитриев")),
            Delegation(side="US", head=person("Стив Уиткофф")),
        ],
        evidence=[evidence(QUOTE_B)],
    )
    return meeting.model_copy(update=changes)


def ushakov_position(**changes: object) -> Position:
    position = Position(
        holder=person("Юрий Ушаков"),
        side="RU",
        issue="встреча в Кремле",
        stance="assessment",
        summary="Ушаков назвал встречу полезной",
        quote=evidence("Встреча была полезной"),
        speech="direct",
        evidence=[evidence(QUOTE_P)],
    )
    return position.model_copy(update=changes)


def gold() -> ArticleExtraction:
    return ArticleExtraction(
        meetings=[kremlin_meeting(), abu_dhabi_meeting()], positions=[ushakov_position()]
    )


def score(pred: ArticleExtraction, **kwargs: object) -> dict:
    card = score_against_gold({"a": gold()}, {"a": Prediction("a", pred, **kwargs)}, {"a": TEXT})
    return card.to_dict()


def metrics(node: object, path: str = "") -> dict[str, float | None]:
    """Every precision, recall, f1, accuracy and rate in a score dict, by path."""
    found: dict[str, float | None] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if key in {"precision", "recall", "f1", "accuracy", "rate", "parse_rate", "valid_rate"}:
                found[here] = value
            elif key != "confusion":
                found |= metrics(value, here)
    return found


def test_gold_against_itself_is_perfect() -> None:
    result = score(gold())
    found = metrics(result)
    defined = {k: v for k, v in found.items() if v is not None}
    assert defined and all(v == 1.0 for v in defined.values()), defined
    # Nothing that the gold fills is left undefined.
    for key in ("status", "date", "place", "participants", "participants_role", "head", "topics"):
        assert result["meetings"][key]["f1"] == 1.0
    for key in ("holder", "issue", "stance", "quote", "evidence_overlap", "quote_overlap"):
        assert result["positions"][key]["f1"] == 1.0
    assert result["quotes"]["faithfulness"] == {"faithful": 4, "total": 4, "rate": 1.0}
    assert result["validity"]["reask_rate"] == 0.0
    # Fields the gold leaves empty everywhere are undefined, not perfect by accident.
    assert result["meetings"]["outcomes"]["f1"] is None


def test_micro_counts_each_person_once() -> None:
    result = score(gold())
    meetings = result["meetings"]
    # status 2, format 1, date 2, place 2, country 2, venue 1, sides 4, participants 5,
    # role 2, topics 1; the 4 heads and 1 member are the participants again.
    assert meetings["micro"]["gold"] == 22
    assert meetings["head"]["gold"] == 4 and meetings["members"]["gold"] == 1
    # holder, side, issue, stance, speech, quote
    assert result["positions"]["micro"]["gold"] == 6
    assert result["micro"]["gold"] == 28


def test_dropping_one_meeting_halves_meeting_recall_and_keeps_precision() -> None:
    result = score(ArticleExtraction(meetings=[kremlin_meeting()], positions=[ushakov_position()]))
    record = result["meetings"]["record"]
    assert (record["precision"], record["recall"]) == (1.0, 0.5)
    assert record["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert (record["missed"], record["spurious"]) == (1, 0)
    # The missed meeting's fields count as missed: status 1 of 2, places 1 of 2.
    assert (result["meetings"]["status"]["precision"], result["meetings"]["status"]["recall"]) == (
        1.0,
        0.5,
    )
    assert result["meetings"]["place"]["missed"] == 1
    # Two heads missed (Dmitriev, Witkoff), of four gold heads.
    assert result["meetings"]["head"]["recall"] == 0.5
    assert result["positions"]["record"]["f1"] == 1.0


def test_wrong_date_is_one_wrong_value_not_spurious_plus_missed() -> None:
    wrong = kremlin_meeting(date=EventDate(start="2025-12-02"))
    result = score(ArticleExtraction(meetings=[wrong, abu_dhabi_meeting()], positions=[]))
    date = result["meetings"]["date"]
    assert (date["correct"], date["wrong"], date["spurious"], date["missed"]) == (1, 1, 0, 0)
    assert date["precision"] == date["recall"] == 0.5
    assert result["meetings"]["record"]["f1"] == 1.0
    # Strict: the meeting with the wrong date is found but not exactly right; 1 of 2.
    strict = result["meetings"]["record_strict"]
    assert (strict["correct"], strict["wrong"], strict["precision"], strict["recall"]) == (
        1,
        1,
        0.5,
        0.5,
    )
    # Soft: its similarity is 1 - 0.25 (the date's weight): (1 + 0.75) / 2.
    assert result["meetings"]["record_soft"]["f1"] == 0.875


def test_spurious_meeting_lowers_precision_only() -> None:
    invented = kremlin_meeting(
        date=EventDate(start="2025-06-01"),
        location=Location(place="Женева"),
        delegations=[Delegation(side="UA", head=person("Владимир Зеленский"))],
        evidence=[Evidence(text="Зеленский прилетел в Женеву")],
    )
    result = score(
        ArticleExtraction(
            meetings=[kremlin_meeting(), abu_dhabi_meeting(), invented],
            positions=[ushakov_position()],
        )
    )
    record = result["meetings"]["record"]
    assert (record["precision"], record["recall"]) == (pytest.approx(2 / 3, abs=1e-4), 1.0)
    assert record["spurious"] == 1
    # Its invented quote is not in the article.
    assert result["quotes"]["faithfulness"] == {"faithful": 4, "total": 5, "rate": 0.8}


def test_planned_meeting_marked_held_is_a_wrong_status_in_the_confusion_matrix() -> None:
    result = score(
        ArticleExtraction(
            meetings=[kremlin_meeting(), abu_dhabi_meeting(status="held")],
            positions=[ushakov_position()],
        )
    )
    status = result["meetings"]["status"]
    assert (status["correct"], status["wrong"]) == (1, 1)
    assert status["accuracy"] == 0.5
    assert status["confusion"] == {"held": {"held": 1}, "planned": {"held": 1}}
    # Found, but not strictly right: 1 of 2 strict.
    assert result["meetings"]["record"]["f1"] == 1.0
    strict = result["meetings"]["record_strict"]
    assert (strict["correct"], strict["wrong"], strict["f1"]) == (1, 1, 0.5)


def test_a_wrong_stance_is_found_but_not_strictly_right() -> None:
    result = score(
        ArticleExtraction(meetings=gold().meetings, positions=[ushakov_position(stance="demand")])
    )
    assert result["positions"]["record"]["f1"] == 1.0
    assert result["positions"]["record_strict"]["f1"] == 0.0
    assert result["positions"]["stance"]["wrong"] == 1


def test_missing_participant_and_wrong_role_are_scored_at_two_levels() -> None:
    us = Delegation(side="US", head=person("Стив Уиткофф", "министр финансов"))  # no Kushner
    changed = kremlin_meeting(delegations=[kremlin_meeting().delegations[0], us])
    result = score(
        ArticleExtraction(meetings=[changed, abu_dhabi_meeting()], positions=[ushakov_position()])
    )
    meetings = result["meetings"]
    # Gold people: Putin, Witkoff, Kushner; Dmitriev, Witkoff. Kushner is missed.
    assert meetings["participants"]["recall"] == pytest.approx(4 / 5, abs=1e-4)
    assert meetings["participants"]["precision"] == 1.0
    # Witkoff's role is wrong in the first meeting: right person, wrong role.
    assert meetings["participants_role"]["wrong"] == 1
    assert meetings["head"]["f1"] == 1.0
    assert meetings["head_role"]["wrong"] == 1
    assert meetings["members"]["missed"] == 1


def _with_roles(putin: str | None, witkoff: str | None, kushner: str | None) -> ArticleExtraction:
    ru = Delegation(side="RU", head=person("Владимир Путин", putin))
    us = Delegation(
        side="US", head=person("Стив Уиткофф", witkoff), members=[person("Джаред Кушнер", kushner)]
    )
    changed = kremlin_meeting(delegations=[ru, us])
    return ArticleExtraction(
        meetings=[changed, abu_dhabi_meeting()], positions=[ushakov_position()]
    )


def test_roles_are_a_slot_of_their_own_where_two_empty_roles_count_for_nothing() -> None:
    # Gold roles: Putin's and Witkoff's in the Kremlin meeting; nobody else has one.
    perfect = score(gold())["meetings"]["role"]
    assert (perfect["correct"], perfect["gold"], perfect["f1"]) == (2, 2, 1.0)
    silent = score(_with_roles(None, None, None))["meetings"]
    role = silent["role"]
    assert (role["correct"], role["missed"], role["predicted"], role["gold"]) == (0, 2, 0, 2)
    assert (role["recall"], role["f1"], role["precision"]) == (0.0, 0.0, None)
    # The person-and-role level still counts Kushner and the Abu Dhabi pair (no roles) right.
    assert silent["participants_role"]["recall"] == pytest.approx(3 / 5, abs=1e-4)


def test_a_role_the_gold_does_not_give_is_spurious_not_wrong() -> None:
    role = score(_with_roles("президент России", "спецпосланник", "зять Трампа"))["meetings"][
        "role"
    ]
    assert (role["correct"], role["wrong"], role["spurious"], role["missed"]) == (2, 0, 1, 0)
    assert role["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert role["recall"] == 1.0
    wrong = score(_with_roles("президент России", "министр финансов", None))["meetings"]["role"]
    assert (wrong["correct"], wrong["wrong"], wrong["spurious"]) == (1, 1, 0)


def test_head_moved_to_members_misses_the_head_slot_but_keeps_the_participant() -> None:
    us = Delegation(
        side="US", members=[person("Стив Уиткофф", "спецпосланник"), person("Джаред Кушнер")]
    )
    changed = kremlin_meeting(delegations=[kremlin_meeting().delegations[0], us])
    result = score(
        ArticleExtraction(meetings=[changed, abu_dhabi_meeting()], positions=[ushakov_position()])
    )
    meetings = result["meetings"]
    assert (meetings["head"]["correct"], meetings["head"]["missed"]) == (3, 1)
    assert meetings["members"]["spurious"] == 1
    assert meetings["participants"]["f1"] == 1.0


def test_names_match_through_aliases_and_inflection_not_raw_strings() -> None:
    assert same_person(person("Стив Уиткофф"), person("Виткофф"))
    assert same_person(person("Стив Уиткофф"), person("Witkoff"))
    assert same_person(person("Стив Уиткофф"), person("Уиткоффом"))
    assert not same_person(person("Стив Уиткофф"), person("Джаред Кушнер"))
    # Outside the alias table: the surname, found by morphology, and agreeing given names.
    assert not same_person(person("Рябков Сергей"), person("Шойгу Сергей"))
    assert not same_person(person("Иван Иванов"), person("Пётр Иванов"))
    assert not same_person(person("Джо Байден"), person("Хантер Байден"))
    assert same_person(person("Сергей Рябков"), person("Рябкова Сергея"))
    assert same_person(person("Сергей Рябков"), person("С. Рябков"))
    assert same_person(person("Сергей Рябков"), person("Рябков"))
    assert not same_person(person("Сергей Рябков"), person("А. Рябков"))
    spelled = kremlin_meeting(
        delegations=[
            Delegation(side="RU", head=person("Путин", "президент России")),
            Delegation(
                side="US",
                head=person("Виткофф", "спецпосланник"),
                members=[person("Jared Kushner")],
            ),
        ]
    )
    result = score(
        ArticleExtraction(meetings=[spelled, abu_dhabi_meeting()], positions=[ushakov_position()])
    )
    assert result["meetings"]["participants"]["f1"] == 1.0
    assert result["meetings"]["head"]["f1"] == 1.0


def test_date_grading() -> None:
    def d(start: str, end: str | None = None) -> EventDate:
        return EventDate(start=start, end=end)

    assert date_credit(d("2026-01-22"), d("2026-01-22")) == 1.0
    assert date_credit(d("2026-01"), d("2026-01-01", "2026-01-31")) == 1.0  # the same interval
    # A day inside a month-precision gold, and a month around a day gold: right, wrong precision.
    assert date_credit(d("2026-02"), d("2026-02-14")) == 0.5
    assert date_credit(d("2026-02-14"), d("2026-02")) == 0.5
    # The coarser the date around the other, the less it says.
    assert date_credit(d("2026-02-14"), d("2026")) == 0.1
    assert date_credit(d("2026"), d("2026-02-14")) == 0.1
    assert date_credit(d("2026-02"), d("2026")) == 0.25
    # A day inside a three-day meeting: the containment credit beats a third.
    assert date_credit(d("2026-01-20", "2026-01-22"), d("2026-01-21")) == 0.5
    custom = {(Precision.MONTH, Precision.DAY): 0.25}
    assert date_credit(d("2026-02"), d("2026-02-14"), containment=custom) == 0.25
    assert date_credit(d("2026"), d("2026-02-14"), containment=custom) == pytest.approx(1 / 365)
    # Partial overlap: 22-23 shared of 20-25 covered.
    assert date_credit(d("2026-01-20", "2026-01-23"), d("2026-01-22", "2026-01-25")) == 2 / 6
    # A three-day meeting against two of its days: overlap beats the containment credit.
    assert date_credit(d("2026-01-20", "2026-01-22"), d("2026-01-20", "2026-01-21")) == 2 / 3
    assert date_credit(d("2026-01-22"), d("2026-01-23")) == 0.0
    assert date_credit(d("2025"), d("2026-01")) == 0.0


def test_partial_date_counts_partial_credit() -> None:
    inside = abu_dhabi_meeting(date=EventDate(start="2026-02-10"))
    result = score(
        ArticleExtraction(meetings=[kremlin_meeting(), inside], positions=[ushakov_position()])
    )
    date = result["meetings"]["date"]
    assert (date["correct"], date["partial"], date["credit"]) == (1, 1, 1.5)
    assert date["precision"] == 0.75


def test_failed_article_counts_as_all_missed_and_not_valid() -> None:
    card = score_against_gold(
        {"a": gold(), "b": gold()},
        {"a": Prediction("a", gold()), "b": Prediction("b", None, valid=False, error="bad")},
        {"a": TEXT, "b": TEXT},
    )
    result = card.to_dict()
    assert result["validity"]["valid_rate"] == 0.5
    record = result["meetings"]["record"]
    assert (record["precision"], record["recall"], record["missed"]) == (1.0, 0.5, 2)
    assert result["meetings"]["date"]["missed"] == 2


def test_topics_and_issues_match_by_fuzzy_tokens() -> None:
    assert text_similarity("урегулирование на Украине", "украинское урегулирование") >= 0.7
    assert text_similarity("контроль над Донбассом", "гарантии безопасности") < 0.5
    reworded = kremlin_meeting(topics=["украинское урегулирование", "энергетика"])
    issue = ushakov_position(issue="встреча в Кремле с Уиткоффом")
    result = score(ArticleExtraction(meetings=[reworded, abu_dhabi_meeting()], positions=[issue]))
    topics = result["meetings"]["topics"]
    assert (topics["correct"], topics["spurious"], topics["missed"]) == (1, 1, 0)
    assert result["positions"]["issue"]["f1"] == 1.0
    # Reworded but the same issue: still strictly right. A wrong holder is not.
    assert result["positions"]["record_strict"]["f1"] == 1.0
    other = ushakov_position(holder=person("Дмитрий Песков"))
    result = score(ArticleExtraction(meetings=gold().meetings, positions=[other]))
    assert result["positions"]["record"]["f1"] == 1.0
    assert result["positions"]["record_strict"]["f1"] == 0.0
    assert result["positions"]["holder"]["wrong"] == 1


def test_quote_not_in_text_is_unfaithful_and_has_no_overlap() -> None:
    invented = ushakov_position(quote=Evidence(text="Мы договорились обо всём"))
    result = score(
        ArticleExtraction(meetings=[kremlin_meeting(), abu_dhabi_meeting()], positions=[invented])
    )
    assert result["quotes"]["faithfulness"]["rate"] == 0.75
    assert result["positions"]["quote"]["wrong"] == 1
    assert result["positions"]["quote_overlap"]["recall"] == 0.0


def test_a_fuzzily_grounded_quote_is_not_faithful() -> None:
    """The engine replaced the model's words with the article's: offsets hold, words were not its."""
    fuzzy = evidence(QUOTE_B).model_copy(update={"match": "fuzzy"})
    changed = abu_dhabi_meeting(evidence=[fuzzy])
    result = score(
        ArticleExtraction(meetings=[kremlin_meeting(), changed], positions=[ushakov_position()])
    )
    assert result["quotes"]["faithfulness"] == {"faithful": 3, "total": 4, "rate": 0.75}
    # Not grounded yet, and only fuzzily there (an ending changed): not faithful either.
    ending = QUOTE_B.replace("пройдёт", "пройдут")
    changed = abu_dhabi_meeting(evidence=[Evidence(text=ending)])
    result = score(
        ArticleExtraction(meetings=[kremlin_meeting(), changed], positions=[ushakov_position()])
    )
    assert result["quotes"]["faithfulness"]["faithful"] == 3


def test_shorter_evidence_overlaps_by_characters() -> None:
    short = "Путин встретился в Кремле"
    meeting = kremlin_meeting(evidence=[Evidence(text=short)])
    result = score(
        ArticleExtraction(meetings=[meeting, abu_dhabi_meeting()], positions=[ushakov_position()])
    )
    overlap = result["meetings"]["evidence_overlap"]
    gold_chars = len(QUOTE_A) + len(QUOTE_B)
    assert overlap["precision"] == 1.0
    assert overlap["recall"] == pytest.approx((len(short) + len(QUOTE_B)) / gold_chars, abs=1e-4)


def test_overlapping_evidence_counts_each_character_once() -> None:
    """Spans that overlap, nest or touch count the characters they cover, once each."""

    def spans(*offsets: tuple[int, int]) -> list[Evidence]:
        return [Evidence(text=TEXT[a:b], start=a, end=b) for a, b in offsets]

    gold_spans = spans((0, 20), (10, 30), (30, 35))  # one run of 0-35
    pred_spans = spans((5, 15), (12, 40), (0, 2), (6, 9))  # 0-2 and 5-40
    article = score_article(
        ArticleExtraction(meetings=[kremlin_meeting(evidence=gold_spans)]),
        Prediction("a", ArticleExtraction(meetings=[kremlin_meeting(evidence=pred_spans)])),
        TEXT,
    )
    overlap = article.counts["meetings.evidence_overlap"]
    assert (overlap.gold, overlap.predicted, overlap.credit) == (35, 37, 2 + 30)


def test_alignment_pairs_the_right_meetings_despite_order() -> None:
    wrong_status = abu_dhabi_meeting(status="held")
    result = score(ArticleExtraction(meetings=[wrong_status, kremlin_meeting()], positions=[]))
    assert result["meetings"]["record"]["f1"] == 1.0
    assert result["meetings"]["status"]["confusion"]["planned"] == {"held": 1}
    assert result["meetings"]["date"]["f1"] == 1.0


def test_threshold_is_configurable() -> None:
    loose = abu_dhabi_meeting(date=EventDate(start="2025-06-01"), location=Location(place="Женева"))
    strict = ScoreConfig(meeting_threshold=0.99)
    pred = Prediction("a", ArticleExtraction(meetings=[kremlin_meeting(), loose]))
    default = score_article(gold(), pred, TEXT).counts["meetings.record"]
    harsh = score_article(gold(), pred, TEXT, strict).counts["meetings.record"]
    assert (default.correct, harsh.correct) == (2, 1)


def test_predictions_on_disk_keep_bad_files_as_failures(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(gold().model_dump_json(), encoding="utf-8")
    (tmp_path / "b.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({"meetings": [{"status": "held"}]}), "utf-8")
    result = ExtractionResult(
        article_id="d", source="d.txt", model="fixture-x", status="ok", extraction=gold(), reasks=2
    )
    (tmp_path / "d.json").write_text(result.model_dump_json(), encoding="utf-8")
    loaded = load_predictions(tmp_path)
    assert sorted(loaded) == ["a", "b", "c", "d"]
    assert (loaded["a"].parsed, loaded["a"].valid) == (True, True)
    assert (loaded["b"].parsed, loaded["b"].valid) == (False, False)
    assert (loaded["c"].parsed, loaded["c"].valid) == (True, False)
    assert (loaded["d"].valid, loaded["d"].reasks) == (True, 2)
    card = score_against_gold({k: gold() for k in "abcd"}, loaded, dict.fromkeys("abcd", TEXT))
    validity = card.to_dict()["validity"]
    assert (validity["parse_rate"], validity["valid_rate"], validity["reask_rate"]) == (
        0.75,
        0.5,
        0.25,
    )


def test_a_bad_gold_file_is_named_in_one_short_line(tmp_path: Path) -> None:
    bad = {"meetings": [{"status": "done", "evidence": []}], "positions": 3}
    (tmp_path / "x.json").write_text(json.dumps(bad), "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_gold(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'x.json'}: not a valid ArticleExtraction: ")
    assert "meetings.0.status: Input should be 'held'" in message
    assert "positions: Input should be a valid array" in message
    assert "http" not in message and "\n" not in message


def test_meeting_sharing_only_the_sides_is_spurious_not_a_match() -> None:
    greeting = Meeting(
        status="held",
        format="in_person",
        delegations=[
            Delegation(side="RU", head=person("Дмитрий Песков")),
            Delegation(side="US"),
        ],
        evidence=[Evidence(text="Песков поприветствовал американцев")],
    )
    result = score(
        ArticleExtraction(meetings=[kremlin_meeting(), greeting], positions=[ushakov_position()])
    )
    record = result["meetings"]["record"]
    assert (record["correct"], record["spurious"], record["missed"]) == (1, 1, 1)
    assert result["meetings"]["head"]["wrong"] == 0


@pytest.mark.parametrize(
    ("failure", "parsed"),
    [("schema", True), ("parse", False), ("truncated", False), ("transport", False)],
)
def test_failed_results_count_as_parsed_only_when_the_schema_failed(
    failure: str, parsed: bool
) -> None:
    result = ExtractionResult(
        article_id="a", source="a.txt", model="fixture-x", status="failed", error="…",
        failure=failure,
    )  # fmt: skip
    prediction = Prediction.from_result(result)
    assert (prediction.parsed, prediction.valid, prediction.extraction) == (parsed, False, None)


def test_predictions_from_a_jsonl_of_results(tmp_path: Path) -> None:
    lines = [
        ExtractionResult(
            article_id=name, source=f"{name}.txt", model="fixture-x", status="ok", extraction=gold()
        ).model_dump_json()
        for name in "ab"
    ]
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join([*lines, "{broken"]) + "\n", encoding="utf-8")
    loaded = load_predictions(path)  # the one results reader: a torn last line is skipped
    assert sorted(loaded) == ["a", "b"]
    assert loaded["a"].valid
    path.write_text("\n".join([lines[0], "{broken", lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"results\.jsonl:2: not JSON"):
        load_predictions(path)  # a bad line inside is an error, never a made-up article


def test_without_the_article_text_quotes_are_compared_by_their_words() -> None:
    no_quote = ushakov_position(quote=None)
    reworded = ushakov_position(quote=Evidence(text="встреча была полезной"))
    for pred, expected in ((no_quote, "missed"), (reworded, "correct")):
        article = score_article(
            gold(), Prediction("a", ArticleExtraction(positions=[pred])), text=None
        )
        assert getattr(article.counts["positions.quote"], expected) == 1
        assert article.quotes == 0  # faithfulness needs the text
        assert "positions.quote_overlap" not in article.counts


def test_alignment_ignores_pairs_below_the_threshold() -> None:
    from llm_extract.score import _align

    # Unrestricted, 0.45 + 0.3 beats 0.6 + 0.0 and g0 would get its weaker match for the sake
    # of a 0.3 that is no match at all.
    sims = {("g0", "p0"): 0.6, ("g0", "p1"): 0.45, ("g1", "p0"): 0.3, ("g1", "p1"): 0.0}
    pairs, missed, spurious = _align(["g0", "g1"], ["p0", "p1"], lambda g, p: sims[g, p], 0.4)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]
    assert (missed, spurious) == ([1], [1])


def test_alignment_without_competing_pairs_keeps_each_candidate() -> None:
    from llm_extract.score import _align

    # Each record has one candidate at or above the threshold: those are the pairs, in gold order.
    sims = {("g0", "p1"): 0.9, ("g1", "p0"): 0.4, ("g2", "p2"): 0.39}
    pairs, missed, spurious = _align(
        ["g0", "g1", "g2"], ["p0", "p1", "p2"], lambda g, p: sims.get((g, p), 0.0), 0.4
    )
    assert pairs == [(0, 1, 0.9), (1, 0, 0.4)]
    assert (missed, spurious) == ([2], [2])


def test_an_unknown_side_is_unknown_not_wrong() -> None:
    unknown = abu_dhabi_meeting(
        delegations=[
            Delegation(side="RU", head=person("Кирилл Дмитриев")),
            Delegation(head=person("Стив Уиткофф")),  # the text does not say whose side
        ]
    )
    result = score(ArticleExtraction(meetings=[kremlin_meeting(), unknown]))
    sides = result["meetings"]["sides"]
    assert sides["precision"] == 1.0  # the unknown side is no wrong or spurious value
    assert result["meetings"]["head"]["f1"] == 1.0  # its head still pairs with his side's


def test_people_match_on_the_alias_tables_id_across_scripts() -> None:
    from llm_extract.schemas import Participant
    from llm_extract.score import same_person

    rubio = Participant(name="Марко Рубіо")
    assert same_person(rubio, Participant(name="Марко Рубио"))
    assert same_person(Participant(name="Рубіошко", name_en="Marco Rubio"), rubio)
    assert same_person(Participant(name="X", person_id="marco-rubio"), rubio)
    assert not same_person(Participant(name="Рубио", person_id="someone-else"), rubio)


def _leaders(biden: str, putin: str, zelensky: str) -> ArticleExtraction:
    return ArticleExtraction(
        meetings=[
            Meeting(
                status="held",
                format="video",
                delegations=[
                    Delegation(side="US", head=person("Джо Байден", biden)),
                    Delegation(side="RU", head=person("Владимир Путин", putin)),
                    Delegation(side="UA", head=person("Володимир Зеленський", zelensky)),
                ],
                evidence=[Evidence(text="Лидеры провели видеоконференцию")],
            )
        ]
    )


def test_roles_compare_country_names_as_their_codes_in_any_case_form() -> None:
    # Issue 18 (dev ru_005): the same title spelled two ways, both as the article states it.
    gold = _leaders("президент США", "президент Росії", "президент України")
    pred = _leaders(
        "Президент Соединённых Штатов Америки",  # the quoted communiqué's full name: 0.64 as text
        "президент РФ",
        "президент России",  # another country: another title, though the text scores 0.71
    )
    counts = score_article(gold, Prediction("a", pred)).counts
    for key in ("meetings.role", "meetings.head_role", "meetings.participants_role"):
        assert (counts[key].correct, counts[key].wrong) == (2, 1), key
    assert counts["meetings.participants"].correct == 3


@pytest.mark.parametrize(
    ("title", "coded"),
    [
        ("президент России", ("президент RU", {"RU"})),
        ("президента Росії", ("президента RU", {"RU"})),
        ("Президент Соединённых Штатов Америки", ("Президент US", {"US"})),
        ("президента Сполучених Штатів Америки", ("президента US", {"US"})),
        ("міністр закордонних справ України", ("міністр закордонних справ UA", {"UA"})),
        ("міністр закордонних справ Туреччини", ("міністр закордонних справ TR", {"TR"})),
        ("envoy appointed by the UN", ("envoy appointed by the UN", {"UN"})),  # «by» is no BY
        ("помощник президента", ("помощник президента", set())),
    ],
)
def test_titles_read_each_country_of_the_alias_table_as_its_code(
    title: str, coded: tuple[str, set[str]]
) -> None:
    assert with_side_codes(title) == (coded[0], frozenset(coded[1]))


def test_a_side_only_position_pairs_with_a_persons_only_on_the_same_issue() -> None:
    # Issue 18 (dev ru_022): the side must not stand in for a holder whose issue is another.
    side_only = ushakov_position(holder=None, issue="создание координационного центра")
    peskov = ushakov_position(holder=person("Дмитрий Песков"), issue="разъяснения по соглашению")
    counts = score_article(
        ArticleExtraction(positions=[side_only]),
        Prediction("a", ArticleExtraction(positions=[peskov])),
    ).counts["positions.record"]
    assert (counts.correct, counts.missed, counts.spurious) == (0, 1, 1)
    # The same issue (dev ru_009's sides): the side still pairs with its named speaker.
    lavrov = ushakov_position(
        holder=person("Сергей Лавров"), issue="создание координационного центра"
    )
    for gold_position, pred_position in ((side_only, lavrov), (lavrov, side_only)):
        paired = score_article(
            ArticleExtraction(positions=[gold_position]),
            Prediction("a", ArticleExtraction(positions=[pred_position])),
        ).counts["positions.record"]
        assert (paired.correct, paired.missed, paired.spurious) == (1, 0, 0)
