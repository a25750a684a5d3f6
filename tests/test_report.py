"""Report tests: the HTML page escapes model output, stands alone, and shows what went wrong."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from llm_extract.compare import compare_scorecards
from llm_extract.evaluation import Run, load_run
from llm_extract.report import (
    comparison_table,
    differing_table,
    fields_table,
    leaderboard_rows,
    leaderboard_table,
    render_html,
)

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "evals" / "gold"
SEEDS = ROOT / "seeds"
ARTICLE = "000_5fadb3ca50ee0a75"
INJECTED = '<script>alert("x")</script> & <b>bold</b>'


def run_from(folder: Path) -> Run:
    return load_run(folder, gold=GOLD, articles=SEEDS)


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Run, Run]:
    """The gold itself, and a copy with one meeting dropped and one invented with markup in it."""
    perfect = tmp_path / "perfect"
    shutil.copytree(GOLD, perfect)
    broken = tmp_path / "broken"
    shutil.copytree(GOLD, broken)
    path = broken / f"{ARTICLE}.json"
    data = json.loads(path.read_text("utf-8"))
    data["meetings"].pop(1)
    data["meetings"].append(
        {
            "status": "held",
            "location": {"place": "Рим"},
            "delegations": [{"side": "IT", "head": {"name": "Джорджа Мелони"}}],
            "evidence": [{"text": INJECTED}],
        }
    )
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return run_from(perfect), run_from(broken)


def test_html_escapes_model_output_and_stands_alone(runs: tuple[Run, Run]) -> None:
    html = render_html(list(runs))
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    # Self-contained: no external stylesheet, script, image or font.
    assert not re.search(r"<(link|img|iframe)\b|src=|@import|url\(", html)


def test_html_lists_missed_and_spurious_records_with_their_evidence(runs: tuple[Run, Run]) -> None:
    perfect, broken = runs
    html = render_html([perfect, broken])
    gold = json.loads((GOLD / f"{ARTICLE}.json").read_text("utf-8"))
    dropped = gold["meetings"][1]["evidence"][0]["text"]
    assert "missed meeting" in html and "spurious meeting" in html
    assert dropped.replace('"', "&#34;") in html
    assert "Джорджа Мелони" in html
    # The leaderboard and the per-field table name both runs and the fields.
    leaderboard = html.split("<h2>Leaderboard</h2>", 1)[1].split("</table>", 1)[0]
    assert leaderboard.count("<td>perfect") == 1 and leaderboard.count("<td>broken") == 1
    assert "<td>meetings.participants_role</td>" in html


def test_leaderboard_ranks_by_field_micro_f1(runs: tuple[Run, Run]) -> None:
    perfect, broken = runs
    rows = leaderboard_rows([broken, perfect])
    assert [r["name"] for r in rows] == ["perfect", "broken"]
    assert rows[0]["micro_f1"] == 1.0
    assert rows[1]["meetings_f1"] < 1.0
    # 17 gold meetings, 16 found, 1 invented: strict F1 = 2*16 / (17 + 17).
    assert rows[1]["meetings_f1"] == pytest.approx(32 / 34)


def test_terminal_tables_render(runs: tuple[Run, Run]) -> None:
    perfect, broken = runs
    console = Console(width=140, record=True)
    console.print(leaderboard_table([perfect, broken]))
    console.print(fields_table([broken]))
    console.print(comparison_table(compare_scorecards(perfect.card, broken.card, samples=200)))
    text = console.export_text()
    assert "participants_role" in text and "perfect" in text
    assert "meetings.record" in text and "95% CI" in text


def test_terminal_tables_show_data_verbatim_not_as_markup(runs: tuple[Run, Run]) -> None:
    perfect, broken = runs
    perfect.meta.name = "[/b]closing"
    broken.meta.name = "model [type=literal_error, input_value='x']"
    comparison = compare_scorecards(
        perfect.card, broken.card, a_name=perfect.name, b_name=broken.name, samples=100
    )
    comparison.differing[0].article_id = "[bold]odd[/bold] id"
    console = Console(width=200, record=True)
    for table in (
        leaderboard_table([perfect, broken]),
        fields_table([broken]),
        fields_table([perfect, broken]),
        comparison_table(comparison),
        differing_table(comparison),
    ):
        console.print(table)
    text = console.export_text()
    assert "[/b]closing" in text
    assert "[type=literal_error, input_value='x']" in text
    assert "[bold]odd[/bold] id" in text


def test_the_baseline_on_the_seeds_is_labelled_in_sample(runs: tuple[Run, Run]) -> None:
    from llm_extract.evaluation import IN_SAMPLE

    perfect, broken = runs
    broken.meta.name = broken.meta.model = "baseline"
    rows = {r["name"]: r for r in leaderboard_rows([perfect, broken])}
    assert rows["baseline"]["note"] == IN_SAMPLE
    assert rows["perfect"]["note"] is None
    console = Console(width=200, record=True)
    console.print(leaderboard_table([perfect, broken]))
    text = console.export_text()
    assert "baseline †" in text and "† in-sample: the baseline" in text
    html = render_html([perfect, broken])
    assert IN_SAMPLE.replace("'", "&#39;") in html
    # Scored on articles that are not the shipped seeds, it is no longer in-sample.
    for article in broken.card.articles:
        article.article_id = "new_" + article.article_id
    assert leaderboard_rows([broken])[0]["note"] is None


def test_html_draws_f1_bars_with_bootstrap_intervals_and_rates(runs: tuple[Run, Run]) -> None:
    from llm_extract.compare import bootstrap_intervals

    perfect, broken = runs
    html = render_html([perfect, broken])
    assert html.count('<svg class="bars"') == 7  # 5 F1 charts, valid and re-ask rates
    for title in ("Meetings: record F1, found", "Fields: micro F1", "Re-asked (share of articles)"):
        assert f"<figcaption>{title}</figcaption>" in html
    [(lo, hi)] = [
        bootstrap_intervals(broken.card, ["meetings.record_strict"])["meetings.record_strict"]
    ]
    assert lo < broken.card.total("meetings.record_strict").f1 <= hi <= 1.0
    assert (
        f"broken: {broken.card.total('meetings.record_strict').f1:.2f}, 95% interval {lo:.2f} to {hi:.2f}"
        in html
    )
    # The perfect run cannot vary: its interval is a point at 1.
    assert "perfect: 1.00, 95% interval 1.00 to 1.00" in html
    assert "perfect: 1.00 (5/5)" in html  # valid answers, with the counts
    # The tables are still there.
    assert "<h2>Leaderboard</h2>" in html and "<h2>Fields</h2>" in html


def test_bootstrap_intervals_are_seeded_and_cover_the_figure(runs: tuple[Run, Run]) -> None:
    from llm_extract.compare import bootstrap_intervals

    _, broken = runs
    keys = ["meetings.record", "positions.record", "micro"]
    first = bootstrap_intervals(broken.card, keys, samples=500, seed=3)
    assert first == bootstrap_intervals(broken.card, keys, samples=500, seed=3)
    for key in keys:
        figure = broken.card.micro().f1 if key == "micro" else broken.card.total(key).f1
        lo, hi = first[key]
        assert 0.0 <= lo <= figure <= hi <= 1.0


def test_html_says_when_by_which_version_on_which_gold(runs: tuple[Run, Run]) -> None:
    from importlib.metadata import version

    from llm_extract.score import gold_digest

    perfect, broken = runs
    html = render_html([perfect, broken])
    assert f"by llm-extract {version('llm-extract')}" in html
    assert re.search(r"Made \d{4}-\d\d-\d\d \d\d:\d\d UTC", html)
    assert f"<code>{GOLD}</code> (digest {gold_digest(GOLD)})" in html
    assert "5 articles, 17 gold meetings, 36 gold positions" in html
    gold_files = sorted(GOLD.glob("*.json"))
    assert len(gold_digest(GOLD)) == 12 and gold_files
    # Each run's prompt and schema hashes are listed (here: none, the gold has no prompt).
    assert '<h2 id="runs">Runs</h2>' in html


def test_html_lists_prompt_and_schema_hashes_of_each_run(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from llm_extract.evaluation import evaluate

    with ThreadPoolExecutor(1) as worker:  # its own event loop: a browser test may hold this one's
        [run] = worker.submit(
            evaluate, ["fixture-careful"], gold=GOLD, articles=SEEDS, out=tmp_path
        ).result()
    html = render_html([run])
    [prompt] = run.meta.prompts
    [schema] = run.meta.schema_hashes
    assert f'<td class="code">{prompt}</td><td class="code">{schema}</td>' in html


def test_html_fits_1400_pixels_and_notes_read_as_lines(
    browser: Any, runs: tuple[Run, Run], tmp_path: Path
) -> None:
    """Issue 17: the report overflowed at 1400 px and the baseline's note wrapped word by word."""
    from dataclasses import replace

    perfect, broken = runs
    broken.meta.name = broken.meta.model = "baseline"
    many = [  # many runs with long names: the per-run columns grow wide
        replace(
            perfect, meta=perfect.meta.model_copy(update={"name": f"a-rather-long-run-name-{n}"})
        )
        for n in range(8)
    ]
    report = tmp_path / "report.html"
    report.write_text(render_html([broken, *many]), "utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(report.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400
        note = page.locator(".notes li").first
        assert "in-sample" in note.inner_text()
        box = note.bounding_box()
        line = float(note.evaluate("n => parseFloat(getComputedStyle(n).lineHeight)"))
        assert box["width"] > 500 and box["height"] <= 3 * line
        for chart in page.locator("svg.bars").all():
            assert chart.bounding_box()["width"] > 300
    finally:
        page.close()
