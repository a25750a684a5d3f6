"""Gold sets: names resolve to their folders, sets are scored apart, by language, and a fixture
model with no answers for a set is skipped with a line rather than failing the eval."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.errors import ConfigError
from llm_extract.goldsets import SHIPPED_SETS, gold_set, gold_sets

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "evals" / "gold"
SEEDS = ROOT / "seeds"
runner = CliRunner()

ENGLISH = (
    " date 2021-06-16\n"
    "GENEVA — President Joe Biden and President Vladimir Putin met in Geneva on Wednesday "
    "for their first summit.\n"
)


@pytest.fixture
def no_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_EXTRACT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLM_EXTRACT_HOME", str(tmp_path / "home"))


def two_languages(tmp_path: Path) -> tuple[Path, Path]:
    """A gold folder of two seeds (Russian) and one English article with empty gold."""
    gold, articles = tmp_path / "gold", tmp_path / "articles"
    gold.mkdir()
    articles.mkdir()
    for seed in ("001_072b93646ec39602", "003_f9a86f3078cf3c0b"):
        shutil.copy(GOLD / f"{seed}.json", gold)
        shutil.copy(SEEDS / f"{seed}.txt", articles)
    (articles / "en_geneva.txt").write_text(ENGLISH, encoding="utf-8")
    (gold / "en_geneva.json").write_text('{"meetings": [], "positions": []}\n', encoding="utf-8")
    return gold, articles


def test_a_set_name_resolves_to_its_gold_and_articles() -> None:
    dev = gold_set("dev")
    assert (dev.gold, dev.articles, dev.shipped) == (
        ROOT / "evals" / "gold" / "dev",
        ROOT / "evals" / "articles" / "dev",
        True,
    )
    assert gold_set("seeds", Path("elsewhere")).articles == Path("elsewhere")
    assert [s.name for s in SHIPPED_SETS] == ["seeds", "dev", "test"]


def test_a_folder_is_a_set_of_its_own_and_a_typo_is_one_clear_error(tmp_path: Path) -> None:
    folder = gold_set(GOLD)
    assert (folder.gold, folder.articles, folder.shipped) == (GOLD, SEEDS, False)
    with pytest.raises(ConfigError, match=r"no such gold folder or gold set \(seeds, dev, test\)"):
        gold_set("tset")
    with pytest.raises(ConfigError, match="no such gold folder"):
        gold_sets([str(tmp_path / "nowhere")])


def test_with_no_set_named_every_shipped_set_present_is_scored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # the shipped sets are the project's, wherever one runs from
    present = [s.name for s in gold_sets(None)]
    assert present[0] == "seeds"
    assert set(present) <= {"seeds", "dev", "test"}


def test_scores_split_by_language_and_a_reader_of_russian_shows_as_such(
    no_endpoint: None, tmp_path: Path
) -> None:
    gold, articles = two_languages(tmp_path)
    args = ["eval", "-m", "baseline", "--gold", gold, "--articles", articles, "--out", tmp_path]
    result = runner.invoke(app, [*map(str, args), "--json"])
    assert result.exit_code == 0, result.stderr
    by_language = json.loads(result.stdout)["runs"]["baseline"]["by_language"]
    assert set(by_language) == {"ru", "en"}
    assert by_language["en"]["validity"]["articles"] == 1
    assert by_language["en"]["validity"]["valid"] == 0  # the baseline refuses English
    assert by_language["ru"]["validity"]["valid"] == 2
    table = runner.invoke(app, list(map(str, args)))
    assert "By language" in table.stdout


def test_a_fixture_model_scores_what_it_has_and_skips_a_set_it_has_nothing_for(
    no_endpoint: None, tmp_path: Path
) -> None:
    gold, articles = two_languages(tmp_path)
    args = ["eval", "-m", "fixture-careful", "--gold", gold, "--articles", articles]
    result = runner.invoke(app, [*map(str, args), "--out", tmp_path / "runs", "--json"])
    assert result.exit_code == 0, result.stderr
    assert "fixture-careful: no recorded answers for 1 of 3 gold articles" in result.stderr
    assert "scored on the 2 it has" in result.stderr
    data = json.loads(result.stdout)
    assert data["runs"]["fixture-careful"]["validity"]["articles"] == 2

    for seed in gold.glob("0*.json"):
        seed.unlink()
    result = runner.invoke(app, [*map(str, args), "--out", tmp_path / "runs2"])
    assert result.exit_code == 0, result.stderr
    assert "no recorded answers for 1 of 1 gold articles" in result.stderr
    assert "skipped" in result.stderr
    assert not (tmp_path / "runs2" / "fixture-careful").exists()


def test_runs_of_a_shipped_set_are_stored_under_its_name(
    no_endpoint: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "runs"
    result = runner.invoke(
        app, ["eval", "-m", "fixture-careful", "--gold", "seeds", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert len(list((out / "seeds" / "fixture-careful" / "predictions").glob("*.json"))) == 5
    assert (out / "seeds" / "report.html").is_file()
    scored = runner.invoke(
        app, ["score", str(out / "seeds" / "fixture-careful"), "--gold", "seeds", "--json"]
    )
    assert scored.exit_code == 0, scored.stderr
    assert json.loads(scored.stdout)["validity"]["articles"] == 5


def test_the_shipped_gold_fixtures_and_prices_are_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["eval", "-m", "fixture-careful", "--gold", "seeds", "--runs", "runs", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "seeds" / "fixture-careful" / "run.json").is_file()


def test_the_in_sample_seeds_are_known_to_the_package() -> None:
    from llm_extract.evaluation import SEED_IDS

    assert {p.stem for p in (ROOT / "seeds").glob("*.txt")} == SEED_IDS


def test_eval_with_no_model_runs_the_fixtures_and_the_baseline(tmp_path: Path) -> None:
    from llm_extract.evaluation import default_models

    assert default_models(tmp_path) == ["baseline"]
    assert default_models(ROOT / "evals" / "fixtures")[-1] == "baseline"
