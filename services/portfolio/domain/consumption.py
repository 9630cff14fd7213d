"""Turning stored meter-days into consumption intervals (pure, numpy).

Values are summed per interval in local time (Europe/London) for day and
coarser granularities (hours align in UTC and local time). Missing periods are
never filled: an interval with no value at all is ``None``, and every
aggregate carries its coverage - the share of the expected supply-point
periods that had a value - so partial sums are visible, for one site as for
a portfolio of hundreds.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal

import numpy as np
import pandas as pd

from shared.hh import LONDON, PERIOD, local_midnight_utc

Granularity = Literal["hh", "hour", "day", "week", "month"]
GRANULARITIES: tuple[str, ...] = ("hh", "hour", "day", "week", "month")
_FREQ = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}

MeterDay = tuple[date, bytes, str]
"""(settlement date, float64 blob with NaN = missing, one quality character per period)."""


@dataclass(frozen=True)
class Interval:
    interval_start: datetime
    interval_end: datetime
    consumption: float | None
    coverage: float
    estimated: bool


@dataclass(frozen=True)
class Series:
    """Per half-hour of [start, end): summed kWh over the supply points that had
    a value, how many had one, and how many of those were estimated."""

    start: datetime
    kwh: np.ndarray
    present: np.ndarray
    estimated: np.ndarray

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=len(self.kwh), freq="30min", tz="UTC")


def grid_length(start: datetime, end: datetime) -> int:
    return int((end - start) / PERIOD)


def accumulate(days: Sequence[MeterDay], start: datetime, end: datetime) -> Series:
    """Sum meter-days (of any number of supply points) onto the half-hour grid of
    [start, end). Vectorised: one concatenation and three bincounts, whatever
    the number of rows."""
    n = grid_length(start, end)
    if not days:
        return Series(start, np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))
    offsets: dict[date, int] = {}
    firsts = np.empty(len(days), dtype=np.int64)
    lengths = np.empty(len(days), dtype=np.int64)
    for i, (day, blob, _) in enumerate(days):
        if day not in offsets:
            offsets[day] = int((local_midnight_utc(day) - start) / PERIOD)
        firsts[i] = offsets[day]
        lengths[i] = len(blob) // 8
    values = np.frombuffer(b"".join(d[1] for d in days), dtype="<f8")
    quality = np.frombuffer("".join(d[2] for d in days).encode(), dtype="S1")
    row_starts = np.cumsum(lengths) - lengths
    positions = np.repeat(firsts - row_starts, lengths) + np.arange(len(values))
    ok = (positions >= 0) & (positions < n) & ~np.isnan(values)
    if len(quality) != len(values):  # a malformed quality string must not misalign the flags
        quality = np.full(len(values), b"A", dtype="S1")
    pos = positions[ok]
    return Series(
        start,
        np.bincount(pos, weights=values[ok], minlength=n),
        np.bincount(pos, minlength=n),
        np.bincount(positions[ok & (quality == b"E")], minlength=n),
    )


def aggregate(series: Series, expected_points: int, granularity: Granularity) -> list[Interval]:
    """Intervals of ``granularity``; coverage = site-periods with data / site-periods expected."""
    expected_points = max(expected_points, 1)
    index = series.index
    frame = pd.DataFrame({"kwh": series.kwh, "present": series.present, "estimated": series.estimated, "slots": 1},
                         index=index)
    if granularity == "hh":
        return [
            Interval(ts.to_pydatetime(), (ts + PERIOD).to_pydatetime(), float(v) if p else None,
                     round(p / expected_points, 4), bool(e))
            for ts, v, p, e in zip(index, series.kwh.tolist(), series.present.tolist(), series.estimated.tolist())
        ]
    if not len(frame):
        return []
    local = frame if granularity == "hour" else frame.tz_convert(LONDON)
    grouped = local.groupby(pd.Grouper(freq=_FREQ[granularity], label="left", closed="left")).sum()
    grouped = grouped[grouped["slots"] > 0]
    labels = grouped.index
    # Intervals are clipped to the queried range, so coverage is of what was asked.
    starts = np.maximum(labels.tz_convert(timezone.utc), index[0])
    ends = np.minimum(_next_boundaries(labels, granularity).tz_convert(timezone.utc), index[-1] + PERIOD)
    present = grouped["present"].to_numpy()
    coverage = np.round(present / (grouped["slots"].to_numpy() * expected_points), 4)
    return [
        Interval(s.to_pydatetime(), e.to_pydatetime(), kwh if p else None, c, bool(est))
        for s, e, kwh, p, c, est in zip(starts, ends, grouped["kwh"].tolist(), present.tolist(), coverage.tolist(),
                                        grouped["estimated"].tolist())
    ]


def totals(series: Series, expected_points: int) -> tuple[float | None, float]:
    """(total kWh or None when nothing was received, overall coverage)."""
    slots = len(series.kwh) * max(expected_points, 1)
    present = int(series.present.sum())
    return (float(series.kwh.sum()) if present else None), (round(present / slots, 4) if slots else 0.0)


def _next_boundaries(labels: pd.DatetimeIndex, granularity: Granularity) -> pd.DatetimeIndex:
    if granularity == "hour":
        return labels + pd.Timedelta(hours=1)
    step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}[granularity]
    # Local midnights never fall in a clock change, so localising is unambiguous.
    return (labels.tz_localize(None) + step).tz_localize(LONDON)


def day_range(start: datetime, end: datetime) -> tuple[date, date]:
    """Settlement days that can hold periods in [start, end)."""
    return (start.astimezone(LONDON).date() - timedelta(days=1), (end - timedelta(microseconds=1)).astimezone(LONDON).date())


def shift_year(instant: datetime, years: int = -1) -> datetime:
    """The same local wall-clock time ``years`` away (29 Feb becomes 28 Feb)."""
    local = instant.astimezone(LONDON)
    try:
        moved = local.replace(year=local.year + years, tzinfo=None)
    except ValueError:
        moved = local.replace(year=local.year + years, day=28, tzinfo=None)
    return moved.replace(tzinfo=LONDON).astimezone(timezone.utc)
