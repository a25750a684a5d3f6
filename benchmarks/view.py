"""How fast a review page of many articles is made and opens in the browser.

    .venv/bin/python benchmarks/view.py [--articles 1000] [--repeat 3] [--json]

Articles are made from the seeds (each text unique); their results are the fixture
models' answers on the seeds (replayed once by the engine from the shipped cache),
copied to every article made from that seed, and so is the gold. Two pages: the
results alone (fixture-sloppy), and the heaviest kind, fixture-sloppy with `--gold`
and `--against fixture-careful`.
- render: `build_view` + `write_view` (read results and texts, cut highlights,
  write the HTML; for the second, score both runs against the gold and align them),
- open: headless system Chromium from `goto` until the page has drawn its list and
  the first article (`body[data-ready]`), a fresh page each time,
- switch: clicking another article in the list until it is drawn.
Targets (issue 15): render under 10 s and open under 3 s for 1,000 articles.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import GOLD, ROOT, SEEDS, machine, machine_line, make_articles, print_table

CHROMIUM = Path("/usr/bin/chromium")


def fixture_results(folder: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """model -> seed id -> its result (as JSON), replayed offline by the real engine
    (its call log kept in `folder`, not the user's)."""
    os.environ["LLM_EXTRACT_HOME"] = str(folder / "home")
    from llm_extract.cache import Cache
    from llm_extract.extraction import extract

    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model in ("fixture-sloppy", "fixture-careful"):
        results = extract(
            SEEDS,
            model=model,
            cache=Cache(ROOT / "evals" / "fixtures" / "cache", mode="replay-only"),
            progress=False,
        )
        out[model] = {r.article_id: r.model_dump(mode="json") for r in results}
    return out


def corpus(count: int, folder: Path) -> tuple[Path, Path, Path]:
    """Results of both models and the gold for `count` articles made from the seeds."""
    articles = make_articles(count, folder / "articles")
    answers = fixture_results(folder)
    gold = folder / "gold"
    gold.mkdir()
    paths = {}
    for model, by_seed in answers.items():
        paths[model] = folder / f"{model}.jsonl"
        with paths[model].open("w", encoding="utf-8") as out:
            for number, article in enumerate(articles):
                seed = SEEDS[number % len(SEEDS)].stem
                result = dict(by_seed[seed], article_id=article.stem, source=str(article))
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
    for number, article in enumerate(articles):
        seed = SEEDS[number % len(SEEDS)].stem
        shutil.copy(GOLD / f"{seed}.json", gold / f"{article.stem}.json")
    return paths["fixture-sloppy"], paths["fixture-careful"], gold


def render(results: Path, out: Path, **options: Path) -> tuple[float, float]:
    """Wall and CPU seconds: on a shared machine the CPU time varies less."""
    from llm_extract.view import build_view, write_view

    start, cpu = time.perf_counter(), time.process_time()
    write_view(out, build_view(results, **options))
    return time.perf_counter() - start, time.process_time() - cpu


def open_times(page_path: Path, repeat: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    opened, switched = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            start = time.perf_counter()
            page.goto(page_path.as_uri())
            page.wait_for_selector("body[data-ready=true]")
            opened.append(time.perf_counter() - start)
            rows = page.locator("#list li")
            target = rows.nth(rows.count() // 2)
            wanted = target.get_attribute("data-id")
            start = time.perf_counter()
            target.click()
            page.wait_for_function(
                "id => document.querySelector('.article-head h2').textContent === id", arg=wanted
            )
            switched.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return opened, switched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    facts = machine()
    rows = []
    figures: dict[str, Any] = {"articles": args.articles, "repeat": args.repeat, "machine": facts}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results, against, gold = corpus(args.articles, folder)
        for name, options in (
            ("results only", {}),
            ("--gold --against", {"gold": gold, "against": against}),
        ):
            page = folder / "review.html"
            renders = [render(results, page, **options) for _ in range(args.repeat)]
            opened, switched = open_times(page, args.repeat) if CHROMIUM.is_file() else ([], [])
            row = {
                "page": name,
                "render_s": round(statistics.median(r[0] for r in renders), 2),
                "render_cpu_s": round(statistics.median(r[1] for r in renders), 2),
                "open_s": round(statistics.median(opened), 2) if opened else None,
                "switch_s": round(statistics.median(switched), 3) if switched else None,
                "page_mb": round(page.stat().st_size / 1e6, 1),
            }
            rows.append(row)
    figures["pages"] = rows
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(machine_line(facts))
    if not CHROMIUM.is_file():
        print(f"no browser at {CHROMIUM}: open times not measured (apt-get install chromium)")
    print_table(
        f"Review page of {args.articles} articles (median of {args.repeat}); "
        "targets: render < 10 s, open < 3 s",
        ["page", "render s", "render CPU s", "open s", "switch article s", "page MB"],
        [
            [r["page"], r["render_s"], r["render_cpu_s"], r["open_s"], r["switch_s"], r["page_mb"]]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
