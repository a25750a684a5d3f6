"""`extract --format table`: the records, warnings' text, 80 columns, a summary for long runs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from llm_extract.cli import app

SEED = Path(__file__).resolve().parents[1] / "seeds" / "002_6fcc6f4572df1a85.txt"
YESTERDAY = (
    "Вчера министры иностранных дел России и Турции Сергей Лавров и Хакан Фидан "
    "провели переговоры в Анкаре."
)


def table(*args: str) -> str:
    result = CliRunner().invoke(
        app, ["extract", *args, "-m", "baseline", "--format", "table"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_table_shows_meetings_positions_and_warnings_at_80_columns(tmp_path):
    undated = tmp_path / "undated.txt"
    undated.write_text(YESTERDAY, "utf-8")
    out = table(str(SEED), str(undated))
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "002_6fcc6f4572df1a85  ok  published 2025-12-26" in out  # the id is never wrapped
    assert "2025-12-20–21" in out and "Майами (US)" in out and "held" in out
    assert "RU: Кирилл Дмитриев" in out
    assert "Дмитрий Песков (RU)" in out and "продолжать диалог" in out and "support" in out
    assert "undated  ok  publication date unknown" in out
    assert "warning: meeting 1: the date 'Вчера' is relative" in out
    assert out.rstrip().endswith(
        "2 articles: 0 failed, 5 meetings, 5 positions, 1 warning, 0 tokens"
    )
    assert "1 articles" not in out


def test_a_long_run_ends_with_a_summary_not_every_row(tmp_path):
    for n in range(22):
        (tmp_path / f"a{n:02d}.txt").write_text(YESTERDAY, "utf-8")
    (tmp_path / "a99.txt").write_bytes(b"\x00\x01binary")
    result = CliRunner().invoke(
        app,
        ["extract", str(tmp_path), "-m", "baseline", "--format", "table"],
        env={"COLUMNS": "80"},
    )
    out = result.stdout
    assert "23 articles: 1 failed, 22 meetings, 0 positions, 22 warnings" in out
    assert "a99" in out and "binary" in out  # the failure, with its reason
    assert "a05" not in out  # no row per article
    assert "22 │ meeting 1" in out  # warnings counted by kind
    assert len(out.splitlines()) < 30
