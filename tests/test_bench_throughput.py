"""The throughput benchmark's RPM verdict, ideal and repeat median: pure functions of numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from throughput import ideal_per_s, pacing, repeated

EVEN = [i * 0.1 for i in range(100)]  # 600 requests/min, evenly spaced


def test_even_arrivals_at_the_cap_need_a_bucket_of_one() -> None:
    seen = pacing(EVEN, 600)
    assert seen["rpm_observed"] == pytest.approx(600)
    assert seen["rpm_burst"] == pytest.approx(1)
    assert seen["rpm_kept"] is True


def test_a_late_first_request_neither_raises_the_rate_nor_breaks_the_cap() -> None:
    # what the loopback runs show: the first arrival 30 ms after its slot
    seen = pacing([0.03, *EVEN[1:]], 600)
    assert (len(EVEN) - 1) / (EVEN[-1] - 0.03) * 60 > 601  # the old span estimate
    assert seen["rpm_observed"] == pytest.approx(600)
    assert seen["rpm_burst"] == pytest.approx(1.3)
    assert seen["rpm_kept"] is True


def test_a_burst_breaks_the_cap() -> None:
    seen = pacing([0.0] * 5 + EVEN[5:], 600)
    assert seen["rpm_burst"] == pytest.approx(5)
    assert seen["rpm_kept"] is False


def test_a_steady_excess_breaks_the_cap_before_the_burst_shows_it() -> None:
    seen = pacing([i * 0.099 for i in range(100)], 600)  # 1% over the cap
    assert seen["rpm_burst"] < 2
    assert seen["rpm_observed"] == pytest.approx(606.06, abs=0.01)
    assert seen["rpm_kept"] is False


def test_without_a_cap_only_the_rate() -> None:
    assert pacing(EVEN, None) == {
        "rpm_cap": None,
        "rpm_observed": pytest.approx(600),
        "rpm_burst": None,
        "rpm_kept": None,
    }


def test_ideal_is_c_over_l_unpaced_and_counts_the_last_call_when_paced() -> None:
    assert ideal_per_s(640, 64, 1.0, None) == pytest.approx(64)
    assert ideal_per_s(8, 1, 0.25, None) == pytest.approx(4)
    # 100 starts 0.1 s apart, the last answer 1 s after the last start
    assert ideal_per_s(100, 64, 1.0, 600) == pytest.approx(100 / 10.9)
    # 4 in flight, starts 10 ms apart: 16 rounds of 1 s, the last call 30 ms into its round
    assert ideal_per_s(64, 4, 1.0, 6000) == pytest.approx(64 / 16.03)


def test_repeated_runs_in_rounds_and_keeps_the_median_run() -> None:
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

    a, b = repeated([row("a"), row("b")], 3)
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert (a["articles_per_s"], a["run"], a["runs"]) == (2.0, 5, 3)
    assert a["articles_per_s_runs"] == [3.0, 1.0, 2.0]
    assert a["rpm_kept_runs"] is None
    assert (b["articles_per_s"], b["rpm_kept_runs"]) == (5.0, 2)
