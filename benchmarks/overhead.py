"""Time per article spent in our code: validate, ground, normalise (p50 and p95).

    .venv/bin/python benchmarks/overhead.py [--articles 500] [--json]

Over articles made from the seeds (each text unique, so per-text caches start
cold), with each seed's gold extraction as the model's answer (quotes only):
- validate: the answer's JSON into `ArticleExtraction` (what the tools handler does),
- ground: `ground_extraction` against the article,
- normalise: `normalise_extraction`,
- engine, no network: one `Extractor.extract` replaying the answer from the
  record/replay cache, i.e. everything `extract` does per article except the
  HTTP round trip (prompt, cache key, parse, validate, ground, normalise, span check).
Target: the three stages together at most 5 ms at p50.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_KEY,
    BENCH_MODEL,
    bench_server,
    gold_answers,
    machine,
    machine_line,
    make_articles,
    print_table,
    server_stats,
)

from llm_extract.articles import load_article
from llm_extract.cache import Cache
from llm_extract.extraction import Extractor, extract
from llm_extract.ground import ground_extraction
from llm_extract.normalise import normalise_extraction
from llm_extract.schemas import ArticleExtraction
from llm_extract.settings import EndpointSettings


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000}


def stages(paths: list[Path]) -> dict[str, list[float]]:
    answers = gold_answers()
    times: dict[str, list[float]] = {"validate": [], "ground": [], "normalise": [], "total": []}
    for path in paths:
        article = load_article(path)
        raw = next(
            json.dumps(gold, ensure_ascii=False)
            for paragraphs, gold in answers
            if any(p in article.text for p in paragraphs)
        )
        t0 = time.perf_counter()
        extraction = ArticleExtraction.model_validate_json(raw)
        t1 = time.perf_counter()
        grounded = ground_extraction(extraction, article.text)
        t2 = time.perf_counter()
        normalise_extraction(grounded.extraction, article)
        t3 = time.perf_counter()
        times["validate"].append(t1 - t0)
        times["ground"].append(t2 - t1)
        times["normalise"].append(t3 - t2)
        times["total"].append(t3 - t0)
    return times


def engine(paths: list[Path], work: Path) -> list[float]:
    """Record each article's answer once, then time `Extractor.extract` replaying it."""
    cache_dir = work / "cache"
    with bench_server(0.0) as url:
        extract(paths, model=BENCH_MODEL, base_url=url, api_key=BENCH_KEY,
                cache=Cache(cache_dir), concurrency=8, progress=False)  # fmt: skip
        server_stats(url, reset=True)

        async def timed() -> list[float]:
            endpoint = EndpointSettings.from_env(BENCH_MODEL, base_url=url, api_key=BENCH_KEY)
            extractor = Extractor(endpoint, cache=Cache(cache_dir, mode="replay-only"))
            samples = []
            try:
                for path in paths:
                    article = load_article(path)
                    start = time.perf_counter()
                    result = await extractor.extract(article)
                    samples.append(time.perf_counter() - start)
                    if result.status != "ok":
                        raise RuntimeError(f"{article.id}: {result.error}")
            finally:
                await extractor.aclose()
            return samples

        samples = asyncio.run(timed())
        if server_stats(url)["chat"]:
            raise RuntimeError("the replay reached the server")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="Machine-readable output.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llm-extract-bench-") as tmp:
        work = Path(tmp)
        paths = make_articles(args.articles, work / "articles")
        stages(paths[:5])  # warm-up: pymorphy's dictionaries, the alias table
        times = stages(paths)
        rows: list[dict[str, Any]] = [
            {"stage": name, **_percentiles(samples)} for name, samples in times.items()
        ]
        rows.append({"stage": "engine, no network", **_percentiles(engine(paths, work))})
    report = {"machine": machine(), "articles": args.articles, "rows": rows, "target_p50_ms": 5.0}
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(machine_line(report["machine"]) + "\n")
    print_table(
        f"Time per article in our code, {args.articles} articles (target: total p50 <= 5 ms)",
        ["stage", "p50 ms", "p95 ms"],
        [[r["stage"], r["p50_ms"], r["p95_ms"]] for r in rows],
    )


if __name__ == "__main__":
    main()
