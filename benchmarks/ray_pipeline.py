"""The Ray Data pipeline (`llm-extract batch ray`) against the in-process engine, same server.

    .venv/bin/python benchmarks/ray_pipeline.py [--articles 200] [--latency 0.25]
        [--concurrency 8] [--batch-size 1] [--json]

Needs the `[ray]` extra. Both runs extract the same articles (made from the seeds)
in json_schema mode against `benchmarks/server.py` in its own process, cache and
call log off. The in-process row is `extract_async` at `--concurrency` articles in
flight; the Ray row is `extract_to_file` on a local Ray with 2 CPUs and
`--concurrency` HTTP workers. In flight is the most requests the server saw within
one latency of each other. Client CPU is this process and all its descendants (the
Ray head, raylet and workers) but the server, read from /proc. Ray's start-up cost
is `ray.init` and, separately, the first one-article run (actor start, plan).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
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
from llm_extract.distributed import RaySettings, connect, extract_to_file
from llm_extract.extraction import extract_async
from llm_extract.settings import EndpointSettings

_TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(exclude: set[int]) -> float:
    """CPU seconds of this process and its live descendants, except the trees under `exclude`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICK
        todo.extend(children.get(pid, []))
    return total


def _in_flight(arrivals: list[float], latency: float) -> int:
    arrivals = sorted(arrivals)
    return max(
        (bisect.bisect_right(arrivals, t + latency) - i for i, t in enumerate(arrivals)),
        default=0,
    )


def _server_pid(url: str) -> set[int]:
    """The benchmark server's pid: the child of ours listening on the URL's port."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == os.getpid() and b"server.py" in cmdline:
                pids.add(int(entry.name))
    return pids


def _row(name: str, url: str, count: int, wall: float, cpu: float, latency: float):
    stats = server_stats(url)
    return {
        "runner": name,
        "articles": count,
        "articles_per_s": round(count / wall, 2),
        "client_cpu_ms_per_article": round(1000 * cpu / count, 1),
        "in_flight": _in_flight(stats["arrivals"], latency),
        "requests": stats["chat"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1, help="rows per Ray batch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["OPENAI_API_KEY"] = BENCH_KEY
    facts = machine()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, bench_server(args.latency) as url:
        folder = Path(tmp)
        paths = make_articles(args.articles, folder / "articles")
        server = _server_pid(url)

        server_stats(url, reset=True)
        cpu, started = _tree_cpu(server), time.perf_counter()
        asyncio.run(
            extract_async(
                paths, model=BENCH_MODEL, base_url=url, mode="json_schema",
                cache=Cache(mode="off"), call_log=None, concurrency=args.concurrency,
                out=folder / "engine.jsonl", progress=False,
            )
        )  # fmt: skip
        wall, cpu = time.perf_counter() - started, _tree_cpu(server) - cpu
        rows.append(_row("in-process engine", url, args.articles, wall, cpu, args.latency))

        started = time.perf_counter()
        connect(num_cpus=2)
        init_s = time.perf_counter() - started
        settings = RaySettings(EndpointSettings(BENCH_MODEL, base_url=url))
        options = {"concurrency": args.concurrency, "batch_size": args.batch_size}
        started = time.perf_counter()
        extract_to_file(paths[:1], settings, out=folder / "warm.jsonl", **options)
        first_s = time.perf_counter() - started

        server_stats(url, reset=True)
        cpu, started = _tree_cpu(server), time.perf_counter()
        summary = extract_to_file(paths, settings, out=folder / "ray.jsonl", **options)
        wall, cpu = time.perf_counter() - started, _tree_cpu(server) - cpu
        rows.append(_row("Ray Data pipeline", url, args.articles, wall, cpu, args.latency))
        assert summary.ok == args.articles, summary
    report = {
        "machine": facts,
        "latency_s": args.latency,
        "concurrency": args.concurrency,
        "batch_size": args.batch_size,
        "ray_init_s": round(init_s, 2),
        "ray_first_article_s": round(first_s, 2),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(machine_line(facts))
    print(
        f"latency {args.latency} s, concurrency {args.concurrency}, Ray batch size "
        f"{args.batch_size}; Ray start-up: ray.init "
        f"{init_s:.2f} s, first one-article run {first_s:.2f} s"
    )
    columns = list(rows[0])
    print_table("Ray Data pipeline vs in-process engine", columns, [list(r.values()) for r in rows])


if __name__ == "__main__":
    main()
