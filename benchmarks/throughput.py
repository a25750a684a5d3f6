"""Throughput of the engine against a loopback server with a set latency, side by side.

    .venv/bin/python benchmarks/throughput.py [--latency 0.25] [--fault-rate 0.05]
        [--repeat 3] [--json]

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

The RPM row reads what a provider's limiter would see from every request's
arrival time at the server (see `pacing`). With `--repeat N` each row runs N
times, in rounds, and the table shows the run with the median articles/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
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
from llm_extract.settings import EndpointSettings

LEVELS = (1, 4, 16, 64)
LANGEXTRACT_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / (
    "llm-extract-bench/langextract-venv"
)


_UNPACED = {"rpm_cap": None, "rpm_observed": None, "rpm_burst": None, "rpm_kept": None}


def _count(concurrency: int, latency: float, seconds: float) -> int:
    """Articles for about `seconds` of ideal run time at this level (at least 8)."""
    return max(8, concurrency * math.ceil(seconds / latency))


def ideal_per_s(articles: int, concurrency: int, latency: float, rpm: float | None) -> float:
    """The best any client could do with these articles: one call each, L s long, at most C
    in flight, starts at least 60/cap s apart. Without a cap and with C | n it is C/L;
    with a cap it counts the last call's latency, which a short run cannot hide."""
    interval = 60 / rpm if rpm else 0.0
    starts: list[float] = []
    for i in range(articles):
        earliest = starts[i - 1] + interval if i else 0.0
        starts.append(max(earliest, starts[i - concurrency] + latency) if i >= concurrency
                      else earliest)  # fmt: skip
    return articles / (starts[-1] + latency)


def pacing(arrivals: Sequence[float], rpm: float | None) -> dict[str, Any]:
    """What a provider's rate limiter sees of a run, from its requests' arrival times.

    `rpm_observed`: the steady rate, the median over every stretch of n/2 consecutive
    intervals of the requests per minute in it. The span (n-1)/(last-first) read above
    a cap the client kept: a run's first request reaches the server 10-30 ms after its
    slot, later ones 2-6 ms (the first call of a fresh openai client waits on a thread
    for platform detection and opens a connection, and meanwhile the other tasks'
    setup holds the event loop), so the span comes out short. The late first request spoils one stretch
    here, not the median.

    `rpm_burst`: the limiter as a token bucket refilled at the cap's rate, the model
    providers describe; this is the smallest bucket the arrivals fit in:
    max over i <= j of (j - i + 1) - rate * (a_j - a_i). Evenly spaced arrivals at the
    cap need 1; arrival jitter adds rate x jitter; a client a whole request ahead of
    the cap's schedule anywhere needs 2 or more.

    `rpm_kept`: never a whole request ahead of the cap, within the run (burst < 2: a
    bucket of 2 requests would have let every request through, and any window of T s
    held at most cap*T/60 + 1, as evenly spaced starts do in a closed window anyway)
    nor per minute at the steady rate (rpm_observed < cap + 1), which a short run's
    burst would not show yet.
    """
    times = sorted(arrivals)
    half = len(times) // 2
    observed = None
    if half and times[-1] > times[0]:
        observed = statistics.median(
            half / (times[i + half] - times[i]) * 60
            for i in range(len(times) - half)
            if times[i + half] > times[i]
        )
    if not rpm or not times:
        return {**_UNPACED, "rpm_cap": rpm or None, "rpm_observed": observed}
    rate, start = rpm / 60, times[0]
    burst, low = 1.0, math.inf
    for j, t in enumerate(times):
        ahead = j - rate * (t - start)  # requests sent beyond the cap's schedule since the start
        low = min(low, ahead)
        burst = max(burst, ahead - low + 1)
    kept = burst < 2 and (observed is None or observed < rpm + 1)
    return {"rpm_cap": rpm, "rpm_observed": observed, "rpm_burst": burst, "rpm_kept": kept}


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
    ideal = ideal_per_s(len(results), concurrency, latency, rpm)
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
        **pacing(stats["arrivals"], rpm),
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
        client = Client(EndpointSettings.from_env(BENCH_MODEL, base_url=url, api_key=BENCH_KEY))
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
        **_UNPACED,
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
        **_UNPACED,
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


class _RowFailed(Exception):
    """A row that cannot run at all (LangExtract's driver failed): its runs so far still count."""


def langextract_row(
    python: str, paths: list[Path], url: str, *, concurrency: int, latency: float
) -> dict[str, Any]:
    driver = Path(__file__).with_name("langextract_driver.py")
    server_stats(url, reset=True)
    listing = Path(tempfile.mkstemp(suffix=".json")[1])
    listing.write_text(json.dumps([str(p) for p in paths]))
    done = subprocess.run(
        [python, str(driver), url, BENCH_MODEL, BENCH_KEY, str(concurrency), str(listing)],
        capture_output=True,
        text=True,
    )
    listing.unlink()
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise _RowFailed("failed: " + (" | ".join(tail) or f"exit {done.returncode}, no output"))
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    calls = server_stats(url)["chat"]
    return {
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
        **_UNPACED,
    }


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median articles/s (the lower middle one of an even count),
    with every run's articles/s and how many runs kept the RPM cap."""
    row = dict(sorted(runs, key=lambda r: r["articles_per_s"])[(len(runs) - 1) // 2])
    row["runs"] = len(runs)
    row["articles_per_s_runs"] = [r["articles_per_s"] for r in runs]
    row["rpm_kept_runs"] = sum(bool(r["rpm_kept"]) for r in runs) if row["rpm_cap"] else None
    return row


def repeated(
    specs: list[Callable[[], dict[str, Any]]], repeat: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Each row `repeat` times in rounds (every row once, then again), so a slow spell
    of the machine falls on all rows alike; the median run of each row. A `_RowFailed`
    stops the runs there, and each row keeps the runs it had: (rows, what failed)."""
    runs: list[list[dict[str, Any]]] = [[] for _ in specs]
    failure = None
    for _ in range(repeat):
        for spec, done in zip(specs, runs, strict=True):
            try:
                done.append(spec())
            except _RowFailed as err:
                failure = f"run {len(done) + 1} of {repeat} {err}"
                break
        if failure:
            break
    return [_median(done) for done in runs if done], failure


def _fixed(value: float | None, places: int) -> str | None:
    return None if value is None else f"{value:.{places}f}"


def _kept(row: dict[str, Any]) -> str | None:
    if not row["rpm_cap"]:
        return None
    if row["runs"] == 1:
        return "yes" if row["rpm_kept"] else "NO"
    return f"{row['rpm_kept_runs']}/{row['runs']} runs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.25, help="Server latency, s (<= 1).")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="Share of 503 answers.")
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="Ideal run time per row, s (LangExtract's rows: at most 2 s, it is several times "
        "slower).",
    )
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--rpm", type=float, default=600.0, help="Cap for the RPM row (0: none).")
    parser.add_argument(
        "--repeat", type=int, default=1, help="Runs per row; the table shows the median run."
    )
    parser.add_argument(
        "--langextract",
        default="auto",
        help="auto (install into a cached venv if missing), off, or a python with langextract.",
    )
    parser.add_argument("--json", action="store_true", help="Machine-readable output.")
    args = parser.parse_args()
    if not 0 < args.latency <= 1:
        parser.error("--latency must be in (0, 1] s")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    levels = [int(x) for x in args.levels.split(",")]
    latency, top = args.latency, max(levels)
    with tempfile.TemporaryDirectory(prefix="llm-extract-bench-") as tmp:
        work = Path(tmp)
        batch_size = _count(top, latency, args.seconds)
        paced = max(8, int(args.rpm / 60 * args.seconds))
        paths = make_articles(max(batch_size, paced if args.rpm else 0), work / "articles")
        batch = paths[:batch_size]
        with bench_server(latency, args.fault_rate) as url:
            engine_row(paths[:4], url, work, concurrency=4, latency=latency)  # warm-up
            specs: list[Callable[[], dict[str, Any]]] = [
                *(
                    partial(engine_row, paths[: _count(c, latency, args.seconds)], url, work,
                            concurrency=c, latency=latency)
                    for c in levels
                ),
                partial(engine_row, batch, url, work, concurrency=top, latency=latency,
                        defaults=False),
                partial(client_row, batch, url, concurrency=top, latency=latency),
            ]  # fmt: skip
            if args.rpm:
                specs.append(partial(engine_row, paths[:paced], url, work, concurrency=top,
                                     latency=latency, rpm=args.rpm))  # fmt: skip
            specs.append(partial(instructor_row, paths[: _count(1, latency, args.seconds)], url,
                                 latency=latency))  # fmt: skip
            rows, _ = repeated(specs, args.repeat)  # only LangExtract's rows raise _RowFailed
            python, langextract_status = langextract_python(args.langextract)
            if python is not None:
                seconds = min(args.seconds, 2.0)
                more = [
                    partial(langextract_row, python, paths[: _count(c, latency, seconds)], url,
                            concurrency=c, latency=latency)
                    for c in levels
                ]  # fmt: skip
                done, failure = repeated(more, args.repeat)
                rows.extend(done)
                langextract_status += f"; {failure or 'ok'}"
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
        "latency_s": latency,
        "fault_rate": args.fault_rate,
        "repeat": args.repeat,
        "langextract": langextract_status,
        "rows": rows,
        "ratios": ratios,
    }
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(machine_line(report["machine"]))
    print(f"server: latency {latency} s, fault rate {args.fault_rate}")
    if args.repeat > 1:
        print(f"each row: the median of {args.repeat} runs by articles/s (runs in rounds)")
    print()
    columns = ["client", "C", "articles", "failed", "calls", "art/s", "ideal/s", "of ideal",
               "cpu ms/call", "rpm cap", "rpm seen", "burst", "cap kept"]  # fmt: skip
    print_table(
        "Throughput",
        columns,
        [
            [r["client"], r["concurrency"], r["articles"], r["failed"], r["calls"],
             r["articles_per_s"], r["ideal_per_s"], r["of_ideal"], r["client_cpu_ms_per_call"],
             r["rpm_cap"], _fixed(r["rpm_observed"], 1) if r["rpm_cap"] else None,
             _fixed(r["rpm_burst"], 2), _kept(r)]
            for r in rows
        ],
    )  # fmt: skip
    if args.rpm:
        print(
            "rpm seen, burst, cap kept: the row with an RPM cap only (JSON: rpm_observed on every "
            "engine row).\nrpm seen: requests/min arriving at the server (median over every "
            "stretch of half the run's\nrequests); burst: the smallest token bucket, refilled at "
            "the cap's rate, that every arrival\nfits in (1 = evenly spaced at the cap); cap kept: "
            "burst < 2 and rpm seen < cap + 1 (never a\nwhole request ahead of the cap).\n"
        )
    if args.repeat > 1:
        spread = [
            f"  {r['client']} C={r['concurrency']}"
            + (f", rpm cap {r['rpm_cap']:g}" if r["rpm_cap"] else "")
            + ": "
            + " ".join(f"{x:.3g}" for x in r["articles_per_s_runs"])
            for r in rows
        ]
        print("articles/s of every run:\n" + "\n".join(spread) + "\n")
    print(f"LangExtract: {langextract_status}")
    for name, ratio in ratios.items():
        print(f"  {name}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
