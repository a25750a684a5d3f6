"""What the benchmarks share: articles made from the seeds, their gold answers, the server,
the machine's facts and the table printing."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
GOLD = ROOT / "evals" / "gold"
BENCH_MODEL = "fixture-bench"
"""The loopback server's model: it answers with the seeds' gold extractions."""
BENCH_KEY = "sk-test-bench"


def make_articles(count: int, folder: Path) -> list[Path]:
    """`count` article files cycling through the seeds, each text unique (a numbered last line).

    Unique texts keep per-text caches (the grounding index) as cold as real articles.
    """
    folder.mkdir(parents=True, exist_ok=True)
    texts = [seed.read_text("utf-8").rstrip("\n") for seed in SEEDS]
    paths = []
    for number in range(count):
        path = folder / f"bench-{number:05d}.txt"
        path.write_text(f"{texts[number % len(texts)]}\n\nМатериал {number}.\n", "utf-8")
        paths.append(path)
    return paths


def gold_answers() -> list[tuple[list[str], dict[str, Any]]]:
    """(the seed's long paragraphs, its gold extraction as a model would return it: no offsets)."""
    answers = []
    for seed in SEEDS:
        gold = json.loads((GOLD / f"{seed.stem}.json").read_text("utf-8"))
        for kind in ("meetings", "positions"):
            for record in gold.get(kind, []):
                for evidence in record.get("evidence", []):
                    for key in ("start", "end", "match"):
                        evidence.pop(key, None)
                quote = record.get("quote")
                if quote:
                    for key in ("start", "end", "match"):
                        quote.pop(key, None)
        paragraphs = [p for p in seed.read_text("utf-8").split("\n") if len(p) > 80]
        answers.append((paragraphs, gold))
    return answers


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "loop_ms": loop_ms(),
    }


def loop_ms() -> float:
    """CPU ms for a fixed pure-Python loop (best of 5): the machine's speed right now.

    A shared virtual machine runs the same code up to a quarter slower at times, which
    the load average does not show; figures from runs with different `loop_ms` differ
    by about as much.
    """
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        total = 0
        for number in range(1_000_000):
            total += number * number
        best = min(best, time.process_time() - start)
    return round(best * 1000, 1)


def machine_line(facts: dict[str, Any]) -> str:
    return (
        f"machine: {facts['nproc']} cores, {facts['cpu']}, Python {facts['python']}, "
        f"load average {facts['load_average_1m']} at the start, "
        f"speed: a 1M-step Python loop in {facts['loop_ms']} ms"
    )


@contextmanager
def bench_server(
    latency: float, fault_rate: float = 0.0, *, python: str = sys.executable
) -> Iterator[str]:
    """Start `benchmarks/server.py` in its own process (its CPU is not ours); yield its URL."""
    proc = subprocess.Popen(
        [python, str(Path(__file__).with_name("server.py")), "--latency", str(latency),
         "--fault-rate", str(fault_rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the benchmark server did not start (printed {url!r})")
        yield url
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the server exits when its stdin closes
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_stats(url: str, *, reset: bool = False) -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(
        f"{url}/stats{'/reset' if reset else ''}", method="POST" if reset else "GET"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(title)
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
    print()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
