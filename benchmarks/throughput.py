"""Throughput of the engine against a loopback server with a set latency, side by side.

    .venv/bin/python benchmarks/throughput.py [--latency 0.25] [--fault-rate 0.05] [--json]

Drives `llm_extract.extraction.extract_async`, the function `llm-extract extract`
calls, with the CLI's defaults (tools mode, record/replay cache on in a fresh
folder, call log on), over articles made from the seeds, against
`benchmarks/server.py` in its own process. At concurrency C and latency L the
ideal is C/L articles per second. Client CPU per call is this process's CPU
time over the calls made. A row times `Client.complete` alone at the top level
(the call and the answer's validation, what instructor's `create` does). In the
same run, on the same server and articles:
plain sequential instructor calls (`instructor.from_openai(...)
.chat.completions.create`), and LangExtract (its OpenAI provider with
base_url) from a separate virtualenv when it installs from PyPI, since its
openai pin differs from ours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
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

from llm_extract.articles import load_article
from llm_extract.cache import Cache, CallLog
from llm_extract.client import CallStats, Client
from llm_extract.extraction import extract_async
from llm_extract.prompts import load_prompt
from llm_extract.schemas import ArticleExtraction

LEVELS = (1, 4, 16, 64)
LANGEXTRACT_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / (
    "llm-extract-bench/langextract-venv"
)


def _count(concurrency: int, latency: float, seconds: float) -> int:
    """Articles for about `seconds` of ideal run time at this level (at least 8)."""
    return max(8, concurrency * math.ceil(seconds / latency))


def engine_row(
    paths: list[Path],
    url: str,
    work: Path,
    *,
    concurrency: int,
    latency: float,
    rpm: float | None = None,
    defaults: bool = True,
) -> dict[str, Any]:
    """One run of the engine; `defaults` = the CLI's cache and call log, else both off."""
    out = work / f"out-{concurrency}-{rpm}-{defaults}-{time.monotonic_ns()}.jsonl"
    store = work / f"calls-{time.monotonic_ns()}.db"  # the CLI's: one database, cache and log
    cache = Cache(store, mode="use" if defaults else "off")
    log = CallLog(store) if defaults else None
    server_stats(url, reset=True)
    cpu, wall = time.process_time(), time.perf_counter()
    results = asyncio.run(
        extract_async(
            paths,
            model=BENCH_MODEL,
            base_url=url,
            api_key=BENCH_KEY,
            concurrency=concurrency,
            rpm=rpm,
            cache=cache,
            call_log=log,
            out=out,
            progress=False,
        )
    )
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    stats = server_stats(url)
    failed = sum(r.status != "ok" for r in results)
    calls = sum(r.attempts for r in results)
    observed_rpm = None
    if stats["chat"] > 1 and stats["last"] > stats["first"]:
        observed_rpm = (stats["chat"] - 1) / (stats["last"] - stats["first"]) * 60
    ideal = concurrency / latency if rpm is None else min(concurrency / latency, rpm / 60)
    return {
        "client": "llm-extract" + ("" if defaults else " (cache off, no log)"),
        "concurrency": concurrency,
        "latency_s": latency,
        "articles": len(results),
        "failed": failed,
        "calls": stats["chat"],
        "faults": stats["faults"],
        "articles_per_s": len(results) / wall,
        "ideal_per_s": ideal,
        "of_ideal": len(results) / wall / ideal,
        "client_cpu_ms_per_call": cpu / max(calls, 1) * 1000,
        "rpm_cap": rpm,
        "rpm_observed": observed_rpm,
    }


def _conversations(paths: list[Path]) -> list[list[dict[str, str]]]:
    """The messages the engine sends for each article, rendered up front."""
    prompt = load_prompt()
    conversations = []
    for path in paths:
        article = load_article(path)
        conversations.append(
            [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user(article.text, published=article.published)},
            ]
        )
    return conversations


def client_row(paths: list[Path], url: str, *, concurrency: int, latency: float) -> dict[str, Any]:
    """`Client.complete` alone (the call and the answer's validation; no article loading,
    grounding, normalising or result writing): the part instructor's `create` does."""
    conversations = _conversations(paths)

    async def run() -> tuple[int, float, float]:
        client = Client(BENCH_MODEL, base_url=url, api_key=BENCH_KEY)
        slots = asyncio.Semaphore(concurrency)
        stats = CallStats()

        async def one(messages: list[dict[str, str]]) -> None:
            async with slots:
                await client.complete(messages[0]["content"], messages[1:], stats=stats,
                                      max_reasks=0)  # fmt: skip

        cpu, wall = time.process_time(), time.perf_counter()
        try:
            await asyncio.gather(*(one(m) for m in conversations))
        finally:
            await client.aclose()
        return stats.attempts, time.process_time() - cpu, time.perf_counter() - wall

    server_stats(url, reset=True)
    calls, cpu, wall = asyncio.run(run())
    return {
        "client": "llm-extract Client.complete only",
        "concurrency": concurrency,
        "latency_s": latency,
        "articles": len(paths),
        "failed": 0,
        "calls": server_stats(url)["chat"],
        "faults": None,
        "articles_per_s": len(paths) / wall,
        "ideal_per_s": concurrency / latency,
        "of_ideal": len(paths) / wall / (concurrency / latency),
        "client_cpu_ms_per_call": cpu / max(calls, 1) * 1000,
        "rpm_cap": None,
        "rpm_observed": None,
    }


def instructor_row(paths: list[Path], url: str, *, latency: float) -> dict[str, Any]:
    """Plain sequential instructor calls with the same messages (no grounding, no normalising)."""
    import instructor
    import openai

    conversations = _conversations(paths)
    client = instructor.from_openai(openai.OpenAI(base_url=url, api_key=BENCH_KEY))
    server_stats(url, reset=True)
    cpu, wall = time.process_time(), time.perf_counter()
    done = 0
    for messages in conversations:
        try:
            client.chat.completions.create(
                model=BENCH_MODEL, response_model=ArticleExtraction, messages=messages
            )
            done += 1
        except Exception as err:  # a fault the openai client's own retries did not absorb
            print(f"instructor: {type(err).__name__}: {err}", file=sys.stderr)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    calls = server_stats(url)["chat"]
    return {
        "client": "instructor, sequential",
        "concurrency": 1,
        "latency_s": latency,
        "articles": len(paths),
        "failed": len(paths) - done,
        "calls": calls,
        "faults": None,
        "articles_per_s": done / wall,
        "ideal_per_s": 1 / latency,
        "of_ideal": done / wall * latency,
        "client_cpu_ms_per_call": cpu / max(calls, 1) * 1000,
        "rpm_cap": None,
        "rpm_observed": None,
    }


def langextract_python(choice: str) -> tuple[str | None, str]:
    """The interpreter of a virtualenv with LangExtract, installing it there if asked."""
    if choice == "off":
        return None, "skipped (--langextract off)"
    if choice != "auto":
        return choice, f"given: {choice}"
    python = LANGEXTRACT_VENV / "bin" / "python"
    if python.exists():
        return str(python), f"venv {LANGEXTRACT_VENV}"
    print(f"installing langextract[openai] into {LANGEXTRACT_VENV} ...", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", str(LANGEXTRACT_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "langextract[openai]"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return None, f"did not install: {tail[0]}"
    return str(python), f"installed into {LANGEXTRACT_VENV}"


def langextract_rows(
    python: str, paths: list[Path], url: str, *, latency: float, levels: list[int]
) -> tuple[list[dict[str, Any]], str]:
    driver = Path(__file__).with_name("langextract_driver.py")
    rows = []
    for concurrency in levels:
        batch = paths[: _count(concurrency, latency, 2.0)]
        server_stats(url, reset=True)
        listing = Path(tempfile.mkstemp(suffix=".json")[1])
        listing.write_text(json.dumps([str(p) for p in batch]))
        done = subprocess.run(
            [python, str(driver), url, BENCH_MODEL, BENCH_KEY, str(concurrency), str(listing)],
            capture_output=True,
            text=True,
        )
        listing.unlink()
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return rows, "failed: " + " | ".join(tail)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        calls = server_stats(url)["chat"]
        rows.append(
            {
                "client": f"langextract {figures['version']}",
                "concurrency": concurrency,
                "latency_s": latency,
                "articles": figures["documents"],
                "failed": figures["failed"],
                "calls": calls,
                "faults": None,
                "articles_per_s": figures["documents"] / figures["wall_s"],
                "ideal_per_s": concurrency / latency,
                "of_ideal": figures["documents"] / figures["wall_s"] / (concurrency / latency),
                "client_cpu_ms_per_call": figures["cpu_s"] / max(calls, 1) * 1000,
                "rpm_cap": None,
                "rpm_observed": None,
            }
        )
    return rows, "ok"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.25, help="Server latency, s (<= 1).")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="Share of 503 answers.")
    parser.add_argument("--seconds", type=float, default=3.0, help="Ideal run time per level.")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--rpm", type=float, default=600.0, help="Cap for the RPM row (0: none).")
    parser.add_argument(
        "--langextract",
        default="auto",
        help="auto (install into a cached venv if missing), off, or a python with langextract.",
    )
    parser.add_argument("--json", action="store_true", help="Machine-readable output.")
    args = parser.parse_args()
    if not 0 < args.latency <= 1:
        parser.error("--latency must be in (0, 1] s")
    levels = [int(x) for x in args.levels.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="llm-extract-bench-") as tmp:
        work = Path(tmp)
        paths = make_articles(_count(max(levels), args.latency, args.seconds), work / "articles")
        with bench_server(args.latency, args.fault_rate) as url:
            engine_row(paths[:4], url, work, concurrency=4, latency=args.latency)  # warm-up
            for concurrency in levels:
                batch = paths[: _count(concurrency, args.latency, args.seconds)]
                rows.append(
                    engine_row(batch, url, work, concurrency=concurrency, latency=args.latency)
                )
            top = max(levels)
            batch = paths[: _count(top, args.latency, args.seconds)]
            rows.append(
                engine_row(batch, url, work, concurrency=top, latency=args.latency, defaults=False)
            )
            rows.append(client_row(batch, url, concurrency=top, latency=args.latency))
            if args.rpm:
                count = max(8, int(args.rpm / 60 * args.seconds))
                rows.append(
                    engine_row(
                        paths[:count], url, work, concurrency=top, latency=args.latency,
                        rpm=args.rpm,
                    )
                )  # fmt: skip
            rows.append(
                instructor_row(paths[: _count(1, args.latency, args.seconds)], url,
                               latency=args.latency)
            )  # fmt: skip
            python, how = langextract_python(args.langextract)
            langextract_status = how
            if python is not None:
                more, status = langextract_rows(
                    python, paths, url, latency=args.latency, levels=levels
                )
                rows.extend(more)
                langextract_status = f"{how}; {status}"
    ours = {r["concurrency"]: r for r in rows if r["client"] == "llm-extract" and not r["rpm_cap"]}
    sequential = next(r for r in rows if r["client"].startswith("instructor"))
    ratios = {
        f"llm-extract C={c} / instructor sequential": ours[c]["articles_per_s"]
        / sequential["articles_per_s"]
        for c in ours
    }
    for row in rows:
        if row["client"].startswith("langextract"):
            key = f"llm-extract C={row['concurrency']} / {row['client']} C={row['concurrency']}"
            if row["concurrency"] in ours and row["articles_per_s"]:
                ratios[key] = ours[row["concurrency"]]["articles_per_s"] / row["articles_per_s"]
    report = {
        "machine": machine(),
        "latency_s": args.latency,
        "fault_rate": args.fault_rate,
        "langextract": langextract_status,
        "rows": rows,
        "ratios": ratios,
    }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(machine_line(report["machine"]))
    print(f"server: latency {args.latency} s, fault rate {args.fault_rate}\n")
    columns = ["client", "C", "articles", "failed", "calls", "art/s", "ideal/s", "of ideal",
               "cpu ms/call", "rpm cap", "rpm seen"]  # fmt: skip
    print_table(
        "Throughput",
        columns,
        [
            [r["client"], r["concurrency"], r["articles"], r["failed"], r["calls"],
             r["articles_per_s"], r["ideal_per_s"], r["of_ideal"], r["client_cpu_ms_per_call"],
             r["rpm_cap"], r["rpm_observed"]]
            for r in rows
        ],
    )  # fmt: skip
    print(f"LangExtract: {langextract_status}")
    for name, ratio in ratios.items():
        print(f"  {name}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
