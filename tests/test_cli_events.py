"""`llm-extract events` and `export` through typer's runner, on the seeds' fixture results."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from llm_extract.cli import app

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("events") / "results.jsonl"
    code, _, err = invoke(
        "extract", ROOT / "seeds", "-m", "fixture-careful",
        "--cache-dir", ROOT / "evals" / "fixtures" / "cache", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    return out


def test_events_writes_jsonl_and_positions(results: Path, tmp_path: Path) -> None:
    out, positions = tmp_path / "events.jsonl", tmp_path / "positions.jsonl"
    code, _, err = invoke("events", results, "--out", out, "--positions", positions)
    assert code == 0, err
    events = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert "resolved into" in err and f"{len(events)} event(s)" in err
    held = [e for e in events if e["sources"] == 2]
    assert {e["place"]["place"] for e in held} == {"Москва", "Майами"}
    assert all(json.loads(line)["stances"] for line in positions.read_text("utf-8").splitlines())


def test_events_table_is_a_timeline(results: Path) -> None:
    code, out, _ = invoke("events", results, "--format", "table")
    assert code == 0
    assert "status history" in out and "planned (2026-01-21) → held" in out.replace("\n", " ")
    assert out.index("2025-12-20") < out.index("2026-01-22") < out.index("2026-01-31")


def test_a_torn_results_file_warns_and_goes_on(results: Path, tmp_path: Path) -> None:
    torn = tmp_path / "torn.jsonl"
    torn.write_text(results.read_text("utf-8")[:-200], "utf-8")
    code, out, err = invoke("events", torn)
    assert code == 0 and "torn last line" in err and out.count("\n") > 5


def test_a_bad_results_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n{}\n", "utf-8")
    code, _, err = invoke("events", bad)
    assert code == 1 and "bad.jsonl:1" in err


def test_export_to_duckdb(results: Path, tmp_path: Path) -> None:
    db = tmp_path / "corpus.duckdb"
    code, _, err = invoke("export", results, "--to", "duckdb", "--out", db)
    assert code == 0, err
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
    code, _, err = invoke("export", results, "--to", "xlsx", "--out", tmp_path / "x")
    assert code == 1 and "choose from csv, parquet, duckdb" in err


def test_eval_prints_the_event_scores_and_reports_them(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    code, out, err = invoke(
        "eval", "-m", "fixture-careful", "--gold", ROOT / "evals" / "gold",
        "--articles", ROOT / "seeds", "--fixtures", ROOT / "evals" / "fixtures",
        "--out", tmp_path / "runs", "--report", report,
    )  # fmt: skip
    assert code == 0, err
    assert "Events (across articles)" in out and "CEAF-e" in out
    line = next(
        row
        for row in out.splitlines()
        if row.strip().startswith("fixture-careful") and "14/15" in row
    )
    assert "0.98" in line  # CoNLL F1 of the careful fixture: one gold meeting it never extracts
    html = report.read_text("utf-8")
    assert "Events across articles" in html and "CoNLL" in html
