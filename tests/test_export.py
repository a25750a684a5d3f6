"""The analyst tables load in DuckDB and pandas, with the row counts the results imply."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from llm_extract.cache import Cache
from llm_extract.events import aggregate_positions, resolve_events
from llm_extract.export import TABLES, WRITERS, Corpus, data_dictionary, export
from llm_extract.extraction import extract
from llm_extract.schemas import ExtractionResult

ROOT = Path(__file__).resolve().parent.parent


def _parquet(path: Path) -> pd.DataFrame:
    """Parquet into pandas through DuckDB: pandas' own reader would need pyarrow."""
    return duckdb.read_parquet(str(path)).df()


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    cache = Cache(ROOT / "evals" / "fixtures" / "cache", mode="replay-only")
    results = extract(sorted((ROOT / "seeds").glob("*.txt")), model="fixture-sloppy", cache=cache)
    assert any(r.status == "failed" for r in results)  # failed articles are rows too
    return Corpus(results, resolve_events(results), aggregate_positions(results))


def _expected(corpus: Corpus) -> dict[str, int]:
    ok = [r.extraction for r in corpus.results if r.extraction is not None]
    meetings = [m for x in ok for m in x.meetings]
    delegations = [d for m in meetings for d in m.delegations]
    positions = [p for x in ok for p in x.positions]
    return {
        "articles": len(corpus.results),
        "meetings": len(meetings),
        "delegations": len(delegations),
        "participants": sum(len(d.members) + (d.head is not None) for d in delegations),
        "positions": len(positions),
        "evidence": sum(len(m.evidence) for m in meetings)
        + sum(len(p.evidence) + (p.quote is not None) for p in positions),
        "events": len(corpus.events),
        "event_mentions": len(meetings),
    }


def test_duckdb_file_has_typed_tables_that_join(corpus: Corpus, tmp_path: Path) -> None:
    db = tmp_path / "corpus.duckdb"
    export(corpus, "duckdb", db)
    with duckdb.connect(str(db), read_only=True) as con:
        for table, rows in _expected(corpus).items():
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == rows, table
        types = dict(
            con.execute("SELECT column_name, column_type FROM (DESCRIBE meetings)").fetchall()
        )
        assert types["date_start"] == "DATE" and types["meeting_index"] == "INTEGER"
        orphans = con.execute(
            "SELECT count(*) FROM event_mentions m LEFT JOIN meetings g USING (meeting_id) "
            "LEFT JOIN events e ON e.event_id = m.event_id WHERE g.meeting_id IS NULL OR e.event_id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        (kremlin,) = con.execute(
            "SELECT sources, status FROM events WHERE place = 'Москва' AND date_start >= DATE '2026-01-22'"
        ).fetchall()
        assert kremlin == (2, "held")
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'events' AND column_name = 'sources'"
        ).fetchone()[0]
        assert "Articles" in comment
        assert con.execute("SELECT count(*) FROM data_dictionary").fetchone()[0] == sum(
            len(t.columns) for t in TABLES
        )
    assert db.with_suffix(".dictionary.md").read_text("utf-8") == data_dictionary()


@pytest.mark.parametrize("to", ["csv", "parquet"])
def test_folders_load_in_pandas_with_dates_as_dates(
    corpus: Corpus, tmp_path: Path, to: str
) -> None:
    out = tmp_path / to
    written = export(corpus, to, out)
    assert out / "data_dictionary.md" in written
    expected = _expected(corpus)
    for spec in TABLES:
        path = out / f"{spec.name}.{to}"
        frame = _parquet(path) if to == "parquet" else pd.read_csv(path)
        assert len(frame) == expected[spec.name], spec.name
        assert list(frame.columns) == [c.name for c in spec.columns]
    events = (
        _parquet(out / "events.parquet")
        if to == "parquet"
        else pd.read_csv(out / "events.csv", parse_dates=["date_start"])
    )
    first = events["date_start"].dropna().iloc[0]
    assert isinstance(first, dt.date | pd.Timestamp)
    meetings = (
        _parquet(out / "meetings.parquet") if to == "parquet" else pd.read_csv(out / "meetings.csv")
    )
    mentions = (
        _parquet(out / "event_mentions.parquet")
        if to == "parquet"
        else pd.read_csv(out / "event_mentions.csv")
    )
    assert len(mentions.merge(meetings, on="meeting_id")) == len(meetings)


def test_evidence_with_line_breaks_and_quotes_survives_csv(tmp_path: Path) -> None:
    text = 'Он сказал: "да",\nи ушёл.'
    result = ExtractionResult.model_validate(
        {
            "article_id": "a",
            "source": "a.txt",
            "model": "fixture-hand",
            "status": "ok",
            "extraction": {
                "meetings": [
                    {
                        "status": "held",
                        "delegations": [{"side": "RU"}, {"side": "US"}],
                        "evidence": [{"text": text}],
                    }
                ]
            },
        }
    )
    db = tmp_path / "x.duckdb"
    export(Corpus([result], resolve_events([result])), "duckdb", db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT text FROM evidence").fetchone()[0] == text


def test_formats_are_looked_up_by_name() -> None:
    assert list(WRITERS) == ["csv", "parquet", "duckdb", "cameo", "plover"]
    from llm_extract.errors import ConfigError

    with pytest.raises(ConfigError, match="choose from csv, parquet, duckdb"):
        export(Corpus([], []), "xlsx", Path("unused"))
