"""``meterstream bench`` scenario for aq: the monthly Rolling AQ run over synthetic points,
next to a plain NumPy pass of the bare formula over the same arrays (target: within 3x).

Each side is timed in its own warm loop and the best of several runs is kept,
so neither pays for the other's cache misses or for first-touch page faults.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from services.aq.domain.calculation import monthly_run, plain_numpy_baseline
from services.aq.domain.synthetic import synthetic_points, synthetic_reference

POINTS = 1_000_000
AS_OF = date(2025, 9, 10)
RUNS = 5
TARGET_RATIO = 3.0


def _best_of(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: page in the arrays and the reference tables
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(scale: float) -> list[dict]:
    n = max(1000, int(POINTS * scale))
    reference = synthetic_reference()
    points = synthetic_points(n, reference, AS_OF)
    _ = (reference.weighted_cumsum, reference.next_gap)  # built once per reference set, not per run
    rules = _best_of(lambda: monthly_run(points, reference, AS_OF), RUNS)
    bare = _best_of(lambda: plain_numpy_baseline(points, reference), RUNS)
    ratio = rules / bare
    return [{
        "scenario": f"aq monthly run, {n:,} points (every eligibility rule, EUC, SOQ)",
        "measured": f"{rules * 1000:.0f} ms ({n / rules / 1e6:.1f} M points/s)",
        "baseline": f"{bare * 1000:.0f} ms plain NumPy formula over the same arrays",
        "ratio": round(ratio, 2),
        "target": f"within {TARGET_RATIO:.0f}x of the baseline",
        "ok": ratio <= TARGET_RATIO,
    }]
