"""Reading stored results back: torn lines, other versions' fields, bad lines, re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_extract.errors import ResultsError
from llm_extract.results import read_results


def _line(article_id: str, **extra: object) -> str:
    result = {
        "article_id": article_id,
        "source": f"{article_id}.txt",
        "model": "fixture-hand",
        "status": "ok",
        "extraction": {"meetings": [], "positions": []},
        **extra,
    }
    return json.dumps(result, ensure_ascii=False)


def test_a_torn_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(_line("a") + "\n" + _line("b") + "\n" + _line("c")[:40], "utf-8")
    found = read_results([path])
    assert [r.article_id for r in found.results] == ["a", "b"]
    assert "torn last line" in found.warnings[0] and "r.jsonl:3" in found.warnings[0]


def test_a_bad_line_in_the_middle_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(_line("a") + "\nnot json\n" + _line("b") + "\n", "utf-8")
    with pytest.raises(ResultsError, match=r"r\.jsonl:2: not JSON"):
        read_results([path])
    path.write_text(_line("a", status="weird") + "\n", "utf-8")
    with pytest.raises(ResultsError, match=r"r\.jsonl:1: .*status"):
        read_results([path])


def test_fields_of_another_version_are_dropped_and_reported(tmp_path: Path) -> None:
    meeting = {
        "status": "held",
        "delegations": [{"side": "RU", "stance_hint": "x"}, {"side": "US"}],
        "evidence": [{"text": "Встреча."}],
        "time_of_day": "10:00",
    }
    line = _line("a", cost_usd=0.1, extraction={"meetings": [meeting], "positions": []})
    path = tmp_path / "r.jsonl"
    path.write_text(line + "\n", "utf-8")
    found = read_results([path])
    assert found.results[0].extraction.meetings[0].status == "held"  # type: ignore[union-attr]
    (warning,) = found.warnings
    for name in ("cost_usd", "time_of_day", "stance_hint"):
        assert name in warning


def test_failed_results_are_kept_and_counted_and_a_re_run_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    first.write_text(_line("a", status="failed", error="boom", extraction=None) + "\n", "utf-8")
    second.write_text(
        _line("a") + "\n" + _line("b", status="failed", error="x", extraction=None) + "\n", "utf-8"
    )
    found = read_results([first, second])
    assert found.failed == 1 and [r.article_id for r in found.ok] == ["a"]
    assert any("read again" in w for w in found.warnings)


def test_folders_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(_line("a"), "utf-8")
    assert [r.article_id for r in read_results([tmp_path]).results] == ["a"]
    with pytest.raises(ResultsError, match="no such results file"):
        read_results([tmp_path / "nope.jsonl"])
