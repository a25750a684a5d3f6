"""CAMEO and PLOVER coding: the mapping tables, the seeds' gold, and the shipped code tables."""

from __future__ import annotations

import csv
import datetime as dt
import json
from importlib.resources import files
from pathlib import Path

import pytest

from llm_extract.articles import load_article
from llm_extract.codes import (
    CAMEO_COLUMNS,
    Coding,
    code_event,
    code_results,
    code_track,
    sector,
    tables,
    write_cameo,
    write_plover,
)
from llm_extract.schemas import (
    ArticleExtraction,
    Event,
    EventDate,
    EventMention,
    EventParticipant,
    Evidence,
    ExtractionResult,
    Location,
    MeetingFormat,
    MeetingStatus,
    PositionTrack,
    Stance,
    StanceReport,
    StatusReport,
)

ROOT = Path(__file__).resolve().parent.parent


def _data(name: str) -> dict:
    return json.loads(files("llm_extract").joinpath(f"data/{name}").read_text("utf-8"))


def _event(
    sides: list[str],
    *,
    status: MeetingStatus = MeetingStatus.HELD,
    fmt: MeetingFormat | None = MeetingFormat.IN_PERSON,
    country: str | None = None,
    text: str = "Стороны провели встречу.",
    people: list[EventParticipant] = (),  # type: ignore[assignment]
) -> Event:
    mention = EventMention(
        id="a1#0",
        article_id="a1",
        meeting_index=0,
        source="a1.txt",
        published=dt.date(2026, 1, 23),
        status=status,
        format=fmt,
        sides=sides,
        evidence=[Evidence(text=text, start=0, end=len(text))],
    )
    return Event(
        id="ev-1",
        sides=sides,
        participants=list(people),
        date=EventDate(start="2026-01-22"),
        place=Location(place="Город", country=country) if country else None,
        format=fmt,
        status=status,
        status_history=[StatusReport(status=status, article_id="a1")],
        mentions=[mention],
    )


def _dyads(coding: Coding) -> dict[tuple[str, str], str]:
    return {(r.source.country, r.target.country): r.event_code for r in coding.cameo if r.target}


MEETINGS = [
    # (case, sides, status, format, place country, wording, CAMEO by dyad, PLOVER event, modes, actor, recipient)
    (
        "visit: the place is in one side's country",
        ["RU", "US"],
        MeetingStatus.HELD,
        MeetingFormat.IN_PERSON,
        "RU",
        "Встреча в Кремле.",
        {("USA", "RUS"): "042", ("RUS", "USA"): "043"},
        "CONSULT",
        ["visit"],
        ["USA"],
        ["RUS"],
    ),
    (
        "third location",
        ["RU", "US"],
        MeetingStatus.HELD,
        MeetingFormat.IN_PERSON,
        "CH",
        "Встреча в Давосе.",
        {("USA", "RUS"): "044", ("RUS", "USA"): "044"},
        "CONSULT",
        ["third-party"],
        ["RUS", "USA"],
        [],
    ),
    (
        "negotiations at a third location",
        ["RU", "UA"],
        MeetingStatus.HELD,
        None,
        "TR",
        "Прошёл раунд переговоров по урегулированию.",
        {("RUS", "UKR"): "046", ("UKR", "RUS"): "046"},
        "CONSULT",
        [],
        ["RUS", "UKR"],
        [],
    ),
    (
        "a visit that is also a negotiation stays a visit",
        ["RU", "US"],
        MeetingStatus.HELD,
        MeetingFormat.IN_PERSON,
        "US",
        "Новый раунд переговоров.",
        {("RUS", "USA"): "042", ("USA", "RUS"): "043"},
        "CONSULT",
        ["visit"],
        ["RUS"],
        ["USA"],
    ),
    (
        "phone",
        ["RU", "US"],
        MeetingStatus.HELD,
        MeetingFormat.PHONE,
        None,
        "Телефонный разговор.",
        {("USA", "RUS"): "041", ("RUS", "USA"): "041"},
        "CONSULT",
        ["phone"],
        ["RUS", "USA"],
        [],
    ),
    (
        "video is remote too",
        ["RU", "US"],
        MeetingStatus.ONGOING,
        MeetingFormat.VIDEO,
        "RU",
        "Видеосвязь.",
        {("USA", "RUS"): "041", ("RUS", "USA"): "041"},
        "CONSULT",
        ["phone"],
        ["RUS", "USA"],
        [],
    ),
    (
        "place unknown",
        ["UA", "US"],
        MeetingStatus.HELD,
        MeetingFormat.IN_PERSON,
        None,
        "Представители встречались.",
        {("USA", "UKR"): "040", ("UKR", "USA"): "040"},
        "CONSULT",
        [],
        ["UKR", "USA"],
        [],
    ),
    (
        "planned: intent to meet, PLOVER AGREE",
        ["RU", "US"],
        MeetingStatus.PLANNED,
        MeetingFormat.IN_PERSON,
        "RU",
        "Встреча запланирована.",
        {("USA", "RUS"): "036", ("RUS", "USA"): "036"},
        "AGREE",
        [],
        ["RUS", "USA"],
        [],
    ),
    (
        "proposed",
        ["RU", "US"],
        MeetingStatus.PROPOSED,
        None,
        None,
        "Может пройти в Москве.",
        {("USA", "RUS"): "036", ("RUS", "USA"): "036"},
        "AGREE",
        [],
        ["RUS", "USA"],
        [],
    ),
    (
        "multilateral with a host: visitors meet each other at a third location",
        ["RU", "UA", "US"],
        MeetingStatus.HELD,
        MeetingFormat.IN_PERSON,
        "US",
        "Встреча в Майами.",
        {
            ("RUS", "USA"): "042",
            ("UKR", "USA"): "042",
            ("USA", "RUS"): "043",
            ("USA", "UKR"): "043",
            ("RUS", "UKR"): "044",
            ("UKR", "RUS"): "044",
        },
        "CONSULT",
        ["visit", "multilateral"],
        ["RUS", "UKR"],
        ["USA"],
    ),
    (
        "mediated: the mediator towards each party; the parties meet at a third location",
        ["RU", "TR", "UA"],
        MeetingStatus.HELD,
        MeetingFormat.IN_PERSON,
        "TR",
        "Переговоры прошли при посредничестве Турции.",
        {
            ("TUR", "RUS"): "045",
            ("TUR", "UKR"): "045",
            ("RUS", "UKR"): "044",
            ("UKR", "RUS"): "044",
        },
        "CONSULT",
        ["multilateral"],
        ["RUS", "TUR", "UKR"],
        [],
    ),
]


@pytest.mark.parametrize(
    ("sides", "status", "fmt", "country", "text", "dyads", "event", "modes", "actor", "recipient"),
    [case[1:] for case in MEETINGS],
    ids=[case[0] for case in MEETINGS],
)
def test_meeting_mapping(sides, status, fmt, country, text, dyads, event, modes, actor, recipient):
    coding = code_event(_event(sides, status=status, fmt=fmt, country=country, text=text))
    assert _dyads(coding) == dyads
    [plover] = coding.plover
    assert (plover.event, plover.mode) == (event, modes)
    assert sorted(a.code for a in plover.actor) == actor
    assert [a.code for a in plover.recipient] == recipient
    assert plover.cameo in tables().crosswalk
    assert not coding.uncoded


def test_mediated_talks_at_an_unknown_place():
    coding = code_event(_event(["RU", "TR", "UA"], text="При посредничестве Турции."))
    dyads = _dyads(coding)
    assert (dyads[("TUR", "UKR")], dyads[("RUS", "UKR")]) == ("045", "040")
    assert ("RUS", "TUR") not in dyads
    assert coding.plover[0].comment == "mediated by TR"


@pytest.mark.parametrize(
    ("sides", "status", "reason"),
    [
        (["RU"], MeetingStatus.HELD, "fewer than two sides"),
        (["RU", "US"], MeetingStatus.CANCELLED, "cancelled"),
        (["RU", "US"], MeetingStatus.POSTPONED, "postponed"),
    ],
)
def test_meetings_without_a_faithful_code_say_why(sides, status, reason):
    coding = code_event(_event(sides, status=status))
    assert not coding.cameo and not coding.plover
    assert {u.format for u in coding.uncoded} == {"cameo", "plover"}
    assert all(u.reason.startswith(reason) and u.articles == ["a1"] for u in coding.uncoded)


def _track(stance: Stance, issue: str, summary: str, side: str = "RU") -> PositionTrack:
    report = StanceReport(
        stance=stance,
        published=dt.date(2026, 1, 31),
        article_id="a1",
        position_index=0,
        issue=issue,
        summary=summary,
        evidence=[Evidence(text=summary, start=0, end=len(summary))],
    )
    return PositionTrack(id="pos-1", side=side, issue=issue, issue_key=issue, stances=[report])


STANCES = [
    # (stance, issue, summary, side, CAMEO, target, PLOVER event and modes or None)
    (Stance.DECLINE, "документы", "Песков отказался комментировать.", "RU", "011", None, None),
    (
        Stance.ASSESSMENT,
        "переговоры",
        "Назвал переговоры конструктивными.",
        "RU",
        "013",
        None,
        None,
    ),
    (
        Stance.ASSESSMENT,
        "перспективы мира",
        "Кремль скептически оценивает.",
        "RU",
        "012",
        None,
        None,
    ),
    (Stance.ASSESSMENT, "просьба о встрече", "Назвал это важным фактом.", "US", "010", None, None),
    (
        Stance.SUPPORT,
        "продолжение диалога с США",
        "Москва продолжит.",
        "RU",
        "051",
        "USA",
        ("SUPPORT", []),
    ),
    (
        Stance.DEMAND,
        "прямой контакт с руководством РФ",
        "Настаивает.",
        "UA",
        "106",
        "RUS",
        ("REQUEST", ["meet"]),
    ),
    (
        Stance.DEMAND,
        "контроль над Донбассом",
        "Требует уступок.",
        "RU",
        "100",
        None,
        ("REQUEST", []),
    ),
    (
        Stance.OPPOSE,
        "переговоры с Украиной",
        "Выступил против.",
        "RU",
        "125",
        "UKR",
        ("REJECT", ["meet"]),
    ),
    (
        Stance.OPPOSE,
        "пункты мирного плана США",
        "Назвала неприемлемыми.",
        "UA",
        "127",
        "USA",
        ("REJECT", ["meet"]),
    ),
    (
        Stance.OPPOSE,
        "контроль над Донбассом",
        "Киев отвергает уступки.",
        "UA",
        "124",
        None,
        ("REJECT", ["change"]),
    ),
    (
        Stance.OPPOSE,
        "санкции",
        "Россия осудила санкции.",
        "RU",
        "111",
        None,
        ("ACCUSE", ["disapprove"]),
    ),
    (Stance.OPPOSE, "военные НАТО на Украине", "Возражает.", "RU", "120", None, ("REJECT", [])),
    (
        Stance.PROPOSE,
        "место следующего раунда переговоров",
        "Допустил Москву.",
        "RU",
        "036",
        None,
        ("AGREE", []),
    ),
    (
        Stance.PROPOSE,
        "контроль над Донбассом",
        "США предлагают компромиссы.",
        "US",
        "037",
        None,
        ("AGREE", []),
    ),
]


@pytest.mark.parametrize(
    ("stance", "issue", "summary", "side", "code", "target", "plover"),
    STANCES,
    ids=[f"{s[0].value}-{s[4]}" for s in STANCES],
)
def test_stance_mapping(stance, issue, summary, side, code, target, plover):
    coding = code_track(_track(stance, issue, summary, side))
    [record] = coding.cameo
    assert record.event_code == code
    assert (record.target.country if record.target else None) == target
    if plover is None:
        assert not coding.plover
        [uncoded] = coding.uncoded
        assert uncoded.format == "plover" and "no statement category" in uncoded.reason
    else:
        [rec] = coding.plover
        assert (rec.event, rec.mode) == plover
        assert [a.code for a in rec.recipient] == ([target] if target else [])


def test_a_position_without_a_side_is_not_coded():
    track = PositionTrack(
        id="pos-2",
        holder="Неизвестный Эксперт",
        issue="x",
        issue_key="x",
        stances=_track(Stance.SUPPORT, "x", "y").stances,
    )
    coding = code_track(track)
    assert not coding.cameo and {u.format for u in coding.uncoded} == {"cameo", "plover"}


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["начальник ГРУ"], ["MIL"]),
        (["министр финансов"], ["GOV"]),
        (["министр армии США"], ["MIL"]),
        (["директор СВР"], ["SPY"]),
        (["директор ФБР"], ["COP"]),
        (["генеральный секретарь НАТО"], ["GOV"]),
        (["генерал армии"], ["MIL"]),
        (["генеральный директор компании"], ["BUS"]),
        (["зять президента США Дональда Трампа"], ["ELI"]),
        (
            ["основатель компании Affinity Partners", "представитель Дональда Трампа"],
            ["GOV", "BUS"],
        ),
        (["депутат Госдумы"], ["LEG"]),
        (["журналист"], ["MEDIA"]),
        (["глава Чечни"], ["GOV"]),
        ([], []),
        (["эксперт"], []),
    ],
)
def test_sector_from_roles(roles, expected):
    assert sector(roles) == expected


# --- Seeds ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold_coding() -> Coding:
    results = []
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        article, path = load_article(seed), ROOT / "evals" / "gold" / f"{seed.stem}.json"
        results.append(
            ExtractionResult(
                article_id=article.id,
                source=f"seeds/{path.stem}.txt",
                published=article.published,
                model="gold",
                status="ok",
                extraction=ArticleExtraction.model_validate_json(path.read_text("utf-8")),
            )
        )
    return code_results(results)


def _at(coding: Coding, date: str, place: str | None) -> Coding:
    ids = {
        r.event_id for r in coding.cameo if (r.date, r.date_kind, r.place) == (date, "event", place)
    }
    assert len(ids) == 1, ids
    return Coding(
        cameo=[r for r in coding.cameo if r.event_id in ids],
        plover=[r for r in coding.plover if r.event_id in ids],
    )


def test_gold_kremlin_talks_are_a_visit_by_the_us(gold_coding):
    kremlin = _at(gold_coding, "2026-01-22", "Москва")
    assert _dyads(kremlin) == {("USA", "RUS"): "042", ("RUS", "USA"): "043"}
    by_code = {r.event_code: r for r in kremlin.cameo}
    assert (by_code["042"].source.name, by_code["042"].target.name) == (
        "Стив Уиткофф",
        "Владимир Путин",
    )
    assert {s.article_id[:3] for s in by_code["042"].sources} == {"000", "001"}
    [plover] = kremlin.plover
    assert (plover.event, plover.mode) == ("CONSULT", ["visit"])
    assert {a.code for a in plover.actor} == {"USA"}
    assert {a.code for a in plover.recipient} == {"RUS"}
    putin = next(a for a in plover.recipient if a.entity_text == "Владимир Путин")
    assert (putin.identifier_id, putin.identifier_text, putin.sector) == (
        "Q7747",
        "Vladimir Putin",
        "GOV",
    )


def test_gold_trilateral_in_abu_dhabi_is_intent_to_meet(gold_coding):
    group = _at(gold_coding, "2026-01-23", "Абу-Даби")
    countries = ("RUS", "UKR", "USA")
    assert _dyads(group) == {(a, b): "036" for a in countries for b in countries if a != b}
    head = next(r.source for r in group.cameo if r.source.country == "RUS")
    assert (head.code, head.name) == ("RUSMIL", "Игорь Костюков")
    [plover] = group.plover
    assert plover.event == "AGREE"
    assert sorted({a.code for a in plover.actor}) == list(countries)


def test_gold_miami_31_january_is_one_event_with_both_sources(gold_coding):
    miami = _at(gold_coding, "2026-01-31", "Майами")
    assert _dyads(miami) == {("RUS", "USA"): "042", ("USA", "RUS"): "043"}
    assert {s.article_id[:3] for s in miami.cameo[0].sources} == {"003", "004"}
    bessent = next(a for a in miami.plover[0].recipient if a.identifier_text == "Scott Bessent")
    assert bessent.sector == "GOV"


def test_gold_davos_is_a_third_location(gold_coding):
    davos = _at(gold_coding, "2026-01-20", "Давос")
    assert set(_dyads(davos).values()) == {"044"}
    assert davos.plover[0].mode == ["third-party"]


def test_gold_positions(gold_coding):
    by_summary = {
        r.sources[0].evidence[0].text: r for r in gold_coding.cameo if r.kind == "position"
    }
    assert len(by_summary) > 20
    codes = {r.event_code for r in gold_coding.cameo if r.kind == "position"}
    assert {"011", "013", "012", "051", "106", "125", "127"} <= codes
    zelensky = next(r for r in gold_coding.plover if r.cameo == "106")
    assert (zelensky.actor[0].identifier_id, [a.code for a in zelensky.recipient]) == (
        "Q3874799",
        ["RUS"],
    )


def test_every_emitted_code_is_in_the_shipped_tables(gold_coding):
    cameo, goldstein, plover = _data("cameo.json"), _data("goldstein.json"), _data("plover.json")
    sectors = _data("sectors.json")
    cameo_sectors = {row["cameo"] for row in sectors["sectors"].values()}
    plover_sectors = {row["plover"] for row in sectors["sectors"].values()}
    for record in gold_coding.cameo:
        assert record.event_code in cameo["events"]
        assert record.event_name == cameo["events"][record.event_code]["name"]
        assert record.root_code == record.event_code[:2] and record.root_code in cameo["events"]
        assert record.quad_class == cameo["events"][record.event_code]["quad_class"]
        assert record.goldstein == goldstein["scores"][record.event_code]
        for actor in filter(None, (record.source, record.target)):
            assert actor.sector is None or actor.sector in cameo_sectors
    for record in gold_coding.plover:
        walk = plover["from_cameo"][record.cameo]
        assert record.event == walk["event"] and record.event in plover["events"]
        row = plover["events"][record.event]
        assert set(record.mode) <= set(row["modes"])
        scored = [row["modes"][m] for m in record.mode if m in row["modes"]]
        assert record.event_scale == (scored[0] if scored else row["score"])
        assert record.quad_code == plover["quad_codes"][row["quad_category"]]
        for actor in record.actor + record.recipient:
            assert actor.sector is None or actor.sector in plover_sectors


def test_every_table_cites_its_source():
    for name in ("cameo.json", "goldstein.json", "plover.json", "sectors.json"):
        assert "http" in _data(name)["_source"] or "github.com" in _data(name)["_source"]
    assert set(_data("goldstein.json")["scores"]) == set(_data("cameo.json")["events"])


def test_writers(gold_coding, tmp_path):
    tsv, jsonl = tmp_path / "events.tsv", tmp_path / "events.jsonl"
    assert write_cameo(gold_coding, tsv) == len(gold_coding.cameo)
    with tsv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert list(rows[0]) == [name for name, _ in CAMEO_COLUMNS]
    assert len(rows) == len(gold_coding.cameo)
    visit = next(r for r in rows if r["event_code"] == "042" and r["date"] == "2026-01-22")
    assert (visit["source_actor"], visit["target_actor"], visit["goldstein"]) == (
        "USAGOV",
        "RUSGOV",
        "1.9",
    )
    assert visit["articles"].count("|") == 1 and ":0-150" in visit["evidence"]
    assert write_plover(gold_coding, jsonl) == len(gold_coding.plover)
    lines = [json.loads(line) for line in jsonl.read_text("utf-8").splitlines()]
    assert len(lines) == len(gold_coding.plover)
    assert all({"id", "date", "actor", "event", "sources"} <= set(line) for line in lines)


def test_export_command_writes_both_formats(gold_coding, tmp_path):
    from typer.testing import CliRunner

    from llm_extract.cli import app

    results = tmp_path / "results.jsonl"
    with results.open("w", encoding="utf-8") as handle:
        for seed in sorted((ROOT / "seeds").glob("*.txt")):
            article, path = load_article(seed), ROOT / "evals" / "gold" / f"{seed.stem}.json"
            result = ExtractionResult(
                article_id=article.id,
                source=f"seeds/{path.stem}.txt",
                published=article.published,
                model="gold",
                status="ok",
                extraction=ArticleExtraction.model_validate_json(path.read_text("utf-8")),
            )
            handle.write(result.model_dump_json() + "\n")
        handle.write('{"article_id": "x", "status": "failed"')  # a torn last line
    runner = CliRunner()
    tsv, jsonl = tmp_path / "out" / "events.tsv", tmp_path / "out" / "events.jsonl"
    done = runner.invoke(app, ["export", str(results), "--to", "cameo", "--out", str(tsv)])
    assert done.exit_code == 0, done.output
    assert len(tsv.read_text("utf-8").splitlines()) == len(gold_coding.cameo) + 1
    assert (tmp_path / "out" / "events.dictionary.md").read_text("utf-8").count("| `") == len(
        CAMEO_COLUMNS
    )
    uncoded = (tmp_path / "out" / "events.uncoded.jsonl").read_text("utf-8").splitlines()
    assert len(uncoded) == sum(u.format == "cameo" for u in gold_coding.uncoded)
    done = runner.invoke(app, ["export", str(results), "--to", "plover", "--out", str(jsonl)])
    assert done.exit_code == 0, done.output
    assert len(jsonl.read_text("utf-8").splitlines()) == len(gold_coding.plover)


def test_an_undated_meeting_takes_its_first_report_date():
    event = _event(["RU", "US"]).model_copy(update={"date": None})
    coding = code_event(event)
    assert {(r.date, r.date_kind) for r in coding.cameo} == {("2026-01-23", "published")}
    assert (coding.plover[0].date, coding.plover[0].date_kind) == ("2026-01-23", "published")


def test_a_person_without_a_role_takes_the_roles_other_sources_give():
    witkoff = EventParticipant(name="Стив Уиткофф", side="US", head=True, articles=["a1"])
    event = _event(["RU", "US"], country="US", people=[witkoff])
    assert code_event(event).cameo[0].target.code == "USA"
    coded = code_event(event, {"Стив Уиткофф": ["спецпосланник президента США"]})
    visit = next(r for r in coded.cameo if r.event_code == "043")
    assert (visit.source.code, visit.source.name) == ("USAGOV", "Стив Уиткофф")


def _reports(*days_and_summaries: tuple[int, str]) -> PositionTrack:
    track = _track(Stance.ASSESSMENT, "переговоры в Майами", "x", "US")
    stances = [
        track.stances[0].model_copy(
            update={
                "published": dt.date(2026, 1, 31) + dt.timedelta(days=day),
                "article_id": f"a{i}",
                "summary": summary,
            }
        )
        for i, (day, summary) in enumerate(days_and_summaries)
    ]
    return track.model_copy(update={"stances": stances})


@pytest.mark.parametrize(
    ("reports", "records"),
    [
        ([(0, "Назвал переговоры продуктивными."), (1, "Назвал встречу конструктивной.")], [2]),
        ([(0, "Назвал переговоры продуктивными."), (10, "Снова назвал их полезными.")], [1, 1]),
        ([(0, "Назвал переговоры продуктивными."), (1, "Отметил трудности.")], [1, 1]),
    ],
    ids=["one statement, two reports", "repeated ten days later", "a different code"],
)
def test_reports_of_one_statement_are_one_record(reports, records):
    coding = code_track(_reports(*reports))
    assert [len(r.sources) for r in coding.cameo] == records
    assert coding.cameo[0].date == "2026-01-31"
