"""Analyst tables: results and events as tidy tables that join, in CSV, Parquet or DuckDB.

One row per entity, keys that join (`article_id`, `meeting_id`, `delegation_id`,
`event_id`, ...), ISO dates typed as dates. The columns are declared once
(`TABLES`), so the writers, the DuckDB column comments and the data dictionary
written beside the tables cannot disagree. CSV is written with the standard
library, streaming; Parquet and DuckDB load those CSV files with the declared
types inside DuckDB, which keeps memory flat however large the corpus.

Writers are looked up by format name in `WRITERS`: a new format is one function
with the `Writer` signature and one entry there.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_extract.codes import export_cameo, export_plover
from llm_extract.errors import ConfigError
from llm_extract.events import date_bounds, mention_id, person_identity
from llm_extract.schemas import Event, EventDate, Evidence, ExtractionResult, PositionTrack

__all__ = [
    "TABLES",
    "WRITERS",
    "Column",
    "Corpus",
    "TableSpec",
    "Writer",
    "data_dictionary",
    "export",
    "table_rows",
]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """DuckDB type: VARCHAR, INTEGER, DOUBLE, BOOLEAN or DATE."""
    doc: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    doc: str
    key: str
    columns: tuple[Column, ...]


def _c(name: str, type_: str, doc: str) -> Column:
    return Column(name, type_, doc)


_ARTICLE = _c("article_id", "VARCHAR", "The article (`articles.article_id`).")
_MEETING = _c("meeting_id", "VARCHAR", "`<article id>#<index>` (`meetings.meeting_id`).")
_EVENT = _c("event_id", "VARCHAR", "The resolved event (`events.event_id`).")
_LIST = "several values separated by '; '"

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "articles",
        "One row per result read, failed ones included.",
        "article_id",
        (
            _c("article_id", "VARCHAR", "Article id, unique in the export."),
            _c("source", "VARCHAR", "The article's file as the result names it."),
            _c("published", "DATE", "Publication date."),
            _c("model", "VARCHAR", "Model (or baseline) that produced the result."),
            _c("status", "VARCHAR", "ok or failed."),
            _c("failure", "VARCHAR", "Kind of failure: transport, parse, schema, grounding, ..."),
            _c("error", "VARCHAR", "Why it failed."),
            _c("prompt", "VARCHAR", "Prompt name@hash."),
            _c("schema_hash", "VARCHAR", "Hash of the schema the model filled."),
            _c("input_tokens", "INTEGER", "Tokens sent, re-asks included."),
            _c("output_tokens", "INTEGER", "Tokens received, re-asks included."),
            _c("meetings", "INTEGER", "Meetings extracted (rows in `meetings`)."),
            _c("positions", "INTEGER", "Positions extracted (rows in `positions`)."),
        ),
    ),
    TableSpec(
        "meetings",
        "One row per meeting as one article reports it (an event mention).",
        "meeting_id",
        (
            _MEETING,
            _ARTICLE,
            _c("meeting_index", "INTEGER", "Index of the meeting in its result."),
            _EVENT,
            _c("status", "VARCHAR", "held, ongoing, planned, proposed, cancelled, postponed."),
            _c("format", "VARCHAR", "in_person, phone, video; empty when not stated."),
            _c("date_start", "DATE", "First day (the 1st of the month or year when coarser)."),
            _c("date_end", "DATE", "Last day of a range; empty for one day or a coarse date."),
            _c("date_precision", "VARCHAR", "day, month or year: how much date_start says."),
            _c("date_text", "VARCHAR", "The date as the article words it."),
            _c("place", "VARCHAR", "City or place as in the article."),
            _c("country", "VARCHAR", "ISO 3166-1 alpha-2 code of the place."),
            _c("venue", "VARCHAR", "Building or venue."),
            _c("topics", "VARCHAR", f"What was discussed, {_LIST}."),
            _c("outcomes", "VARCHAR", f"What it produced, {_LIST}."),
        ),
    ),
    TableSpec(
        "delegations",
        "One row per side at a meeting.",
        "delegation_id",
        (
            _c("delegation_id", "VARCHAR", "`<meeting id>/<index>`."),
            _MEETING,
            _ARTICLE,
            _c("side", "VARCHAR", "ISO alpha-2 country code or organisation (EU, NATO, UN, ...)."),
            _c("head", "VARCHAR", "Name of the head of the delegation."),
            _c("members", "INTEGER", "People named besides the head."),
        ),
    ),
    TableSpec(
        "participants",
        "One row per person named at a meeting, heads included.",
        "participant_id",
        (
            _c("participant_id", "VARCHAR", "`<delegation id>/<index>` (0 is the head)."),
            _c("delegation_id", "VARCHAR", "`delegations.delegation_id`."),
            _MEETING,
            _ARTICLE,
            _c("side", "VARCHAR", "Side the person sits for."),
            _c("name", "VARCHAR", "Name as extracted (nominative)."),
            _c("name_en", "VARCHAR", "English spelling."),
            _c(
                "person_key",
                "VARCHAR",
                "Identity key: the same person has one key in any spelling.",
            ),
            _c("role", "VARCHAR", "Role or title as the article states it."),
            _c("organisation", "VARCHAR", "Organisation the person belongs to."),
            _c("is_head", "BOOLEAN", "Heads the delegation."),
        ),
    ),
    TableSpec(
        "positions",
        "One row per stance a holder takes in one article.",
        "position_id",
        (
            _c("position_id", "VARCHAR", "`<article id>#p<index>`."),
            _ARTICLE,
            _c("position_index", "INTEGER", "Index of the position in its result."),
            _c(
                "track_id",
                "VARCHAR",
                "The holder+issue track across articles (same id, same track).",
            ),
            _c("holder", "VARCHAR", "Who states it, when named."),
            _c("holder_key", "VARCHAR", "Identity key of the holder."),
            _c("side", "VARCHAR", "Side the holder speaks for."),
            _c("issue", "VARCHAR", "The issue as the article words it."),
            _c("stance", "VARCHAR", "support, oppose, demand, propose, assessment, decline."),
            _c("speech", "VARCHAR", "direct (quoted) or reported."),
            _c("summary", "VARCHAR", "One line: who holds what stance."),
            _c("quote", "VARCHAR", "The holder's own words, when quoted."),
        ),
    ),
    TableSpec(
        "evidence",
        "One row per verbatim quote backing a meeting or a position.",
        "evidence_id",
        (
            _c("evidence_id", "VARCHAR", "`<record id>/e<index>`, or `<position id>/quote`."),
            _c("record_type", "VARCHAR", "meeting, position or quote."),
            _c("record_id", "VARCHAR", "meeting_id or position_id it backs."),
            _ARTICLE,
            _c("text", "VARCHAR", "The quote, verbatim."),
            _c("start", "INTEGER", "Character offset in the article text; empty if not found."),
            _c("end", "INTEGER", "End offset (exclusive)."),
            _c("match", "VARCHAR", "How grounding found it: exact, normalised, fuzzy."),
        ),
    ),
    TableSpec(
        "events",
        "One row per real-world meeting resolved across articles.",
        "event_id",
        (
            _c("event_id", "VARCHAR", "Stable id, derived from the event's earliest mention."),
            _c("date_start", "DATE", "Most precise date consistent with every source."),
            _c("date_end", "DATE", "Last day of a range."),
            _c("date_precision", "VARCHAR", "day, month or year."),
            _c("date_conflict", "BOOLEAN", "Sources give dates that cannot all be true."),
            _c("place", "VARCHAR", "Place most sources name."),
            _c("country", "VARCHAR", "Country of the place."),
            _c("venue", "VARCHAR", "Venue, when a source names it."),
            _c("format", "VARCHAR", "in_person, phone or video."),
            _c("status", "VARCHAR", "Current status: the latest report's."),
            _c("sides", "VARCHAR", f"Sides at the table, {_LIST}."),
            _c("heads", "VARCHAR", f"Heads of delegation, {_LIST}."),
            _c("sources", "INTEGER", "Articles that report the event."),
            _c("first_reported", "DATE", "Earliest publication date among its sources."),
            _c("last_reported", "DATE", "Latest publication date among its sources."),
            _c("conflicts", "VARCHAR", f"What the sources disagree on, {_LIST}."),
        ),
    ),
    TableSpec(
        "event_mentions",
        "One row per meeting mention in an event: joins `events` to `meetings`.",
        "meeting_id",
        (
            _EVENT,
            _MEETING,
            _ARTICLE,
            _c("published", "DATE", "Publication date of the mention's article."),
            _c("status", "VARCHAR", "Status this source reports."),
            _c("report_order", "INTEGER", "Place in the event's status history (0 = oldest)."),
            _c("link_score", "DOUBLE", "Score of the link that joined it; empty for the first."),
            _c("link_reasons", "VARCHAR", f"Why it was joined, {_LIST}."),
        ),
    ),
)
"""Every table and column the export writes, documented; the order is the file order."""

_SPECS = {spec.name: spec for spec in TABLES}


@dataclass
class Corpus:
    """What an export holds: the results read, their events and position tracks."""

    results: Sequence[ExtractionResult]
    events: Sequence[Event]
    tracks: Sequence[PositionTrack] = ()


# --------------------------------------------------------------------------- rows


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _joined(values: Iterable[str]) -> str | None:
    return "; ".join(values) or None


def _date_columns(date: EventDate | None) -> tuple[str | None, str | None, str | None]:
    """First day, last day of a range (else empty), precision."""
    if date is None:
        return None, None, None
    first, last = date_bounds(date)
    return first.isoformat(), last.isoformat() if date.end else None, date.precision.value


def _evidence(
    kind: str, record_id: str, article_id: str, items: Sequence[Evidence], quote: bool = False
) -> Iterator[tuple[Any, ...]]:
    for index, item in enumerate(items):
        suffix = "quote" if quote else f"e{index}"
        yield (
            f"{record_id}/{suffix}",
            kind,
            record_id,
            article_id,
            item.text,
            item.start,
            item.end,
            item.match.value if item.match else None,
        )


def _articles(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    for r in corpus.results:
        x = r.extraction
        yield (
            r.article_id,
            r.source,
            _iso(r.published),
            r.model,
            r.status,
            r.failure,
            r.error,
            f"{r.prompt.name}@{r.prompt.hash}" if r.prompt else None,
            r.schema_hash,
            r.usage.input_tokens,
            r.usage.output_tokens,
            len(x.meetings) if x else 0,
            len(x.positions) if x else 0,
        )


def _ok(corpus: Corpus) -> Iterator[ExtractionResult]:
    return (r for r in corpus.results if r.status == "ok" and r.extraction is not None)


def _event_of(corpus: Corpus) -> dict[str, str]:
    return {m.id: e.id for e in corpus.events for m in e.mentions}


def _meetings(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    event_of = _event_of(corpus)
    for r in _ok(corpus):
        for index, m in enumerate(r.extraction.meetings):  # type: ignore[union-attr]
            mid = mention_id(r.article_id, index)
            loc = m.location
            yield (
                mid,
                r.article_id,
                index,
                event_of.get(mid),
                m.status.value,
                m.format.value if m.format else None,
                *_date_columns(m.date)[:2],
                m.date.precision.value if m.date else None,
                m.date.text if m.date else None,
                loc.place if loc else None,
                loc.country if loc else None,
                loc.venue if loc else None,
                _joined(m.topics),
                _joined(m.outcomes),
            )


def _delegations(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    for r in _ok(corpus):
        for index, m in enumerate(r.extraction.meetings):  # type: ignore[union-attr]
            mid = mention_id(r.article_id, index)
            for d_index, d in enumerate(m.delegations):
                yield (
                    f"{mid}/{d_index}",
                    mid,
                    r.article_id,
                    d.side,
                    d.head.name if d.head else None,
                    len(d.members),
                )


def _participants(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    for r in _ok(corpus):
        for index, m in enumerate(r.extraction.meetings):  # type: ignore[union-attr]
            mid = mention_id(r.article_id, index)
            for d_index, d in enumerate(m.delegations):
                did = f"{mid}/{d_index}"
                people = [(d.head, True)] if d.head else []
                people += [(p, False) for p in d.members]
                offset = 0 if d.head else 1
                for p_index, (p, head) in enumerate(people):
                    yield (
                        f"{did}/{p_index + offset}",
                        did,
                        mid,
                        r.article_id,
                        d.side,
                        p.name,
                        p.name_en,
                        _key(p.name),
                        p.role,
                        p.organisation,
                        head,
                    )


def _key(name: str) -> str:
    return person_identity(name)[0]


def _positions(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    track_of = {(s.article_id, s.position_index): t.id for t in corpus.tracks for s in t.stances}
    for r in _ok(corpus):
        for index, p in enumerate(r.extraction.positions):  # type: ignore[union-attr]
            yield (
                f"{r.article_id}#p{index}",
                r.article_id,
                index,
                track_of.get((r.article_id, index)),
                p.holder.name if p.holder else None,
                _key(p.holder.name) if p.holder else None,
                p.side,
                p.issue,
                p.stance.value,
                p.speech.value,
                p.summary,
                p.quote.text if p.quote else None,
            )


def _evidence_rows(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    for r in _ok(corpus):
        x = r.extraction
        assert x is not None
        for index, m in enumerate(x.meetings):
            yield from _evidence(
                "meeting", mention_id(r.article_id, index), r.article_id, m.evidence
            )
        for index, p in enumerate(x.positions):
            pid = f"{r.article_id}#p{index}"
            yield from _evidence("position", pid, r.article_id, p.evidence)
            if p.quote is not None:
                yield from _evidence("quote", pid, r.article_id, [p.quote], quote=True)


def _events(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    for e in corpus.events:
        published = [m.published for m in e.mentions if m.published]
        start, end, precision = _date_columns(e.date)
        yield (
            e.id,
            start,
            end,
            precision,
            e.date_conflict,
            e.place.place if e.place else None,
            e.place.country if e.place else None,
            e.place.venue if e.place else None,
            e.format.value if e.format else None,
            e.status.value,
            _joined(e.sides),
            _joined(p.name for p in e.participants if p.head),
            e.sources,
            _iso(min(published, default=None)),
            _iso(max(published, default=None)),
            _joined(e.conflicts),
        )


def _event_mentions(corpus: Corpus) -> Iterator[tuple[Any, ...]]:
    for e in corpus.events:
        joined_by = {link.target: link for link in e.links}
        joined_by.update({link.source: link for link in e.links if link.source not in joined_by})
        first = e.mentions[0].id
        for order, m in enumerate(e.mentions):
            link = None if m.id == first else joined_by.get(m.id)
            yield (
                e.id,
                m.id,
                m.article_id,
                _iso(m.published),
                m.status.value,
                order,
                link.score if link else None,
                _joined(link.reasons) if link else None,
            )


_ROWS: dict[str, Callable[[Corpus], Iterator[tuple[Any, ...]]]] = {
    "articles": _articles,
    "meetings": _meetings,
    "delegations": _delegations,
    "participants": _participants,
    "positions": _positions,
    "evidence": _evidence_rows,
    "events": _events,
    "event_mentions": _event_mentions,
}


def table_rows(corpus: Corpus, table: str) -> Iterator[tuple[Any, ...]]:
    """The rows of one table, in the column order of `TABLES`."""
    return _ROWS[table](corpus)


# --------------------------------------------------------------------------- writers


def data_dictionary() -> str:
    """Markdown: every table, its key and its columns with type and meaning."""
    lines = [
        "# Data dictionary",
        "",
        "Written by `llm-extract export`; keys join across tables.",
        "",
    ]
    for spec in TABLES:
        lines += [f"## {spec.name}", "", f"{spec.doc} Key: `{spec.key}`.", ""]
        lines += ["| column | type | meaning |", "| --- | --- | --- |"]
        lines += [f"| `{c.name}` | {c.type} | {c.doc} |" for c in spec.columns]
        lines.append("")
    return "\n".join(lines)


def _write_csv_files(corpus: Corpus, folder: Path) -> dict[str, tuple[Path, int]]:
    """Each table's CSV file and its row count."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for spec in TABLES:
        path = folder / f"{spec.name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(c.name for c in spec.columns)
            flags = [i for i, c in enumerate(spec.columns) if c.type == "BOOLEAN"]
            rows = 0
            for row in table_rows(corpus, spec.name):
                rows += 1
                if flags:
                    row = tuple(
                        ("true" if v else "false") if i in flags and v is not None else v
                        for i, v in enumerate(row)
                    )
                writer.writerow(row)
        written[spec.name] = (path, rows)
    return written


def _dictionary_beside(path: Path) -> Path:
    target = path / "data_dictionary.md" if path.is_dir() else path.with_suffix(".dictionary.md")
    target.write_text(data_dictionary(), encoding="utf-8")
    return target


def write_csv(corpus: Corpus, out: Path) -> list[Path]:
    """A folder of `<table>.csv` (header row, empty cell = null) and `data_dictionary.md`."""
    written = [path for path, _ in _write_csv_files(corpus, out).values()]
    return [*written, _dictionary_beside(out)]


def _load(connection: Any, csv_files: dict[str, tuple[Path, int]]) -> None:
    """Typed tables from the CSV files; a row lost on the way is our bug, and says so."""
    for spec in TABLES:
        path, rows = csv_files[spec.name]
        columns = ", ".join(f"'{c.name}': '{c.type}'" for c in spec.columns)
        connection.execute(
            f"CREATE TABLE {spec.name} AS SELECT * FROM read_csv({_literal(str(path))}, header = true, "
            f"columns = {{{columns}}}, nullstr = '', quote = '\"', escape = '\"', "
            "auto_detect = false, new_line = '\\r\\n')"
        )
        loaded = connection.execute(f"SELECT count(*) FROM {spec.name}").fetchone()[0]
        if loaded != rows:
            raise RuntimeError(f"export bug: {spec.name}: wrote {rows} rows, DuckDB read {loaded}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _connect(database: str) -> Any:
    import duckdb

    return duckdb.connect(database)


def write_parquet(corpus: Corpus, out: Path) -> list[Path]:
    """A folder of `<table>.parquet` with typed columns, and `data_dictionary.md`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="llm-extract-") as scratch:
        connection = _connect(":memory:")
        try:
            _load(connection, _write_csv_files(corpus, Path(scratch)))
            for spec in TABLES:
                target = out / f"{spec.name}.parquet"
                connection.execute(f"COPY {spec.name} TO {_literal(str(target))} (FORMAT parquet)")
                written.append(target)
        finally:
            connection.close()
    return [*written, _dictionary_beside(out)]


def write_duckdb(corpus: Corpus, out: Path) -> list[Path]:
    """One DuckDB file: the tables, their column comments and a `data_dictionary` table."""
    if out.exists():
        out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="llm-extract-") as scratch:
        connection = _connect(str(out))
        try:
            _load(connection, _write_csv_files(corpus, Path(scratch)))
            connection.execute(
                "CREATE TABLE data_dictionary (table_name VARCHAR, column_name VARCHAR, "
                "type VARCHAR, meaning VARCHAR)"
            )
            connection.executemany(
                "INSERT INTO data_dictionary VALUES (?, ?, ?, ?)",
                [(s.name, c.name, c.type, c.doc) for s in TABLES for c in s.columns],
            )
            for spec in TABLES:
                connection.execute(f"COMMENT ON TABLE {spec.name} IS {_literal(spec.doc)}")
                for c in spec.columns:
                    connection.execute(
                        f'COMMENT ON COLUMN {spec.name}."{c.name}" IS {_literal(c.doc)}'
                    )
        finally:
            connection.close()
    return [out, _dictionary_beside(out)]


Writer = Callable[[Corpus, Path], list[Path]]
"""Writes a corpus to `out` (a folder or a file, as the format needs); returns what it wrote."""

WRITERS: dict[str, Writer] = {
    "csv": write_csv,
    "parquet": write_parquet,
    "duckdb": write_duckdb,
    "cameo": export_cameo,
    "plover": export_plover,
}
"""Export formats by name, as `llm-extract export --to` offers them."""


def export(corpus: Corpus, to: str, out: Path) -> list[Path]:
    """Write `corpus` in format `to`; returns the files written."""
    try:
        writer = WRITERS[to]
    except KeyError:
        raise ConfigError(
            f"unknown export format {to!r}; choose from {', '.join(WRITERS)}"
        ) from None
    return writer(corpus, out)
