"""Event resolution and export at corpus scale: time and peak memory at 10k, 100k, 300k mentions.

    .venv/bin/python benchmarks/events.py [--sizes 10000,100000,300000] [--no-export] [--json]

Each size is a generated corpus (`event_corpus.py`: known events, varied dates, spellings
and sides) written as results JSONL. Every measurement runs in a fresh process, so its
peak RSS is its own. Resolution runs what `llm-extract events --out` runs: `read_mentions`
(each result validated, only its mentions kept: read s), `iter_events` (resolve s, on one
core since it is single-threaded, and µs per mention; also in CPU seconds, the steadier
figure on a shared machine), each event written as a JSONL line as it comes (write s); peak RSS of the whole process, after reading and at the end; the
quality against the known events (B³ F1). Export runs what `llm-extract export` runs
(whole results read, resolved, written) to Parquet and to DuckDB on the same corpus.
Targets: 100k mentions resolved in under 30 s and under 1 GB RSS; time growing close to
linearly (the µs per mention column stays flat).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, machine_line, print_table
from event_corpus import generate


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(task: str, results: Path, truth: Path | None, out: Path | None) -> dict[str, Any]:
    """One measurement, as the CLI runs it: `events --out` (read the mentions, resolve,
    write each event as it comes) or `export --to parquet|duckdb` (whole results)."""
    if task == "resolve":
        assert out is not None and truth is not None
        return _resolve(results, truth, out)
    from llm_extract.events import aggregate_positions, resolve_events
    from llm_extract.export import Corpus, export
    from llm_extract.results import read_results

    assert out is not None
    started = time.perf_counter()
    found = read_results([results])
    figures: dict[str, Any] = {"read_s": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    events = resolve_events(found.results)
    figures["resolve_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    export(Corpus(found.results, events, aggregate_positions(found.results)), task, out)
    figures["export_s"] = round(time.perf_counter() - started, 2)
    figures["peak_mb"] = round(_peak_mb())
    return figures


def _resolve(results: Path, truth: Path, out: Path) -> dict[str, Any]:
    from llm_extract.coref import b_cubed
    from llm_extract.events import iter_events, read_mentions

    started, started_cpu = time.perf_counter(), time.process_time()
    found = read_mentions([results])
    figures: dict[str, Any] = {
        "read_s": round(time.perf_counter() - started, 2),
        "read_cpu_s": round(time.process_time() - started_cpu, 2),
        "read_peak_mb": round(_peak_mb()),
    }
    response: list[set[str]] = []
    writing = writing_cpu = 0.0
    started, started_cpu = time.perf_counter(), time.process_time()
    with out.open("w", encoding="utf-8") as handle:
        for event in iter_events(found.articles):
            response.append({m.id for m in event.mentions})
            line, line_cpu = time.perf_counter(), time.process_time()
            handle.write(event.model_dump_json() + "\n")
            writing += time.perf_counter() - line
            writing_cpu += time.process_time() - line_cpu
    figures["resolve_s"] = round(time.perf_counter() - started - writing, 2)
    figures["resolve_cpu_s"] = round(time.process_time() - started_cpu - writing_cpu, 2)
    figures["write_s"] = round(writing, 2)
    figures["peak_mb"] = round(_peak_mb())
    figures["events"] = len(response)
    key: dict[str, set[str]] = defaultdict(set)
    for mention, event_id in json.loads(truth.read_text("utf-8")).items():
        key[event_id].add(mention)
    figures["b3_f1"] = round(b_cubed(list(key.values()), response).f1, 4)
    return figures


def _measure(task: str, results: Path, truth: Path, out: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", task, str(results), str(truth), str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{task} on {results.name} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,300000")
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, results, truth, out = args.child
        print(json.dumps(_child(task, Path(results), Path(truth), Path(out))))
        return
    facts = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-events-") as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            raw, truth = generate(size)
            results, truth_path = Path(scratch) / f"{size}.jsonl", Path(scratch) / f"{size}.json"
            with results.open("w", encoding="utf-8") as handle:
                for result in raw:
                    handle.write(json.dumps(result, ensure_ascii=False) + "\n")
            truth_path.write_text(json.dumps(truth), "utf-8")
            mentions = len(truth)
            del raw, truth
            row: dict[str, Any] = {"mentions": mentions, "results": sum(1 for _ in results.open())}
            row.update(_measure("resolve", results, truth_path, Path(scratch) / "events.jsonl"))
            row["us_per_mention"] = round(row["resolve_s"] / mentions * 1e6)
            row["cpu_us_per_mention"] = round(row["resolve_cpu_s"] / mentions * 1e6)
            if not args.no_export:
                for task, out in (("parquet", "pq"), ("duckdb", "db.duckdb")):
                    figures = _measure(task, results, truth_path, Path(scratch) / f"{size}-{out}")
                    row[f"{task}_s"] = figures["export_s"]
                    row[f"{task}_peak_mb"] = figures["peak_mb"]
            rows.append(row)
    if args.json:
        print(json.dumps({"machine": facts, "rows": rows}, indent=2))
        return
    print(machine_line(facts))
    columns = [
        "mentions",
        "results",
        "events",
        "b3_f1",
        "read_s",
        "resolve_s",
        "us_per_mention",
        "resolve_cpu_s",
        "cpu_us_per_mention",
        "write_s",
        "read_peak_mb",
        "peak_mb",
    ]
    if not args.no_export:
        columns += ["parquet_s", "parquet_peak_mb", "duckdb_s", "duckdb_peak_mb"]
    print_table(
        "Event resolution and export", columns, [[r.get(c, "") for c in columns] for r in rows]
    )


if __name__ == "__main__":
    main()
