"""Peak memory of `llm-extract batch prepare` (and optionally `collect`) as the input grows.

    .venv/bin/python benchmarks/memory.py [--sizes 1000,10000] [--collect] [--json]

Each size gets its own folder of articles made from the seeds, and the command
runs in its own process; its peak resident set size comes from the kernel
(`wait4`'s rusage). Target: flat as the input grows, and under 300 MB.
`--collect` also collects a vLLM-style output file answering every request with
the seed's gold extraction (no endpoint: nothing is re-asked), which runs the
whole pipeline per article and takes a few ms each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_MODEL, gold_answers, machine, machine_line, make_articles, print_table

LLM_EXTRACT = Path(sys.executable).with_name("llm-extract")


def measure(command: list[str]) -> dict[str, Any]:
    """Run a command in its own process: peak RSS (MB), wall and CPU seconds, exit code."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-500:]
            raise RuntimeError(f"{' '.join(command[:3])} failed: {tail}")
    return {
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "exit": proc.returncode,
    }


def vllm_output(requests: list[Path], out: Path) -> None:
    """Answer every request line with its seed's gold extraction, as vLLM's run_batch writes."""
    answers = gold_answers()
    with out.open("w", encoding="utf-8") as sink:
        for path in requests:
            with path.open(encoding="utf-8") as lines:
                for number, raw in enumerate(lines):
                    line = json.loads(raw)
                    user = line["body"]["messages"][-1]["content"]
                    gold = next(g for ps, g in answers if any(p in user for p in ps))
                    body = {
                        "id": f"chatcmpl-{number}", "object": "chat.completion", "created": 0,
                        "model": BENCH_MODEL,
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {
                            "role": "assistant",
                            "content": json.dumps(gold, ensure_ascii=False)}}],
                        "usage": {"prompt_tokens": 9000, "completion_tokens": 900,
                                  "total_tokens": 9900},
                    }  # fmt: skip
                    item = {"id": f"vllm-{number}", "custom_id": line["custom_id"], "error": None,
                            "response": {"status_code": 200, "request_id": f"vllm-batch-{number}",
                                         "body": body}}  # fmt: skip
                    sink.write(json.dumps(item, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--collect", action="store_true", help="Also measure batch collect.")
    parser.add_argument("--json", action="store_true", help="Machine-readable output.")
    args = parser.parse_args()
    rows = []
    baseline = measure([str(LLM_EXTRACT), "--version"])
    rows.append({"command": "llm-extract --version", "articles": 0, **baseline, "output_mb": 0})
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="llm-extract-bench-") as tmp:
            work = Path(tmp)
            make_articles(size, work / "articles")
            out = work / "requests.jsonl"
            prepared = measure([str(LLM_EXTRACT), "batch", "prepare", str(work / "articles"),
                                "-m", BENCH_MODEL, "-o", str(out)])  # fmt: skip
            files = sorted(work.glob("requests*.jsonl"))
            size_mb = sum(p.stat().st_size for p in files) / 1e6
            rows.append({"command": f"batch prepare ({len(files)} files)", "articles": size,
                         **prepared, "output_mb": size_mb})  # fmt: skip
            if args.collect:
                answers = work / "fixture-vllm-output.jsonl"
                vllm_output(files, answers)
                results = work / "results.jsonl"
                collected = measure([str(LLM_EXTRACT), "batch", "collect",
                                     str(work / "articles"), "-m", BENCH_MODEL, "-o",
                                     str(results), "--responses", str(answers), "--no-log"])  # fmt: skip
                ok = sum(1 for line in results.open() if '"status":"ok"' in line)
                rows.append({"command": f"batch collect ({ok} ok)", "articles": size,
                             **collected, "output_mb": results.stat().st_size / 1e6})  # fmt: skip
    report = {"machine": machine(), "rows": rows, "target_mb": 300}
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(machine_line(report["machine"]) + "\n")
    print_table(
        "Peak RSS per command (target: flat, under 300 MB)",
        ["command", "articles", "peak RSS MB", "wall s", "cpu s", "output MB"],
        [[r["command"], r["articles"], r["peak_rss_mb"], r["wall_s"], r["cpu_s"], r["output_mb"]]
         for r in rows],
    )  # fmt: skip


if __name__ == "__main__":
    main()
