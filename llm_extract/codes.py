"""Event-data codes: corpus events and position tracks as CAMEO and PLOVER records.

Political scientists analyse event data in the codes ICEWS, Phoenix and POLECAT use, so
this turns resolved events (never single mentions) into those records. Every code comes
from the shipped tables under `llm_extract/data/` (cameo.json, goldstein.json, plover.json,
sectors.json, each citing its source); the rules here only choose among them. Where a
record has no faithful code, it is reported as `Uncoded` with the reason instead of forced.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from importlib.resources import files
from itertools import permutations
from pathlib import Path
from typing import Literal, Protocol

import pycountry
from pydantic import BaseModel, Field

from llm_extract.aliases import alias_table
from llm_extract.events import aggregate_positions, resolve_events
from llm_extract.normalise import canonical_name, side_code
from llm_extract.schemas import (
    ORGANISATIONS,
    Event,
    EventParticipant,
    Evidence,
    ExtractionResult,
    MeetingFormat,
    MeetingStatus,
    PositionTrack,
    Stance,
    StanceReport,
)

__all__ = [
    "CAMEO_COLUMNS",
    "PLOVER_FIELDS",
    "SAME_STATEMENT_DAYS",
    "CameoActor",
    "CameoRecord",
    "Coding",
    "PloverActor",
    "PloverRecord",
    "Source",
    "Tables",
    "Uncoded",
    "code_corpus",
    "code_event",
    "code_results",
    "code_track",
    "export_cameo",
    "export_plover",
    "sector",
    "tables",
    "write_cameo",
    "write_plover",
]


# --- Tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CameoCode:
    code: str
    name: str
    quad_class: int
    goldstein: float

    @property
    def root(self) -> str:
        return self.code[:2]


@dataclass(frozen=True)
class PloverCode:
    """One crosswalk row: what PLOVER makes of a CAMEO code."""

    event: str
    mode: str | None
    context: tuple[str, ...]


@dataclass(frozen=True)
class Tables:
    """The shipped code tables, read once; nothing here is typed into code."""

    cameo: Mapping[str, CameoCode]
    plover_quad: Mapping[str, int]
    plover_score: Mapping[str, float]
    plover_mode_score: Mapping[tuple[str, str], float]
    crosswalk: Mapping[str, PloverCode]
    sectors: Mapping[str, tuple[str, str]]
    organisations: Mapping[str, tuple[str, str]]

    def cameo_code(self, code: str) -> CameoCode:
        try:
            return self.cameo[code]
        except KeyError:
            raise KeyError(f"CAMEO code {code!r} is not in llm_extract/data/cameo.json") from None


def _data(name: str) -> dict:
    return json.loads(files("llm_extract").joinpath(f"data/{name}").read_text("utf-8"))


@cache
def tables() -> Tables:
    cameo, goldstein = _data("cameo.json"), _data("goldstein.json")["scores"]
    plover, sectors = _data("plover.json"), _data("sectors.json")
    missing = sorted(set(cameo["events"]) - set(goldstein))
    if missing:
        raise ValueError(f"goldstein.json lacks scores for CAMEO codes {', '.join(missing)}")
    return Tables(
        cameo={
            code: CameoCode(code, row["name"], row["quad_class"], float(goldstein[code]))
            for code, row in cameo["events"].items()
        },
        plover_quad={
            event: plover["quad_codes"][row["quad_category"]]
            for event, row in plover["events"].items()
        },
        plover_score={event: float(row["score"]) for event, row in plover["events"].items()},
        plover_mode_score={
            (event, mode): float(score)
            for event, row in plover["events"].items()
            for mode, score in row["modes"].items()
        },
        crosswalk={
            code: PloverCode(row["event"], row["mode"], tuple(row["context"]))
            for code, row in plover["from_cameo"].items()
        },
        sectors={key: (row["cameo"], row["plover"]) for key, row in sectors["sectors"].items()},
        organisations={
            key: (row["cameo"], row["plover"]) for key, row in sectors["organisations"].items()
        },
    )


# --- Records --------------------------------------------------------------------------------


DateKind = Literal["event", "published"] | None
"""event: the date the sources give the meeting; published: none is given, so the first
report's publication date (ICEWS and Phoenix date events by their story); None: unknown."""


class Source(BaseModel):
    """Where a coded record comes from: one article and the quotes that show it."""

    article_id: str
    mention: str | None = Field(default=None, description="Event mention id, for meetings.")
    published: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class CameoActor(BaseModel):
    code: str = Field(description="Country (ISO 3166-1 alpha-3) or organisation, plus sector.")
    country: str
    sector: str | None = None
    name: str | None = Field(default=None, description="Canonical name of the person, if any.")


class CameoRecord(BaseModel):
    """One dyadic CAMEO event: a meeting expands to one record per ordered pair of sides."""

    id: str
    event_id: str
    kind: Literal["meeting", "position"]
    date: str | None
    date_kind: DateKind = None
    source: CameoActor
    target: CameoActor | None
    event_code: str
    event_name: str
    root_code: str
    quad_class: int
    goldstein: float
    place: str | None = None
    country: str | None = None
    sources: list[Source]


class PloverActor(BaseModel):
    """The PLOVER entity object (specification table «Information object for entities»)."""

    code: str
    sector: str | None = None
    other_sectors: list[str] = Field(default_factory=list)
    entity_text: str | None = None
    identifier_id: str | None = Field(default=None, description="Wikidata id.")
    identifier_text: str | None = Field(default=None, description="English name.")
    office: str | None = None


class PloverRecord(BaseModel):
    """One PLOVER record: a meeting stays one record, with several actors."""

    id: str
    event_id: str
    kind: Literal["meeting", "position"]
    date: str | None
    date_kind: DateKind = None
    enddate: str | None = None
    actor: list[PloverActor]
    recipient: list[PloverActor] = Field(default_factory=list)
    event: str
    mode: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    quad_code: int
    event_scale: float
    event_loc: dict[str, str] | None = None
    event_text: list[str] = Field(default_factory=list)
    cameo: str = Field(description="The CAMEO code this record was crosswalked from.")
    coder: str
    comment: str | None = None
    sources: list[Source]


class Uncoded(BaseModel):
    """A record that has no faithful code in one format, and why."""

    event_id: str
    kind: Literal["meeting", "position"]
    format: Literal["cameo", "plover"]
    reason: str
    articles: list[str]


class Coding(BaseModel):
    cameo: list[CameoRecord] = Field(default_factory=list)
    plover: list[PloverRecord] = Field(default_factory=list)
    uncoded: list[Uncoded] = Field(default_factory=list)

    def extend(self, other: Coding) -> None:
        self.cameo.extend(other.cameo)
        self.plover.extend(other.plover)
        self.uncoded.extend(other.uncoded)


# --- Actors ---------------------------------------------------------------------------------

_SECTOR_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern, re.IGNORECASE))
    for key, pattern in (
        (
            "MIL",
            r"\bгру\b|\bгур\b|военн|генштаб|\bгенерал\b|армии|армия|military|\barmy\b|general staff",
        ),
        ("SPY", r"разведк|спецслужб|\bсвр\b|\bфсб\b|\bцру\b|\bсбу\b|\bcia\b|intelligence"),
        ("ELI", r"зят|тест[ьяю]|\bжена\b|\bсын\b|\bдочь\b|бывш|\bэкс-|former|in-law"),
        (
            "BUS",
            r"компани|бизнес|предпринимател|основател|инвестор|банкир|гендиректор|генеральн\w* директор\w* компани|\bceo\b|business|founder|investor",
        ),
        ("MEDIA", r"журналист|корреспондент|редактор|\bсми\b|journalist|editor"),
        (
            "LEG",
            r"депутат|сенатор|парламент|госдум|\bрады\b|конгресс|спикер|senator|lawmaker|parliament|congress",
        ),
        ("JUD", r"судья|\bсуд\b|прокурор|judge|court"),
        ("COP", r"полици|\bмвд\b|\bфбр\b|police|\bfbi\b"),
        ("OPP", r"оппозиц|opposition"),
        (
            "GOV",
            r"президент|премьер|министр|глав[аы]|посланник|представител|посол|советник|помощник|пресс-секретар|секретар|администрац|канцлер|губернатор|мэр|кремл|белого дома|правительств|president|minister|envoy|ambassador|advis[eo]r|secretary|spokes|chancellor|governor|government",
        ),
    )
)
"""A role phrase's sector: the first rule that matches. Kinship, business and media words come
before government ones so that «зять президента» is ELI and «основатель компании» BUS."""

_SECTOR_PRECEDENCE = ("MIL", "SPY", "GOV", "LEG", "JUD", "COP", "OPP", "ELI", "BUS", "MEDIA")
"""Across a person's roles, the primary sector: state roles first (PLOVER keeps the rest as
secondary sectors), so an envoy who also founded a company is GOV, then BUS."""


def sector(roles: Sequence[str]) -> list[str]:
    """Sector keys for a person's role phrases, primary first; empty when no rule matches."""
    found = set()
    for role in roles:
        for key, pattern in _SECTOR_RULES:
            if pattern.search(role):
                found.add(key)
                break
    return [key for key in _SECTOR_PRECEDENCE if key in found]


def _country(side: str) -> tuple[str, str]:
    """CAMEO and PLOVER country (or organisation) codes for one of our sides."""
    if side in ORGANISATIONS:
        return tables().organisations[side]
    country = pycountry.countries.get(alpha_2=side)
    if country is None:
        raise ValueError(f"side {side!r} is not an ISO 3166-1 alpha-2 code")
    return country.alpha_3, country.alpha_3


@dataclass(frozen=True)
class _Party:
    """One side at a meeting or the holder of a position, before it is written in a format."""

    side: str
    people: tuple[EventParticipant, ...] = ()

    @property
    def lead(self) -> EventParticipant | None:
        heads = [p for p in self.people if p.head]
        return (heads or list(self.people) or [None])[0]

    def cameo(self) -> CameoActor:
        country = _country(self.side)[0]
        lead = self.lead
        keys = sector(lead.roles) if lead else []
        code = tables().sectors[keys[0]][0] if keys and self.side not in ORGANISATIONS else None
        return CameoActor(
            code=country + (code or ""),
            country=country,
            sector=code,
            name=lead.name if lead else None,
        )

    def plover(self) -> list[PloverActor]:
        country = _country(self.side)[1]
        if not self.people:
            return [PloverActor(code=country)]
        return [_plover_person(country, person) for person in self.people]


def _plover_person(country: str, person: EventParticipant) -> PloverActor:
    keys = [tables().sectors[key][1] for key in sector(person.roles)]
    entry = alias_table().person(person.name)
    return PloverActor(
        code=country,
        sector=keys[0] if keys else None,
        other_sectors=keys[1:],
        entity_text=person.name,
        identifier_id=entry.wikidata if entry else None,
        identifier_text=person.name_en or (entry.name_en if entry else None),
        office=person.roles[0] if person.roles else None,
    )


# --- Meetings -------------------------------------------------------------------------------

_NEGOTIATION = re.compile(
    r"переговорн\w* процесс|раунд\w* переговоров|мирн\w* переговор|переговор\w* (?:по|о) "
    r"|negotiat|торг(?:ов)?ал",
    re.IGNORECASE,
)
"""Wording that makes talks negotiations (CAMEO 046). Plain «переговоры» is Russian for any
talks, so it alone does not count."""

_MEDIATION = re.compile(
    r"(?:посредничеств\w*|посредник\w*|mediat\w*(?: by)?)\s+([\w-]+(?:\s+[\w-]+)?)", re.IGNORECASE
)


def _texts(event: Event) -> list[str]:
    return [e.text for m in event.mentions for e in m.evidence] + list(event.topics)


def _mediator(event: Event) -> str | None:
    """The side the sources name as mediator («при посредничестве США»), if one."""
    for text in _texts(event):
        for match in _MEDIATION.finditer(text):
            side = side_code(match.group(1))
            if side in event.sides:
                return side
    return None


def _principal(event: Event, host: str | None, mediator: str | None, third: bool) -> str:
    """The CAMEO code that decides the PLOVER record (through the crosswalk)."""
    if event.status in (MeetingStatus.PLANNED, MeetingStatus.PROPOSED):
        return "036"
    if event.format in (MeetingFormat.PHONE, MeetingFormat.VIDEO):
        return "041"
    if mediator:
        return "045"
    if host:
        return "042"
    if any(_NEGOTIATION.search(t) for t in _texts(event)):
        return "046"
    return "044" if third else "040"


def _dyad_code(
    principal: str, a: str, b: str, host: str | None, mediator: str | None, third: bool
) -> str | None:
    """CAMEO code for source `a` towards target `b`; None when the pair gets no record.

    The mediator mediates towards each party (045); the parties' own pairs, and every pair
    of a hosted meeting, follow the place: visit and host, or a third location.
    """
    if principal not in ("042", "045"):
        return principal
    if a == mediator:
        return "045"
    if b == mediator:
        return None
    if host:
        return "043" if a == host else "042" if b == host else "044"
    return "044" if third else "040"


def _sources(event: Event) -> list[Source]:
    return [
        Source(
            article_id=m.article_id,
            mention=m.id,
            published=m.published.isoformat() if m.published else None,
            evidence=m.evidence,
        )
        for m in event.mentions
    ]


def _uncoded(event: Event, reason: str) -> Coding:
    articles = sorted({m.article_id for m in event.mentions})
    return Coding(
        uncoded=[
            Uncoded(event_id=event.id, kind="meeting", format=fmt, reason=reason, articles=articles)
            for fmt in ("cameo", "plover")
        ]
    )


@cache
def _coder() -> str:
    return f"llm-extract {version('llm-extract')}"


def _with_roles(person: EventParticipant, roles: Mapping[str, Sequence[str]]) -> EventParticipant:
    """A person the event names without a role takes the roles other sources give them."""
    if person.roles or not roles.get(person.name):
        return person
    return person.model_copy(update={"roles": list(roles[person.name])})


def _event_date(event: Event) -> tuple[str | None, DateKind]:
    if event.date:
        return event.date.start, "event"
    published = sorted(m.published for m in event.mentions if m.published)
    return (published[0].isoformat(), "published") if published else (None, None)


def code_event(event: Event, roles: Mapping[str, Sequence[str]] | None = None) -> Coding:
    """CAMEO records (one per ordered pair of sides) and one PLOVER record for a meeting.

    `roles` (canonical name -> role phrases) fills in people the event names without a role.
    """
    sides = sorted(set(event.sides))
    if len(sides) < 2:
        return _uncoded(event, "fewer than two sides: CAMEO and PLOVER code interactions")
    if event.status is MeetingStatus.CANCELLED:
        return _uncoded(event, "cancelled: neither format codes a meeting that will not happen")
    if event.status is MeetingStatus.POSTPONED:
        return _uncoded(event, "postponed: no new date, so neither a meeting nor an agreed one")
    place_country = event.place.country if event.place else None
    remote = event.format in (MeetingFormat.PHONE, MeetingFormat.VIDEO)
    host = place_country if place_country in sides and not remote else None
    mediator = None if remote else _mediator(event)
    third = place_country is not None and place_country not in sides and not remote
    principal = _principal(event, host, mediator, third)
    parties = {
        side: _Party(
            side, tuple(_with_roles(p, roles or {}) for p in event.participants if p.side == side)
        )
        for side in sides
    }
    date, date_kind = _event_date(event)
    place = event.place.place if event.place else None
    country = _country(place_country)[0] if place_country else None
    sources = _sources(event)
    table = tables()
    cameo = []
    for a, b in permutations(sides, 2):
        code = _dyad_code(principal, a, b, host, mediator, third)
        if code is None:
            continue
        entry = table.cameo_code(code)
        cameo.append(
            CameoRecord(
                id=f"{event.id}:{code}:{a}-{b}",
                event_id=event.id,
                kind="meeting",
                date=date,
                date_kind=date_kind,
                source=parties[a].cameo(),
                target=parties[b].cameo(),
                event_code=code,
                event_name=entry.name,
                root_code=entry.root,
                quad_class=entry.quad_class,
                goldstein=entry.goldstein,
                place=place,
                country=country,
                sources=sources,
            )
        )
    walk = table.crosswalk[principal]
    modes = [walk.mode] if walk.mode else []
    if walk.event == "CONSULT" and len(sides) > 2:
        modes.append("multilateral")
    visitors = [s for s in sides if s != host] if walk.mode == "visit" else sides
    comment = f"mediated by {mediator}" if mediator else None
    plover = PloverRecord(
        id=event.id,
        event_id=event.id,
        kind="meeting",
        date=date,
        date_kind=date_kind,
        enddate=event.date.end if event.date else None,
        actor=[actor for side in visitors for actor in parties[side].plover()],
        recipient=parties[host].plover() if walk.mode == "visit" and host else [],
        event=walk.event,
        mode=modes,
        context=list(walk.context),
        quad_code=table.plover_quad[walk.event],
        event_scale=_plover_scale(walk.event, modes),
        event_loc=_location(place, place_country),
        event_text=[e.text for m in event.mentions for e in m.evidence],
        cameo=principal,
        coder=_coder(),
        comment=comment,
        sources=sources,
    )
    return Coding(cameo=cameo, plover=[plover])


def _plover_scale(event: str, modes: Sequence[str]) -> float:
    """The PLOVER score of the event type with its first scored mode, else of the type."""
    table = tables()
    for mode in modes:
        if (event, mode) in table.plover_mode_score:
            return table.plover_mode_score[event, mode]
    return table.plover_score[event]


def _location(place: str | None, country: str | None) -> dict[str, str] | None:
    loc = {}
    if place:
        loc["extracted_place"] = place
    if country:
        loc["country_code"] = _country(country)[1]
    return loc or None


# --- Positions ------------------------------------------------------------------------------

_MEET = re.compile(
    r"переговор|встреч|контакт|диалог|саммит|раунд|negotiat|talks|meeting|summit|dialogue",
    re.IGNORECASE,
)
_PLAN = re.compile(r"план|соглашени|договор[её]нност|сделк|plan\b|agreement|deal\b", re.IGNORECASE)
_YIELD = re.compile(r"передач|уступ|отказ\w* от|cede|concession", re.IGNORECASE)
_SETTLE = re.compile(
    r"компромисс|урегулир|\bмир|перемири|гаранти|settle|ceasefire|peace", re.IGNORECASE
)
_CRITICISE = re.compile(r"критик|осуд|осужд|criticis|condemn", re.IGNORECASE)
_ACCUSE = re.compile(r"обвин|accus", re.IGNORECASE)
_OPTIMISTIC = re.compile(
    r"конструктив|продуктив|полезн|позитив|прогресс|обнадежива|обнадёжива|надежд|плодотвор"
    r"|хорош|успешн|оптимис|готов|constructive|productive|useful|positive|progress|hope|optimis",
    re.IGNORECASE,
)
_PESSIMISTIC = re.compile(
    r"скептич|пессимис|трудно|неприемлем|тупик|провал|невозможн|разочаров|негатив"
    r"|sceptic|skeptic|pessimis|difficult|unacceptable|deadlock|impossible",
    re.IGNORECASE,
)


def _stance_code(report: StanceReport) -> str:
    """The CAMEO code for a stance, from the stance and the words of its issue and summary."""
    text = f"{report.issue} {report.summary}"
    quotes = " ".join(e.text for e in report.evidence)
    match report.stance:
        case Stance.DECLINE:
            return "011"
        case Stance.ASSESSMENT:
            good = bool(_OPTIMISTIC.search(text) or _OPTIMISTIC.search(quotes))
            bad = bool(_PESSIMISTIC.search(text) or _PESSIMISTIC.search(quotes))
            return "013" if good and not bad else "012" if bad and not good else "010"
        case Stance.SUPPORT:
            return "051"
        case Stance.DEMAND:
            return "106" if _MEET.search(report.issue) else "100"
        case Stance.PROPOSE:
            return "036" if _MEET.search(text) else "037" if _SETTLE.search(text) else "030"
        case Stance.OPPOSE:
            if _ACCUSE.search(text):
                return "112"
            if _CRITICISE.search(text):
                return "111"
            if _MEET.search(report.issue):
                return "125"
            if _PLAN.search(report.issue):
                return "127"
            return "124" if _YIELD.search(text) else "120"
    raise ValueError(f"unknown stance {report.stance!r}")


_WORDS = re.compile(r"[\w-]+")


@cache
def _word_side(word: str) -> str | None:
    """Cached: an issue's words repeat across a corpus, and lemmatising them is the cost."""
    return side_code(word)


def _target(report: StanceReport, own: str | None) -> str | None:
    """The one other side the issue names («пункты мирного плана США»), if exactly one.

    Short lower-case words are skipped: «us» or «ес» in running text are not sides."""
    words = [w for w in _WORDS.findall(report.issue) if not (w.islower() and len(w) <= 3)]
    named = {_word_side(word) for word in words} - {None, own}
    return named.pop() if len(named) == 1 else None


def _holder_party(track: PositionTrack, roles: Mapping[str, Sequence[str]]) -> _Party | None:
    entry = alias_table().person(track.holder) if track.holder else None
    side = track.side or (entry.side if entry else None)
    if side is None:
        return None
    if track.holder is None:
        return _Party(side)
    person = EventParticipant(
        name=track.holder,
        name_en=entry.name_en if entry else None,
        side=side,
        head=True,
        roles=list(roles.get(track.holder, ())),
        articles=sorted({s.article_id for s in track.stances}),
    )
    return _Party(side, (person,))


SAME_STATEMENT_DAYS = 2
"""Reports of one holder's stance on one issue, with the same code and target, published
within this many days of the first, are one statement: GDELT's failure is one event reported
366 times counted as 366 events."""


@dataclass
class _Statement:
    code: CameoCode
    target: str | None
    reports: list[StanceReport]

    @property
    def first(self) -> StanceReport:
        return self.reports[0]


def _open_statement(
    statements: list[_Statement], published: dt.date | None, code: CameoCode, target: str | None
) -> _Statement | None:
    """The statement a report published on `published` repeats, looking back only the window."""
    if published is None:
        return None
    for statement in reversed(statements):
        first = statement.first.published
        if first is None or (published - first).days > SAME_STATEMENT_DAYS:
            return None  # statements start in date order: every earlier one is older still
        if (statement.code, statement.target) == (code, target):
            return statement
    return None


def _statements(track: PositionTrack, own: str | None) -> list[_Statement]:
    """The track's reports grouped into statements (see `SAME_STATEMENT_DAYS`), oldest first."""
    table = tables()
    out: list[_Statement] = []
    reports = sorted(track.stances, key=lambda r: (r.published or dt.date.max, r.article_id))
    for report in reports:
        code, target = table.cameo_code(_stance_code(report)), _target(report, own)
        statement = _open_statement(out, report.published, code, target)
        if statement is None:
            out.append(_Statement(code, target, [report]))
        else:
            statement.reports.append(report)
    return out


def code_track(track: PositionTrack, roles: Mapping[str, Sequence[str]] | None = None) -> Coding:
    """One CAMEO and one PLOVER record per statement of a holder's stance, with its sources.

    `roles` maps canonical names to role phrases (from events and results): a position
    record does not carry the holder's role, and the sector comes from it.
    """
    party = _holder_party(track, roles or {})
    if party is None:
        reason = "no side: CAMEO and PLOVER actors need a country or organisation"
        articles = sorted({r.article_id for r in track.stances})
        return Coding(
            uncoded=[
                Uncoded(
                    event_id=track.id, kind="position", format=f, reason=reason, articles=articles
                )
                for f in ("cameo", "plover")
            ]
        )
    coding = Coding()
    table = tables()
    for statement in _statements(track, party.side):
        code, first = statement.code, statement.first
        record_id = f"{track.id}:{first.article_id}:{first.position_index}"
        articles = list(dict.fromkeys(r.article_id for r in statement.reports))
        target = _Party(statement.target) if statement.target else None
        date = first.published.isoformat() if first.published else None
        sources = [
            Source(
                article_id=r.article_id,
                published=r.published.isoformat() if r.published else None,
                evidence=r.evidence,
            )
            for r in statement.reports
        ]
        coding.cameo.append(
            CameoRecord(
                id=record_id,
                event_id=track.id,
                kind="position",
                date=date,
                date_kind="published" if date else None,
                source=party.cameo(),
                target=target.cameo() if target else None,
                event_code=code.code,
                event_name=code.name,
                root_code=code.root,
                quad_class=code.quad_class,
                goldstein=code.goldstein,
                sources=sources,
            )
        )
        walk = table.crosswalk.get(code.code)
        if walk is None:
            coding.uncoded.append(
                Uncoded(
                    event_id=record_id,
                    kind="position",
                    format="plover",
                    reason=f"CAMEO {code.code} ({code.name}): PLOVER has no statement category",
                    articles=articles,
                )
            )
            continue
        modes = [walk.mode] if walk.mode else []
        coding.plover.append(
            PloverRecord(
                id=record_id,
                event_id=track.id,
                kind="position",
                date=date,
                date_kind="published" if date else None,
                actor=party.plover(),
                recipient=target.plover() if target else [],
                event=walk.event,
                mode=modes,
                context=list(walk.context),
                quad_code=table.plover_quad[walk.event],
                event_scale=_plover_scale(walk.event, modes),
                event_text=[e.text for r in statement.reports for e in r.evidence],
                cameo=code.code,
                coder=_coder(),
                comment=f"{first.stance.value}: {first.issue}",
                sources=sources,
            )
        )
    return coding


def code_corpus(
    events: Iterable[Event],
    tracks: Iterable[PositionTrack] = (),
    roles: Mapping[str, Sequence[str]] | None = None,
) -> Coding:
    """Code every event and position track; roles default to those the events name."""
    events = list(events)
    known: dict[str, list[str]] = {}
    for event in events:
        for person in event.participants:
            known.setdefault(person.name, [])
            known[person.name] += [r for r in person.roles if r not in known[person.name]]
    for name, extra in (roles or {}).items():
        known.setdefault(name, [])
        known[name] += [r for r in extra if r not in known[name]]
    coding = Coding()
    for event in events:
        coding.extend(code_event(event, known))
    for track in tracks:
        coding.extend(code_track(track, known))
    return coding


# --- Writers --------------------------------------------------------------------------------

CAMEO_COLUMNS: tuple[tuple[str, str], ...] = (
    (
        "id",
        "Record id: event id, CAMEO code and the ordered pair of sides (or article and position).",
    ),
    ("event_id", "Our event id, or position track id; a meeting's dyads share it."),
    ("kind", "meeting or position."),
    (
        "date",
        "ISO date as precise as the sources allow: YYYY-MM-DD, YYYY-MM or YYYY; empty if unknown.",
    ),
    (
        "date_kind",
        "event: the sources date the meeting; published: they do not, so the first report's "
        "publication date (a statement is dated by its report).",
    ),
    (
        "source_actor",
        "CAMEO actor code: ISO 3166-1 alpha-3 country (or organisation) plus sector, e.g. USAGOV.",
    ),
    ("source_country", "Source country (alpha-3) or organisation code."),
    ("source_sector", "Source sector (GOV, MIL, BUS, ...); empty when the role gives none."),
    (
        "source_name",
        "Canonical name of the person leading the source side; empty for a side alone.",
    ),
    ("target_actor", "CAMEO actor code of the target; empty when the statement names none."),
    ("target_country", "Target country (alpha-3) or organisation code."),
    ("target_sector", "Target sector."),
    ("target_name", "Canonical name of the person leading the target side."),
    ("event_code", "CAMEO event code (cameo.json)."),
    ("event_name", "Its name in the CAMEO codebook."),
    ("root_code", "Two-digit CAMEO root."),
    (
        "quad_class",
        "1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict.",
    ),
    ("goldstein", "Goldstein score of the event code (goldstein.json)."),
    ("place", "Place of the meeting as the sources name it."),
    ("country", "Country of the place (alpha-3)."),
    ("articles", "Article ids of the sources, '|'-separated."),
    ("evidence", "Grounded evidence spans, 'article:start-end', '|'-separated."),
)
"""Columns of the CAMEO TSV, in the Phoenix/ICEWS order: date, actors, code, scores, place, sources."""

PLOVER_FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "Record id (the event id for a meeting)."),
    ("event_id", "Our event id, or position track id."),
    ("kind", "meeting or position."),
    ("date", "Event date as precise as known (YYYY-MM-DD, YYYY-MM or YYYY); null if unknown."),
    (
        "date_kind",
        "event, or published: the first report's publication date, when the sources give none.",
    ),
    ("enddate", "Last day of a multi-day meeting."),
    (
        "actor",
        "Entities: code (alpha-3 or UNO, EUR, IGO, NGO), sector, other_sectors, entity_text (canonical name), identifier_id (Wikidata), identifier_text (English name), office (role).",
    ),
    (
        "recipient",
        "Entities the event is directed to: the host of a visit, the side a statement names.",
    ),
    ("event", "PLOVER event type (plover.json)."),
    (
        "mode",
        "PLOVER modes: visit, third-party, multilateral, phone; meet, change, ... for requests and rejections.",
    ),
    ("context", "PLOVER contexts from the crosswalk (e.g. diplomatic)."),
    (
        "quad_code",
        "1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict.",
    ),
    ("event_scale", "PLOVER score of the event type and its first scored mode."),
    ("event_loc", "extracted_place and country_code (alpha-3)."),
    ("event_text", "The verbatim evidence quotes."),
    ("cameo", "CAMEO code the record was crosswalked from."),
    ("coder", "llm-extract and its version."),
    ("comment", "Mediator, or the stance and issue of a position."),
    ("sources", "Provenance: article id, mention id, publication date, evidence with offsets."),
)
"""Fields of the PLOVER JSON lines: the specification's names, plus event_id, kind, cameo, sources."""


def _cell(actor: CameoActor | None, field: str) -> str:
    value = getattr(actor, field) if actor else None
    return "" if value is None else str(value)


def _row(record: CameoRecord) -> list[str]:
    spans = [
        f"{s.article_id}:{e.start}-{e.end}"
        for s in record.sources
        for e in s.evidence
        if e.grounded
    ]
    return [
        record.id,
        record.event_id,
        record.kind,
        record.date or "",
        record.date_kind or "",
        _cell(record.source, "code"),
        _cell(record.source, "country"),
        _cell(record.source, "sector"),
        _cell(record.source, "name"),
        _cell(record.target, "code"),
        _cell(record.target, "country"),
        _cell(record.target, "sector"),
        _cell(record.target, "name"),
        record.event_code,
        record.event_name,
        record.root_code,
        str(record.quad_class),
        str(record.goldstein),
        record.place or "",
        record.country or "",
        "|".join(dict.fromkeys(s.article_id for s in record.sources)),
        "|".join(spans),
    ]


def write_cameo(coding: Coding, out: Path) -> int:
    """CAMEO rows as tab-separated values with a header; returns the number of rows."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow([name for name, _ in CAMEO_COLUMNS])
        writer.writerows(_row(record) for record in coding.cameo)
    return len(coding.cameo)


def write_plover(coding: Coding, out: Path) -> int:
    """PLOVER records as JSON lines; returns the number of records."""
    with out.open("w", encoding="utf-8") as handle:
        for record in coding.plover:
            line = {"date": None, **record.model_dump(mode="json", exclude_none=True)}
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return len(coding.plover)


class _Corpus(Protocol):
    """`export.Corpus`, named by shape: export imports this module, not the reverse."""

    @property
    def results(self) -> Sequence[ExtractionResult]: ...
    @property
    def events(self) -> Sequence[Event]: ...
    @property
    def tracks(self) -> Sequence[PositionTrack]: ...


def _beside(out: Path, fmt: Literal["cameo", "plover"], coding: Coding) -> list[Path]:
    """The field dictionary and what could not be coded in `fmt` (with the reason), by `out`."""
    title, fields = (
        ("CAMEO columns", CAMEO_COLUMNS) if fmt == "cameo" else ("PLOVER fields", PLOVER_FIELDS)
    )
    uncoded = [u for u in coding.uncoded if u.format == fmt]
    lines = [
        f"# {title}",
        "",
        "Written by `llm-extract export`; codes from `llm_extract/data/`.",
        "",
    ]
    lines += ["| field | meaning |", "| --- | --- |", *(f"| `{n}` | {d} |" for n, d in fields)]
    lines += [
        "",
        f"Not coded: {len(uncoded)} record(s), each with its reason, in the .uncoded.jsonl file.",
        "",
    ]
    dictionary, rest = out.with_suffix(".dictionary.md"), out.with_suffix(".uncoded.jsonl")
    dictionary.write_text("\n".join(lines), encoding="utf-8")
    with rest.open("w", encoding="utf-8") as handle:
        for record in uncoded:
            handle.write(record.model_dump_json() + "\n")
    return [dictionary, rest]


def _corpus_coding(corpus: _Corpus, out: Path) -> Coding:
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = [r for r in corpus.results if r.status == "ok"]
    return code_corpus(corpus.events, corpus.tracks, _roles(ok))


def export_cameo(corpus: _Corpus, out: Path) -> list[Path]:
    """`export --to cameo`: the TSV file, its column dictionary and the uncoded records."""
    coding = _corpus_coding(corpus, out)
    write_cameo(coding, out)
    return [out, *_beside(out, "cameo", coding)]


def export_plover(corpus: _Corpus, out: Path) -> list[Path]:
    """`export --to plover`: the JSON lines, their field dictionary and the uncoded records."""
    coding = _corpus_coding(corpus, out)
    write_plover(coding, out)
    return [out, *_beside(out, "plover", coding)]


def _roles(results: Iterable[ExtractionResult]) -> dict[str, list[str]]:
    """Canonical name -> role phrases, from every person a result names."""
    roles: dict[str, list[str]] = {}
    for result in results:
        if result.extraction is None:
            continue
        people = [p.holder for p in result.extraction.positions if p.holder]
        for meeting in result.extraction.meetings:
            for delegation in meeting.delegations:
                people += (
                    [delegation.head, *delegation.members]
                    if delegation.head
                    else delegation.members
                )
        for person in people:
            if person.role:
                known = roles.setdefault(canonical_name(person.name), [])
                if person.role not in known:
                    known.append(person.role)
    return roles


def code_results(results: Sequence[ExtractionResult]) -> Coding:
    """Resolve the results' events and positions, then code them."""
    ok = [r for r in results if r.status == "ok"]
    return code_corpus(resolve_events(ok), aggregate_positions(ok), _roles(ok))
