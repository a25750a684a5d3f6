"""The throughput benchmark's RPM verdict, ideal and repeat median: pure functions of numbers."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """`benchmarks/throughput.py` imported by path. As a script it puts its folder first on
    `sys.path` to import `_common`; the folder and its modules leave again at once, so its
    `cache`, `server`, `memory` ... never shadow a top-level import in another test."""
    path, modules = list(sys.path), set(sys.modules)
    spec = importlib.util.spec_from_file_location("_bench_throughput", BENCHMARKS / "throughput.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if Path(getattr(sys.modules[name], "__file__", None) or "/").parent == BENCHMARKS:
                del sys.modules[name]
    return module


def test_importing_the_benchmark_leaves_no_trace(bench: ModuleType) -> None:
    assert str(BENCHMARKS) not in sys.path
    assert not [
        name
        for name, module in list(sys.modules.items())
        if Path(getattr(module, "__file__", None) or "/").parent == BENCHMARKS
    ]


EVEN = [i * 0.1 for i in range(100)]  # 600 requests/min, evenly spaced


def test_even_arrivals_at_the_cap_need_a_bucket_of_one(bench: ModuleType) -> None:
    seen = bench.pacing(EVEN, 600)
    assert seen["rpm_observed"] == pytest.approx(600)
    assert seen["rpm_burst"] == pytest.approx(1)
    assert seen["rpm_kept"] is True


def test_a_late_first_request_neither_raises_the_rate_nor_breaks_the_cap(bench: ModuleType) -> None:
    # what the loopback runs show: the first arrival 30 ms after its slot
    seen = bench.pacing([0.03, *EVEN[1:]], 600)
    # the old span estimate, (n - 1) / (last - first), reads 99 / 9.87 s = 601.8/min
    assert seen["rpm_observed"] == pytest.approx(600)
    assert seen["rpm_burst"] == pytest.approx(1.3)
    assert seen["rpm_kept"] is True


def test_a_burst_breaks_the_cap(bench: ModuleType) -> None:
    seen = bench.pacing([0.0] * 5 + EVEN[5:], 600)
    assert seen["rpm_burst"] == pytest.approx(5)
    assert seen["rpm_kept"] is False


def test_a_steady_excess_breaks_the_cap_before_the_burst_shows_it(bench: ModuleType) -> None:
    seen = bench.pacing([i * 0.099 for i in range(100)], 600)  # 1% over the cap
    assert seen["rpm_burst"] < 2
    assert seen["rpm_observed"] == pytest.approx(606.06, abs=0.01)
    assert seen["rpm_kept"] is False


def test_without_a_cap_only_the_rate(bench: ModuleType) -> None:
    assert bench.pacing(EVEN, None) == {
        "rpm_cap": None,
        "rpm_observed": pytest.approx(600),
        "rpm_burst": None,
        "rpm_kept": None,
    }


def test_ideal_is_c_over_l_unpaced_and_counts_the_last_call_when_paced(bench: ModuleType) -> None:
    assert bench.ideal_per_s(640, 64, 1.0, None) == pytest.approx(64)
    assert bench.ideal_per_s(8, 1, 0.25, None) == pytest.approx(4)
    # 100 starts 0.1 s apart, the last answer 1 s after the last start
    assert bench.ideal_per_s(100, 64, 1.0, 600) == pytest.approx(100 / 10.9)
    # 4 in flight, starts 10 ms apart: 16 rounds of 1 s, the last call 30 ms into its round
    assert bench.ideal_per_s(64, 4, 1.0, 6000) == pytest.approx(64 / 16.03)


def test_repeated_runs_in_rounds_and_keeps_the_median_run(bench: ModuleType) -> None:
    order: list[str] = []
    figures = {"a": iter([3.0, 1.0, 2.0]), "b": iter([5.0, 6.0, 4.0])}

    def row(name: str):
        def run() -> dict[str, object]:
            order.append(name)
            rate = next(figures[name])
            kept = name == "b" and rate != 6.0
            return {"client": name, "articles_per_s": rate, "run": len(order),
                    "rpm_cap": 600 if name == "b" else None, "rpm_kept": kept}  # fmt: skip

        return run

    (a, b), failure = bench.repeated([row("a"), row("b")], 3)
    assert failure is None
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert (a["articles_per_s"], a["run"], a["runs"]) == (2.0, 5, 3)
    assert a["articles_per_s_runs"] == [3.0, 1.0, 2.0]
    assert a["rpm_kept_runs"] is None
    assert (b["articles_per_s"], b["rpm_kept_runs"]) == (5.0, 2)


def test_a_failed_row_stops_the_runs_and_every_row_keeps_its_earlier_runs(
    bench: ModuleType,
) -> None:
    order: list[str] = []

    def row(name: str, fails_on: int | None = None) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            order.append(name)
            if order.count(name) == fails_on:
                raise bench._RowFailed("failed: the driver exited 1")
            return {"client": name, "articles_per_s": float(order.count(name)), "rpm_cap": None,
                    "rpm_kept": None}  # fmt: skip

        return run

    (a, b), failure = bench.repeated([row("a"), row("b", fails_on=2)], 3)
    assert failure == "run 2 of 3 failed: the driver exited 1"
    assert order == ["a", "b", "a", "b"]
    assert (a["runs"], a["articles_per_s_runs"]) == (2, [1.0, 2.0])
    assert (b["runs"], b["articles_per_s_runs"]) == (1, [1.0])
    order.clear()
    (a,), failure = bench.repeated([row("a"), row("b", fails_on=1)], 2)  # b never ran: left out
    assert (a["client"], a["runs"]) == ("a", 1)
    assert failure == "run 1 of 2 failed: the driver exited 1"
