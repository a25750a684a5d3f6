"""CLI tests for `score`, `compare` and `eval`, through typer's runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract.cache import SHARED_FOLDER
from llm_extract.cli import app
from llm_extract.score import gold_files

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
    victim = gold_files(predictions)[0]
    victim.write_text("not json", "utf-8")
    report = tmp_path / "report.html"
    code, out, err = invoke(
        "score", predictions, "--gold", GOLD, "--articles", SEEDS, "--report", report
    )
    assert code == 0, err
    assert "Leaderboard" in out and "participants_role" in out
    assert f"Leaderboard on gold set {GOLD.name}" in out  # a saved table says its gold
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


def test_run_metadata_comes_from_the_same_predictions_that_are_scored(tmp_path: Path) -> None:
    """A JSONL where an article failed and was then re-run: one article, scored and counted once."""
    from llm_extract.schemas import ArticleExtraction, ExtractionResult

    article_id = gold_files(GOLD)[0].stem
    gold = ArticleExtraction.model_validate_json((GOLD / f"{article_id}.json").read_text("utf-8"))
    common = {"article_id": article_id, "source": f"{article_id}.txt", "model": "fixture-x"}
    failed = ExtractionResult(**common, status="failed", error="timed out", attempts=3)
    done = ExtractionResult(**common, status="ok", extraction=gold, attempts=1)
    jsonl = tmp_path / "run.jsonl"
    jsonl.write_text(f"{failed.model_dump_json()}\n{done.model_dump_json()}\n", "utf-8")
    code, out, err = invoke("score", jsonl, "--gold", GOLD, "--articles", SEEDS, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["validity"]["valid"] == 1
    assert (data["run"]["articles"], data["run"]["failed"], data["run"]["attempts"]) == (1, 0, 1)


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
    # Five articles are too few for the intervals to mean anything.
    assert "unreliable" in data["warning"]
    assert not any(
        entry.get("significant")
        for section in ("meetings", "positions", "all", "quotes")
        for entry in data[section].values()
    )


def test_compare_warns_when_both_runs_are_one_folder(two_runs: tuple[Path, Path]) -> None:
    a, _ = two_runs
    code, out, err = invoke(
        "compare",
        a,
        a / ".." / a.name,
        "--gold",
        GOLD,
        "--articles",
        SEEDS,
        "--samples",
        100,
        "--json",
    )
    assert code == 0
    assert "compared with itself" in json.loads(out)["warnings"][0]
    code, out, err = invoke("compare", a, a, "--gold", GOLD, "--articles", SEEDS, "--samples", 100)
    assert code == 0 and "compared with itself" in err and "unreliable" in err
    assert "unreliable" in out  # the table's caption


def test_compare_prints_tables(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_runs
    report = tmp_path / "compare.html"
    code, out, _ = invoke(
        "compare", a, b, "--gold", GOLD, "--articles", SEEDS, "--samples", 200, "--report", report
    )
    assert code == 0
    assert "95% CI" in out and "differ most" in out
    assert "vs a" in report.read_text("utf-8")


FIXTURES = ROOT / "evals" / "fixtures"
FIXTURE_MODELS = ["fixture-careful", "fixture-sloppy"]


def _recorded(folder: Path) -> dict[str, dict]:
    """Each recorded call's request and response, by path (timestamps and latency left out),
    and the shared messages the entries name."""
    calls = {}
    for path in sorted(folder.rglob("*.json")):
        entry = json.loads(path.read_text("utf-8"))
        if path.parent.name != SHARED_FOLDER:
            entry = {k: entry[k] for k in ("request", "response")}
        calls[str(path.relative_to(folder))] = entry
    return calls


def test_recorded_fixture_conversations_are_up_to_date(tmp_path: Path) -> None:
    from llm_extract.evaluation import record_fixtures

    results = record_fixtures(FIXTURES, SEEDS, cache_dir=tmp_path)
    assert {r.model for r in results} == set(FIXTURE_MODELS)
    stale = _recorded(FIXTURES / "cache") != _recorded(tmp_path)
    assert not stale, (
        "evals/fixtures/cache no longer matches what the engine sends for the hand-written "
        "replies (a prompt, schema or re-ask change); re-record with "
        "`.venv/bin/python evals/fixtures/record.py` and commit evals/fixtures/cache"
    )


def test_every_reply_script_says_what_is_wrong_in_it() -> None:
    for model in FIXTURE_MODELS:
        scripts = sorted((FIXTURES / "replies" / model).glob("*.json"))
        assert [p.stem for p in scripts] == [p.stem for p in gold_files(GOLD)]
        for path in scripts:
            script = json.loads(path.read_text("utf-8"))
            assert script["model"] == model and script["article_id"] == path.stem
            assert script["mistakes"] and script["replies"]


@pytest.fixture
def no_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key, no endpoint, and an empty default cache: fixtures must replay from their own store."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_EXTRACT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLM_EXTRACT_HOME", str(tmp_path / "home"))


def test_eval_replays_the_fixture_models_offline_and_ranks_them(
    no_endpoint: None, tmp_path: Path
) -> None:
    out, report = tmp_path / "runs", tmp_path / "report.html"
    args = ["eval", "--gold", GOLD, "--articles", SEEDS, "--out", out, "--report", report]
    for model in FIXTURE_MODELS:
        args += ["--model", model]
    code, stdout, stderr = invoke(*args, "--json")
    assert code == 0, stderr
    data = json.loads(stdout)
    board = {row["name"]: row for row in data["leaderboard"]}
    careful, sloppy = board["fixture-careful"], board["fixture-sloppy"]
    assert careful["micro_f1"] > sloppy["micro_f1"]
    assert careful["meetings_f1"] > sloppy["meetings_f1"]
    # Sloppy's fifth article fails validation after every re-ask; two others are re-asked.
    assert (careful["valid_rate"], sloppy["valid_rate"]) == (1.0, 0.8)
    assert sloppy["reask_rate"] > careful["reask_rate"]
    assert careful["faithfulness"] == 1.0 > sloppy["faithfulness"]
    assert sloppy["cost_usd"] == 0.0  # fixture-* are priced at zero in evals/prices.toml
    scores = data["runs"]["fixture-sloppy"]
    assert scores["meetings"]["date"]["wrong"] >= 1
    assert scores["meetings"]["status"]["confusion"]["planned"].get("held", 0) >= 1
    assert scores["validity"]["parsed"] == 5 and scores["validity"]["valid"] == 4
    # The runs are stored and score the same when loaded back.
    for model in FIXTURE_MODELS:
        folder = out / model
        assert len(list((folder / "predictions").glob("*.json"))) == 5
        meta = json.loads((folder / "run.json").read_text("utf-8"))
        assert meta["model"] == model and meta["prompts"] and meta["schema_hashes"]
        assert meta["attempts"] >= 5
    code, stdout, _ = invoke("score", out / "fixture-sloppy", "--gold", GOLD, "--json")
    assert json.loads(stdout)["micro"] == scores["micro"]
    html = report.read_text("utf-8")
    assert "fixture-careful" in html and "spurious meeting" in html
    # Without --json: a leaderboard on stdout.
    code, stdout, _ = invoke(*args)
    assert code == 0 and "Leaderboard" in stdout and "fixture-sloppy" in stdout


def test_compare_two_stored_fixture_runs(no_endpoint: None, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["eval", "--gold", GOLD, "--articles", SEEDS, "--out", out]
    assert invoke(*args, "-m", "fixture-careful", "-m", "fixture-sloppy")[0] == 0
    assert "fixture-sloppy" in (out / "report.html").read_text("utf-8")  # written by default
    code, stdout, _ = invoke(
        "compare", out / "fixture-careful", out / "fixture-sloppy", "--gold", GOLD, "--json"
    )
    assert code == 0
    data = json.loads(stdout)
    assert (data["a"], data["b"]) == ("fixture-careful", "fixture-sloppy")
    assert data["all"]["micro"]["delta"]["f1"] < 0
    assert data["differing_articles"][0]["article_id"] == "004_1ccdb289d609ce85"


def test_unknown_fixture_model_fails_clearly_without_network(
    no_endpoint: None, tmp_path: Path
) -> None:
    code, stdout, stderr = invoke(
        "eval", "-m", "fixture-nope", "--gold", GOLD, "--out", tmp_path, "--json"
    )
    assert code == 1 and stdout == ""
    assert stderr.startswith("error: fixture-nope: no such fixture model")
    assert "fixture-careful, fixture-sloppy" in stderr
    assert not (tmp_path / "fixture-nope").exists()


def test_a_run_where_every_article_failed_exits_1_after_printing(
    no_endpoint: None, tmp_path: Path
) -> None:
    # A real model's name, replay-only over an empty cache: every article is a cache miss.
    code, stdout, stderr = invoke(
        "eval", "-m", "some-model", "--base-url", "http://127.0.0.1:9/v1",
        "--cache", "replay-only", "--cache-dir", tmp_path / "cache",
        "--gold", GOLD, "--articles", SEEDS, "--out", tmp_path / "runs", "--json",
    )  # fmt: skip
    assert code == 1
    row = json.loads(stdout)["leaderboard"][0]
    assert (row["valid_rate"], row["micro_f1"]) == (0.0, 0.0)
    assert "error: some-model: every article failed" in stderr and "replay-only" in stderr
    assert len(list((tmp_path / "runs" / "some-model" / "predictions").glob("*.json"))) == 5


@pytest.mark.parametrize("garbage", ["empty folder", "jsonl of other ids"])
def test_score_with_no_prediction_for_any_gold_article_is_an_error(
    tmp_path: Path, garbage: str
) -> None:
    if garbage == "empty folder":
        target = tmp_path / "empty"
        target.mkdir()
    else:
        target = tmp_path / "g.jsonl"
        other = (
            '{"article_id": "zzz", "source": "zzz.txt", "model": "m", "status": "failed", '
            '"error": "x"}'
        )
        target.write_text(other + "\n", "utf-8")  # a bad line is its own error (results.py)
    code, stdout, stderr = invoke("score", target, "--gold", GOLD, "--articles", SEEDS)
    assert code == 1 and stdout == ""
    assert stderr.strip() == (
        f"error: 0 of 5 gold articles have a prediction in {target}: expected <article id>.json "
        "files (or JSONL results) whose ids are the gold's, e.g. 000_5fadb3ca50ee0a75"
    )


def test_default_models_are_the_fixtures_and_the_baseline() -> None:
    from llm_extract.evaluation import default_models

    models = default_models(FIXTURES)
    assert models[:2] == FIXTURE_MODELS
    assert set(models) <= {*FIXTURE_MODELS, "baseline"}


def test_report_into_a_missing_folder_creates_it(tmp_path: Path) -> None:
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    for gold in Path(GOLD).glob("*.json"):
        (predictions / gold.name).write_text(gold.read_text("utf-8"), "utf-8")
    a, b = tmp_path / "new" / "deeper" / "score.html", tmp_path / "other" / "compare.html"
    code, _, err = invoke("score", predictions, "--gold", GOLD, "--articles", SEEDS, "--report", a)
    assert code == 0, err
    code, _, err = invoke(
        "compare", predictions, predictions, "--gold", GOLD, "--articles", SEEDS,
        "--samples", 100, "--report", b,
    )  # fmt: skip
    assert code == 0, err
    assert a.read_text("utf-8").startswith("<!") and b.is_file()


def test_leaderboard_covers_every_stored_run_with_labelled_columns(
    no_endpoint: None, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    base = ["eval", "--gold", GOLD, "--articles", SEEDS, "--out", out]
    assert invoke(*base, "-m", "fixture-careful", "-m", "fixture-sloppy")[0] == 0
    code, stdout, stderr = invoke(*base, "-m", "baseline", "--format", "json")
    assert code == 0, stderr
    board = {row["name"]: row for row in json.loads(stdout)["leaderboard"]}
    assert set(board) == {"baseline", "fixture-careful", "fixture-sloppy"}
    row = board["fixture-careful"]
    for kind in ("found", "strict", "soft"):
        assert f"meetings_{kind}_f1" in row and f"positions_{kind}_f1" in row
    assert row["meetings_strict_f1"] == row["meetings_f1"]
    assert row["offline"] is True and board["baseline"]["offline"] is True
    html = (out / "report.html").read_text("utf-8")
    assert "fixture-sloppy" in html and "baseline" in html
    code, stdout, _ = invoke(*base, "-m", "baseline", "--show", "fixture-sloppy")
    assert code == 0
    assert "fixture-sloppy" in stdout and "fixture-careful" not in stdout
    for label in ("re-ask", "cost $", "time s", "n/a"):
        assert label in stdout
    code, _, stderr = invoke(*base, "-m", "baseline", "--show", "nope")
    assert code == 1 and "no stored run named nope" in stderr
