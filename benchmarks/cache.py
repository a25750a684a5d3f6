"""A repeated run from the record/replay cache: no network calls, and how fast it goes.

    .venv/bin/python benchmarks/cache.py [--articles 200] [--json]

Runs `extract_async` (what `llm-extract extract` calls) over articles made from
the seeds against the benchmark server with the cache in `use` mode (every call
recorded), then runs the same articles again twice from that cache, in `use`
and in `replay-only` mode, and checks the server saw no request during either.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
    machine,
    machine_line,
    make_articles,
    print_table,
    server_stats,
)

from llm_extract.cache import Cache
from llm_extract.extraction import extract_async


def run(paths: list[Path], url: str, cache: Cache, out: Path, concurrency: int) -> dict[str, Any]:
    server_stats(url, reset=True)
    cpu, wall = time.process_time(), time.perf_counter()
    results = asyncio.run(
        extract_async(paths, model=BENCH_MODEL, base_url=url, api_key=BENCH_KEY, cache=cache,
                      out=out, concurrency=concurrency, progress=False)
    )  # fmt: skip
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    return {
        "cache_mode": cache.mode,
        "articles": len(results),
        "failed": sum(r.status != "ok" for r in results),
        "server_requests": server_stats(url)["chat"],
        "cache_hits": cache.hits,
        "articles_per_s": len(results) / wall,
        "cpu_ms_per_article": cpu / len(results) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.25, help="Server latency, s.")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="Machine-readable output.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llm-extract-bench-") as tmp:
        work = Path(tmp)
        paths = make_articles(args.articles, work / "articles")
        store = work / "cache"
        with bench_server(args.latency) as url:
            rows = [
                {"run": "first (records)",
                 **run(paths, url, Cache(store), work / "1.jsonl", args.concurrency)},
                {"run": "repeat",
                 **run(paths, url, Cache(store), work / "2.jsonl", args.concurrency)},
                {"run": "repeat, replay-only",
                 **run(paths, url, Cache(store, mode="replay-only"), work / "3.jsonl",
                       args.concurrency)},
            ]  # fmt: skip
    for row in rows[1:]:
        if row["server_requests"] or row["failed"]:
            raise SystemExit(f"the repeated run reached the server or failed: {row}")
    report = {
        "machine": machine(),
        "latency_s": args.latency,
        "concurrency": args.concurrency,
        "rows": rows,
        "speedup": rows[1]["articles_per_s"] / rows[0]["articles_per_s"],
    }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(machine_line(report["machine"]))
    print(f"server latency {args.latency} s, concurrency {args.concurrency}\n")
    print_table(
        "Repeated run from the cache",
        ["run", "cache", "articles", "failed", "server requests", "cache hits", "art/s",
         "cpu ms/article"],
        [[r["run"], r["cache_mode"], r["articles"], r["failed"], r["server_requests"],
          r["cache_hits"], r["articles_per_s"], r["cpu_ms_per_article"]] for r in rows],
    )  # fmt: skip
    print(f"repeat / first: {report['speedup']:.1f}x; the repeats made 0 network calls")


if __name__ == "__main__":
    main()
