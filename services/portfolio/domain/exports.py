"""Export layouts of portfolio data (pure row generators; gaps stay empty).

- ``long``: one row per supply point and half-hour (UTC start, local label, kWh, quality);
- ``wide``: one row per supply point and day, 50 period columns (46/48-period days
  leave the last columns empty);
- ``totals``: the portfolio summed at a chosen granularity, with coverage.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, Literal

import numpy as np

from services.portfolio.domain.consumption import Interval
from shared.hh import local_label, period_starts_utc, periods_in_day

Layout = Literal["long", "wide", "totals"]
LAYOUTS: tuple[str, ...] = ("long", "wide", "totals")
MAX_PERIODS = 50

Row = list[Any]
PointDay = tuple[str, str, str, date, np.ndarray | None, str | None]
"""(mpxn, site id, fuel, day, values or None when nothing was received, quality)."""

LONG_HEADER: Row = ["mpxn", "site_id", "fuel", "interval_start_utc", "interval_start_local", "kwh", "quality"]
WIDE_HEADER: Row = ["mpxn", "site_id", "fuel", "date", "periods"] + [f"p{i}" for i in range(1, MAX_PERIODS + 1)]
TOTALS_HEADER: Row = ["interval_start_utc", "interval_start_local", "interval_end_utc", "kwh", "coverage"]


def _value(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


def long_rows(days: Iterable[PointDay]) -> Iterator[Row]:
    for mpxn, site_id, fuel, day, values, quality in days:
        for i, start in enumerate(period_starts_utc(day)):
            present = values is not None and not np.isnan(values[i])
            yield [mpxn, site_id, fuel, start.isoformat(), local_label(start),
                   float(values[i]) if present else None, quality[i] if present and quality else None]


def wide_rows(days: Iterable[PointDay]) -> Iterator[Row]:
    for mpxn, site_id, fuel, day, values, _ in days:
        n = periods_in_day(day)
        cells = [_value(v) for v in values] if values is not None else [None] * n
        yield [mpxn, site_id, fuel, day.isoformat(), n, *cells, *([None] * (MAX_PERIODS - n))]


def totals_rows(intervals: Iterable[Interval]) -> Iterator[Row]:
    for i in intervals:
        yield [i.interval_start.isoformat(), local_label(i.interval_start), i.interval_end.isoformat(),
               i.consumption, i.coverage]
