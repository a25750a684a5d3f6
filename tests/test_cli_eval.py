"""CLI tests for `score`, `compare` and `eval`, through typer's runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract.cli import app

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "evals" / "gold"
SEEDS = ROOT / "seeds"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def metrics(node: object) -> list[float | None]:
    """Every precision, recall, f1, accuracy and rate in a JSON answer."""
    found: list[float | None] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"precision", "recall", "f1", "accuracy", "rate", "parse_rate", "valid_rate"}:
                found.append(value)
            elif key != "confusion":
                found += metrics(value)
    elif isinstance(node, list):
        for value in node:
            found += metrics(value)
    return found


def test_score_gold_against_itself_is_one_everywhere() -> None:
    code, out, _ = invoke("score", GOLD, "--gold", GOLD, "--articles", SEEDS, "--json")
    assert code == 0
    data = json.loads(out)
    values = [v for v in metrics(data) if v is not None]
    assert len(values) > 80 and set(values) == {1.0}
    for rtype, field in [
        ("meetings", "date"),
        ("meetings", "participants"),
        ("positions", "stance"),
    ]:
        assert set(data[rtype][field]) >= {"precision", "recall", "f1"}
    assert data["validity"]["reask_rate"] == 0.0
    assert data["quotes"]["faithfulness"]["total"] > 0


def test_score_prints_tables_and_writes_a_report(tmp_path: Path) -> None:
    predictions = tmp_path / "pred"
    shutil.copytree(GOLD, predictions)
    victim = next(predictions.glob("*.json"))
    victim.write_text("not json", "utf-8")
    report = tmp_path / "report.html"
    code, out, err = invoke(
        "score", predictions, "--gold", GOLD, "--articles", SEEDS, "--report", report
    )
    assert code == 0, err
    assert "Leaderboard" in out and "participants_role" in out
    html = report.read_text("utf-8")
    assert f"<h3>{victim.stem}</h3>" in html and "counted as all-missed" in html
    code, out, _ = invoke("score", predictions, "--gold", GOLD, "--articles", SEEDS, "--json")
    validity = json.loads(out)["validity"]
    assert (validity["parse_rate"], validity["valid_rate"]) == (0.8, 0.8)


def test_score_without_gold_folder_is_one_clear_line(tmp_path: Path) -> None:
    code, _, err = invoke("score", GOLD, "--gold", tmp_path / "nowhere")
    assert code == 1
    assert err.strip().startswith("error:") and "no such gold folder" in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(GOLD, a)
    shutil.copytree(GOLD, b)
    for path in sorted(b.glob("*.json"))[:2]:
        data = json.loads(path.read_text("utf-8"))
        data["meetings"] = data["meetings"][:1]
        path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return a, b


def test_compare_json_has_deltas_intervals_and_differing_articles(
    two_runs: tuple[Path, Path],
) -> None:
    a, b = two_runs
    args = ("compare", a, b, "--gold", GOLD, "--articles", SEEDS, "--samples", 300, "--json")
    code, out, _ = invoke(*args)
    assert code == 0
    data = json.loads(out)
    record = data["meetings"]["record"]
    assert record["delta"]["precision"] == 0.0 and record["delta"]["recall"] < 0
    low, high = record["ci95"]["recall"]
    assert low <= record["delta"]["recall"] <= high
    assert {d["article_id"] for d in data["differing_articles"]} == {
        p.stem for p in sorted(b.glob("*.json"))[:2]
    }
    # Seeded: the same command gives the same answer.
    assert json.loads(invoke(*args)[1]) == data


def test_compare_prints_tables(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_runs
    report = tmp_path / "compare.html"
    code, out, _ = invoke(
        "compare", a, b, "--gold", GOLD, "--articles", SEEDS, "--samples", 200, "--report", report
    )
    assert code == 0
    assert "95% CI" in out and "differ most" in out
    assert "vs a" in report.read_text("utf-8")
