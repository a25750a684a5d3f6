"""Speed of the offline baseline on one core: load time, then time per article.

    .venv/bin/python benchmarks/baseline_speed.py [ARTICLE ...] [--repeats N] [--json]

Without articles it reads `seeds/*.txt`. The process is pinned to one CPU and
numpy's BLAS to one thread (set before numpy loads), so the figures are one
core's, not the machine's. The first article after loading is timed apart:
it also loads the normaliser's dictionaries.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported, or it is too late

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="*", type=Path, help="article files (default: seeds)")
    parser.add_argument("--repeats", type=int, default=5, help="passes over the articles")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    cpu = _pin_one_cpu()
    started = time.perf_counter()
    from llm_extract.articles import load_article
    from llm_extract.baseline import BaselineExtractor

    imported = time.perf_counter()
    extractor = BaselineExtractor()
    extractor.load()
    loaded = time.perf_counter()

    paths = args.articles or sorted((ROOT / "seeds").glob("*.txt"))
    if not paths:
        sys.exit("no articles: pass article files or run from a checkout with seeds/")
    articles = [load_article(path) for path in paths]
    first_started = time.perf_counter()
    extractor.extract(articles[0])
    first = time.perf_counter() - first_started

    times: list[float] = []
    for _ in range(args.repeats):
        for article in articles:
            t0 = time.perf_counter()
            extractor.extract(article)
            times.append(time.perf_counter() - t0)
    chars = sum(len(a.text) for a in articles) * args.repeats
    figures = {
        "cpu": cpu,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "import_s": round(imported - started, 3),
        "load_s": round(loaded - imported, 3),
        "first_article_s": round(first, 3),
        "articles": len(articles),
        "runs": len(times),
        "mean_chars": round(chars / len(times)),
        "per_article_p50_s": round(statistics.median(times), 4),
        "per_article_p95_s": round(_percentile(times, 95), 4),
        "per_article_mean_s": round(statistics.fmean(times), 4),
        "chars_per_s": round(chars / sum(times)),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"baseline speed on one core (CPU {cpu}; {figures['machine']}; Python {figures['python']})"
    )
    print(f"  import             {figures['import_s']:.3f} s")
    print(f"  load natasha       {figures['load_s']:.3f} s")
    print(f"  first article      {figures['first_article_s']:.3f} s  (also loads the normaliser)")
    print(
        f"  per article        p50 {figures['per_article_p50_s']:.4f} s   "
        f"p95 {figures['per_article_p95_s']:.4f} s   mean {figures['per_article_mean_s']:.4f} s"
    )
    print(
        f"  over               {figures['runs']} runs of {figures['articles']} articles, "
        f"{figures['mean_chars']} chars on average; {figures['chars_per_s']} chars/s"
    )


def _pin_one_cpu() -> int | None:
    """Run on one CPU so that the figures hold for one core; None where pinning is not offered."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


if __name__ == "__main__":
    main()
