"""Grounding speed: every seed's gold quotes, and 50 quotes against a 100k-character article.

    .venv/bin/python benchmarks/grounding.py

Each figure is the median of several runs of a cold article: the normalised copy
of the text is rebuilt every run, as it is once per extraction in the engine.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from pathlib import Path

from llm_extract.articles import load_article
from llm_extract.ground import _prepared, ground_extraction, ground_quote
from llm_extract.schemas import ArticleExtraction

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7


def _median_ms(work) -> float:
    times = []
    for _ in range(RUNS):
        _prepared.cache_clear()
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _seeds() -> None:
    print(f"{'seed':<24}{'chars':>8}{'quotes':>8}{'ms':>9}   match kinds")
    for gold_path in sorted((ROOT / "evals" / "gold").glob("*.json")):
        article = load_article(ROOT / "seeds" / f"{gold_path.stem}.txt")
        gold = ArticleExtraction.model_validate_json(gold_path.read_text("utf-8"))
        raw = gold.model_copy(deep=True)
        quotes = 0
        for item in [*raw.meetings, *raw.positions]:
            for evidence in item.evidence:
                evidence.start = evidence.end = evidence.match = None
                quotes += 1
        report = ground_extraction(raw, article.text)
        kinds = Counter(
            str(e.match)
            for item in [*report.extraction.meetings, *report.extraction.positions]
            for e in item.evidence
        )
        ms = _median_ms(lambda raw=raw, text=article.text: ground_extraction(raw, text))
        print(f"{gold_path.stem:<24}{len(article.text):>8}{quotes:>8}{ms:>9.2f}   {dict(kinds)}")


def _synthetic() -> None:
    rng = random.Random(0)
    paragraphs = [
        p.strip()
        for path in sorted((ROOT / "seeds").glob("*.txt"))
        for p in load_article(path).text.split("\n")
        if len(p.strip()) > 80
    ]
    parts, size, n = [], 0, 0
    while size < 100_000:
        n += 1
        paragraph = f"{rng.choice(paragraphs)} (§{n})"
        parts.append(paragraph)
        size += len(paragraph) + 2
    text = "\n\n".join(parts)
    sentences = [s.strip() for p in parts[-200:] for s in p.split(". ") if len(s.strip()) > 60]
    picked = rng.sample(sentences, 45)
    quotes = (
        picked[:20]
        + [s.lower().replace("е", "ё", 1) for s in picked[20:35]]
        + [s.replace(" ", "  ").replace("о", "а", 2) for s in picked[35:45]]
        + [f"Выдуманная фраза номер {i}, которой нет в статье ни в каком виде." for i in range(5)]
    )

    def work() -> list:
        return [ground_quote(q, text) for q in quotes]

    kinds = Counter(str(e.match) for e in work())
    ms = _median_ms(work)
    _prepared.cache_clear()
    start = time.perf_counter()
    _prepared(text)
    prep_ms = (time.perf_counter() - start) * 1000
    print(
        f"\nsynthetic article: {len(text):,} chars, {len(quotes)} quotes: {ms:.1f} ms "
        f"(normalising the text: {prep_ms:.1f} ms)   {dict(kinds)}"
    )


if __name__ == "__main__":
    _seeds()
    _synthetic()
