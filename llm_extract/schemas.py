"""The data contract: records a model fills in and the results we store.

Field descriptions are written for the model: they are what it reads in the
JSON Schema. The one part of a record the model does not fill is an
evidence span's offsets, which grounding adds afterwards; those fields say so.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

__all__ = [
    "ORGANISATIONS",
    "SCHEMAS",
    "ArticleExtraction",
    "Delegation",
    "Event",
    "EventDate",
    "EventLink",
    "EventMention",
    "EventParticipant",
    "Evidence",
    "ExtractionResult",
    "FailureKind",
    "Location",
    "MatchKind",
    "Meeting",
    "MeetingFormat",
    "MeetingStatus",
    "Participant",
    "Position",
    "PositionTrack",
    "Precision",
    "PromptInfo",
    "Speech",
    "Stance",
    "StanceReport",
    "StatusReport",
    "Usage",
    "json_schema",
    "schema_hash",
    "strict_schema",
]

ORGANISATIONS: frozenset[str] = frozenset(
    {"EU", "NATO", "UN", "OSCE", "IAEA", "ICRC", "SCO", "BRICS", "G7", "G20", "CSTO", "EAEU",
     "CIS", "ASEAN", "GCC", "OIC", "OPEC", "ARAB_LEAGUE", "AFRICAN_UNION", "COUNCIL_OF_EUROPE"}
)  # fmt: skip
"""Sides that are multilateral bodies rather than countries (codes longer than two letters,
or spelt out where a short code would be a country's: AU is Australia)."""


@functools.cache
def _alpha_2_codes() -> frozenset[str]:
    """Read once: pycountry's own lookup costs 5 µs, and an answer has a dozen codes."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


def _country_code(value: str) -> str:
    code = value.strip().upper()
    if code not in _alpha_2_codes():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. RU, US, UA)")
    return code


def _side(value: str) -> str:
    side = value.strip()
    if side.upper() in ORGANISATIONS:
        return side.upper()
    if len(side) == 2 and side.isalpha():
        return _country_code(side)
    known = ", ".join(sorted(ORGANISATIONS))
    raise ValueError(
        f"{value!r} is neither an ISO 3166-1 alpha-2 country code nor a known organisation "
        f"({known}); leave side empty and name a group of countries in side_name"
    )


def _non_empty(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValueError("must not be empty")
    return text


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


CountryCode = Annotated[str, AfterValidator(_country_code)]
Side = Annotated[str, AfterValidator(_side)]
Text = Annotated[str, Field(min_length=1), AfterValidator(_non_empty)]
Verbatim = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]
"""Kept character for character: evidence offsets must keep pointing at it.

`min_length` goes into the JSON Schema, so grammar-constrained servers cannot emit "";
the validators also refuse text that is only white space."""

_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _iso_date(value: str) -> str:
    value = value.strip()
    if not _ISO_DATE.match(value):
        raise ValueError(f"{value!r} is not an ISO date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in value.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError as err:
        raise ValueError(f"{value!r} is not a real date: {err}") from None
    return value


IsoDate = Annotated[str, AfterValidator(_iso_date)]


def _untitled(schema: dict[str, object]) -> None:
    """Property titles repeat the property names: a fifth of the schema's tokens, sent with
    every call. The record's own title stays (instructor names the tool by it)."""
    for value in dict(schema.get("properties") or {}).values():  # type: ignore[call-overload]
        if isinstance(value, dict):
            value.pop("title", None)


class _Record(BaseModel):
    """A model-facing record: unknown keys are an error the model is re-asked about.

    Without this, an answer like `{"pwned": true}` would validate as an empty
    extraction, and strict `json_schema` endpoints need `additionalProperties: false`.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_untitled)


class MatchKind(StrEnum):
    """How grounding found a quote in the article."""

    EXACT = "exact"
    NORMALISED = "normalised"
    FUZZY = "fuzzy"


class Evidence(_Record):
    """A verbatim quote from the article."""

    text: Verbatim = Field(
        description="One sentence or clause copied character for character from the article."
    )
    start: int | None = Field(
        default=None,
        ge=0,
        description="Filled by the tool; leave empty.",
    )
    end: int | None = Field(
        default=None,
        ge=0,
        description="Filled by the tool; leave empty.",
    )
    match: MatchKind | None = Field(
        default=None,
        description="Filled by the tool; leave empty.",
    )

    @model_validator(mode="after")
    def _offsets_pair(self) -> Evidence:
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end are set together or not at all")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be greater than start")
        return self

    @property
    def grounded(self) -> bool:
        return self.start is not None


class Participant(_Record):
    """A person named in the article."""

    # One name policy for everyone, known or not: `name` as the article spells it, in the
    # nominative; `name_en` the alias table's English name for a known person, else a
    # standard transliteration of a Russian or Ukrainian name; `person_id` the table's id.

    name: Text = Field(
        description="First name and surname as the article spells them, nominative case."
    )
    name_en: str | None = Field(default=None, description="The usual English spelling.")
    person_id: str | None = Field(
        default=None, description="Filled by the tool (the alias table's id); leave empty."
    )
    role: str | None = Field(
        default=None, description="The person's title(s) as the article states them, nominative."
    )
    delegation_role: str | None = Field(
        default=None,
        description="Part played in this delegation when stated (e.g. 'глава делегации').",
    )
    organisation: str | None = Field(default=None, description="A body named for the person.")


class Delegation(_Record):
    """One side at a meeting; a side the article does not name is empty (unknown)."""

    side: Side | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 country code or an organisation code; empty if unknown.",
    )
    side_name: str | None = Field(
        default=None,
        description="A group of countries with no code, as the article names it.",
    )
    head: Participant | None = Field(default=None, description="Who leads this side.")
    members: list[Participant] = Field(
        default_factory=list, description="Everyone else named for this side."
    )

    @property
    def label(self) -> str:
        """The side for people to read: its code, else the article's name for it, else `?`."""
        return self.side or self.side_name or "?"


class Location(_Record):
    place: str | None = Field(default=None, description="City, nominative.")
    country: CountryCode | None = Field(default=None, description="ISO alpha-2 code.")
    venue: str | None = Field(
        default=None, description="A named building (Кремль, Белый дом), not an unnamed one."
    )


class Precision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _time_of_day(value: str) -> str:
    value = value.strip()
    if not _TIME.match(value):
        raise ValueError(f"{value!r} is not a 24-hour time HH:MM")
    return value


class EventDate(_Record):
    """When a meeting took or takes place, resolved to the calendar."""

    start: IsoDate = Field(description="YYYY-MM-DD, YYYY-MM or YYYY.")
    end: IsoDate | None = Field(default=None, description="Last day of a range.")
    text: str | None = Field(
        default=None, description="The date expression as written, or the same-day cue."
    )
    time: Annotated[str, AfterValidator(_time_of_day)] | None = Field(
        default=None, description="Time of day, 24-hour HH:MM."
    )
    time_zone: str | None = Field(
        default=None, description="Zone the text names for `time`: IANA name or UTC offset."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> Precision:
        return (Precision.YEAR, Precision.MONTH, Precision.DAY)[self.start.count("-")]

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: object) -> object:
        """Stored dates carry the derived `precision`; it is recomputed, not read."""
        if isinstance(data, dict) and "precision" in data:
            data = {k: v for k, v in data.items() if k != "precision"}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> EventDate:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class MeetingStatus(StrEnum):
    HELD = "held"
    ONGOING = "ongoing"
    PLANNED = "planned"
    PROPOSED = "proposed"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"


class MeetingFormat(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


class Meeting(_Record):
    """A contact between named sides: talks, a visit, a call; past, ongoing or to come."""

    status: MeetingStatus = Field(
        description=(
            "held; ongoing; planned (stated as agreed or scheduled); proposed (suggested, "
            "possible or unconfirmed); cancelled; postponed."
        )
    )
    format: MeetingFormat | None = None
    date: EventDate | None = None
    location: Location | None = None
    delegations: list[Delegation] = Field(default_factory=list, description="One per side.")
    topics: list[str] = Field(default_factory=list)
    outcomes: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(min_length=1, description="1-3 quotes.")


class Stance(StrEnum):
    """What kind of position a statement takes."""

    SUPPORT = "support"
    OPPOSE = "oppose"
    DEMAND = "demand"
    PROPOSE = "propose"
    ASSESSMENT = "assessment"
    DECLINE = "decline"


class Speech(StrEnum):
    DIRECT = "direct"
    REPORTED = "reported"


class Position(_Record):
    """A stance a person or side takes on an issue, as the article reports it."""

    holder: Participant | None = None
    side: Side | None = Field(default=None, description="Code the holder speaks for.")
    issue: Text = Field(description="Short noun phrase.")
    stance: Stance
    summary: Text = Field(description="One line.")
    quote: Evidence | None = Field(default=None, description="The holder's own words, if quoted.")
    speech: Speech
    evidence: list[Evidence] = Field(min_length=1, description="1-2 quotes.")

    @model_validator(mode="after")
    def _has_holder(self) -> Position:
        if self.holder is None and self.side is None:
            raise ValueError("a position needs a holder, a side, or both")
        return self


class ArticleExtraction(_Record):
    """Everything the article states about meetings and positions."""

    meetings: list[Meeting] = Field(default_factory=list)
    positions: list[Position] = Field(default_factory=list)


class PromptInfo(BaseModel):
    name: str
    hash: str


class Usage(BaseModel):
    """Tokens across every attempt, re-asks included: spent in this run, and replayed."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    replayed_input_tokens: int = Field(
        0, description="Input tokens of answers replayed from the cache: not spent in this run."
    )
    replayed_output_tokens: int = Field(
        0, description="Output tokens of answers replayed from the cache: not spent in this run."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            replayed_input_tokens=self.replayed_input_tokens + other.replayed_input_tokens,
            replayed_output_tokens=self.replayed_output_tokens + other.replayed_output_tokens,
        )


FailureKind = Literal[
    "transport", "not_recorded", "parse", "schema", "grounding", "truncated", "input", "config"
]
"""Why an article failed, as a code (`ExtractionResult.failure`)."""


class ExtractionResult(BaseModel):
    """One article's outcome as stored: a JSONL line of `extract`, a file of an eval run."""

    model_config = ConfigDict(extra="forbid")

    article_id: str
    source: str
    published: dt.date | None = None
    model: str
    mode: str | None = None
    status: Literal["ok", "failed"]
    error: str | None = Field(default=None, description="Why the article failed, when it did.")
    failure: FailureKind | None = Field(
        default=None,
        description=(
            "What kind of failure, for scoring and triage: transport (no answer from the "
            "endpoint, a failed batch line, a batch re-ask with no endpoint), not_recorded (replay "
            "only, a fixture model's or "
            "--cache replay-only, and this request was never recorded), parse (not JSON, no tool "
            "call, a refusal), schema (JSON that fails the schema after every re-ask), "
            "grounding (evidence that cannot be found), truncated (cut off at the token limit), "
            "input (the article cannot be read or is too long), config (settings changed since "
            "the batch file was prepared). None when ok, for an internal error, and in results "
            "written before this field existed."
        ),
    )
    extraction: ArticleExtraction | None = None
    prompt: PromptInfo | None = None
    schema_hash: str | None = None
    text_hash: str | None = Field(
        default=None,
        description=(
            "The first 16 hex digits of the SHA-256 of the article text (UTF-8) the result "
            "was made from, so a re-run into the same file redoes an article whose text changed. None when "
            "the article could not be read, and in results written before this field existed."
        ),
    )
    usage: Usage = Field(default_factory=Usage)
    attempts: int = Field(default=0, description="Calls made, transport retries included.")
    reasks: int = Field(default=0, description="Re-asks after a validation or grounding failure.")
    latency_s: float | None = None
    warnings: list[str] = Field(default_factory=list)
    ungrounded: list[str] = Field(
        default_factory=list,
        description=(
            "Paths of the evidence and quotes that stayed ungrounded in an ok result "
            "(`meetings[0].evidence[1]`, `positions[2].quote`): no span in the article "
            "backs them, e.g. when the re-ask for them failed. Empty when every quote holds."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> ExtractionResult:
        if self.status == "ok" and self.extraction is None:
            raise ValueError("an ok result carries an extraction")
        if self.status == "failed" and not self.error:
            raise ValueError("a failed result says why")
        return self


# --- Corpus events (llm_extract/events.py) ------------------------------------------------
# Records built from stored results, never filled by a model: one real-world meeting reported
# by one or more articles, and one holder's stances on one issue over time.


class StatusReport(BaseModel):
    """One source's word on a meeting's status, dated by its publication."""

    status: MeetingStatus
    published: dt.date | None = None
    article_id: str


class EventMention(BaseModel):
    """One meeting of one result, as reported: what the event was built from."""

    id: str = Field(description="`<article id>#<meeting index>`: unique across a corpus.")
    article_id: str
    meeting_index: int = Field(ge=0, description="Index into that result's `extraction.meetings`.")
    source: str = Field(description="The article's file, as the result names it.")
    published: dt.date | None = None
    status: MeetingStatus
    format: MeetingFormat | None = None
    date: EventDate | None = None
    location: Location | None = None
    sides: list[str] = Field(default_factory=list)
    people: list[str] = Field(
        default_factory=list, description="Canonical names of the people at the table."
    )
    evidence: list[Evidence] = Field(default_factory=list)


class EventParticipant(BaseModel):
    """A person at the event: the union over its mentions, with who names them."""

    name: str = Field(description="Canonical name (nominative, the most complete spelling).")
    name_en: str | None = None
    side: str | None = None
    head: bool = Field(default=False, description="Named as head of their side by any source.")
    roles: list[str] = Field(default_factory=list)
    articles: list[str] = Field(description="Article ids of the sources that name this person.")


class EventLink(BaseModel):
    """Why two mentions were put in one event: the score and its reasons."""

    source: str = Field(description="Mention id.")
    target: str = Field(description="Mention id.")
    score: float
    reasons: list[str]


class Event(BaseModel):
    """A real-world meeting resolved from every mention of it across a corpus."""

    id: str = Field(description="Stable id derived from the event's earliest mention.")
    sides: list[str] = Field(description="Union of the sides at the table, sorted.")
    participants: list[EventParticipant] = Field(default_factory=list)
    date: EventDate | None = Field(
        default=None, description="The most precise date consistent with every dated source."
    )
    date_conflict: bool = Field(
        default=False, description="Sources give dates that cannot all be true; see `conflicts`."
    )
    place: Location | None = None
    format: MeetingFormat | None = None
    status: MeetingStatus = Field(description="The current status: the latest report's.")
    status_history: list[StatusReport] = Field(
        description="Each source's status, oldest publication first."
    )
    topics: list[str] = Field(default_factory=list)
    mentions: list[EventMention] = Field(min_length=1)
    links: list[EventLink] = Field(default_factory=list)
    conflicts: list[str] = Field(
        default_factory=list, description="What the sources disagree on, one line each."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sources(self) -> int:
        """How many articles report the event."""
        return len({m.article_id for m in self.mentions})

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: object) -> object:
        if isinstance(data, dict) and "sources" in data:
            data = {k: v for k, v in data.items() if k != "sources"}
        return data


class StanceReport(BaseModel):
    """One source's report of a stance."""

    stance: Stance
    published: dt.date | None = None
    article_id: str
    position_index: int = Field(
        ge=0, description="Index into that result's `extraction.positions`."
    )
    issue: str = Field(description="The issue as this source words it.")
    summary: str
    evidence: list[Evidence] = Field(default_factory=list)


class PositionTrack(BaseModel):
    """One holder's stances on one issue across the corpus, oldest first."""

    id: str
    holder: str | None = Field(
        default=None, description="Canonical name; None for a side's stance."
    )
    side: str | None = None
    issue: str = Field(description="The issue as its earliest source words it.")
    issue_key: str = Field(description="The normalised key issues are grouped by.")
    stances: list[StanceReport] = Field(min_length=1)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def changed(self) -> bool:
        """The holder's stance moved (e.g. support, then oppose)."""
        return len({s.stance for s in self.stances}) > 1

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: object) -> object:
        if isinstance(data, dict) and "changed" in data:
            data = {k: v for k, v in data.items() if k != "changed"}
        return data


# --- end of corpus events ------------------------------------------------------------------


SCHEMAS: dict[str, type[BaseModel]] = {
    "article_extraction": ArticleExtraction,
    "extraction_result": ExtractionResult,
    "event": Event,
    "position_track": PositionTrack,
}
"""What `llm-extract schema` exports: the model-facing record, the stored result, corpus records."""


def json_schema(name: str = "article_extraction") -> dict[str, object]:
    """The JSON Schema other apps validate against; `schemas/*.schema.json` are these."""
    try:
        model = SCHEMAS[name]
    except KeyError:
        raise KeyError(f"unknown schema {name!r}; choose from {', '.join(SCHEMAS)}") from None
    schema = model.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": name, **schema}


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` in the form OpenAI's strict structured outputs accept (`strict: true`):
    every property required, no `default`, no unknown keys. A property that was
    optional and may be null stays nullable; one with a non-null default (an empty
    list) must now be given. What validates against the strict form validates
    against the records, so answers are checked by the same models afterwards."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("properties", "$defs"):  # names to schemas: a name is not a keyword
                out[key] = {name: walk(sub) for name, sub in value.items()}
            elif key != "default":
                out[key] = walk(value)
        if isinstance(out.get("properties"), dict):
            out["required"] = list(out["properties"])
            out["additionalProperties"] = False
        return out

    result = walk(schema)
    assert isinstance(result, dict)
    return result


@functools.cache
def schema_hash() -> str:
    """Short hash of what the model is asked to fill: results with equal hashes are comparable.

    Computed once per process: building the JSON Schema takes 15 ms, paid by every run.
    """
    blob = json.dumps(ArticleExtraction.model_json_schema(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
