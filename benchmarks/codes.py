"""CAMEO/PLOVER coding speed: the seeds' gold events and position tracks, copied N times.

    .venv/bin/python benchmarks/codes.py

Measures `code_corpus` alone (resolution has its own benchmark) on 1x, 10x and 30x the
item count; the cost per item should stay flat, as coding looks at one event or track at a
time. Each figure is CPU time of one run after a warm-up (the tables and caches load once).
"""

from __future__ import annotations

import time
from pathlib import Path

from llm_extract.articles import load_article
from llm_extract.codes import code_corpus
from llm_extract.events import aggregate_positions, resolve_events
from llm_extract.schemas import ArticleExtraction, ExtractionResult

ROOT = Path(__file__).resolve().parent.parent
COPIES = (100, 1_000, 3_000)


def _gold_results() -> list[ExtractionResult]:
    results = []
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        article, path = load_article(seed), ROOT / "evals" / "gold" / f"{seed.stem}.json"
        results.append(
            ExtractionResult(
                article_id=article.id,
                source=f"seeds/{path.stem}.txt",
                published=article.published,
                model="gold",
                status="ok",
                extraction=ArticleExtraction.model_validate_json(path.read_text("utf-8")),
            )
        )
    return results


def main() -> None:
    results = _gold_results()
    events, tracks = resolve_events(results), aggregate_positions(results)
    code_corpus(events, tracks)
    print("| copies | events | tracks | CAMEO rows | PLOVER records | CPU s | ms per item |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for copies in COPIES:
        many_events = [
            e.model_copy(update={"id": f"{e.id}-{i}"}) for i in range(copies) for e in events
        ]
        many_tracks = [
            t.model_copy(update={"id": f"{t.id}-{i}"}) for i in range(copies) for t in tracks
        ]
        start = time.process_time()
        coding = code_corpus(many_events, many_tracks)
        spent = time.process_time() - start
        items = len(many_events) + len(many_tracks)
        print(
            f"| {copies:,} | {len(many_events):,} | {len(many_tracks):,} | {len(coding.cameo):,} "
            f"| {len(coding.plover):,} | {spent:.2f} | {spent / items * 1e3:.3f} |"
        )


if __name__ == "__main__":
    main()
