"""Turning stored meter-days into consumption intervals (pure, numpy).

Values are summed per interval in local time (Europe/London) for hour and
coarser granularities. Missing periods are never filled: an interval with no
value at all is ``None``, and every aggregate carries its coverage (the share
of the interval's periods that had a value), so partial sums are visible.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal

import numpy as np
import pandas as pd

from shared.hh import LONDON, PERIOD, decode_values, local_midnight_utc

Granularity = Literal["hh", "hour", "day", "week", "month"]
GRANULARITIES: tuple[str, ...] = ("hh", "hour", "day", "week", "month")
_FREQ = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}


@dataclass(frozen=True)
class Interval:
    interval_start: datetime
    interval_end: datetime
    consumption: float | None
    coverage: float
    estimated: bool


def hh_frame(days: Iterable[tuple[date, bytes, str]], start: datetime, end: datetime) -> pd.DataFrame:
    """A half-hour grid from start (inclusive) to end (exclusive), UTC, with kWh
    (NaN where missing) and an estimated flag, filled from (day, blob, quality)."""
    starts = pd.date_range(start, end, freq="30min", inclusive="left", tz="UTC")
    kwh = np.full(len(starts), np.nan)
    est = np.zeros(len(starts), dtype=bool)
    base = starts[0] if len(starts) else None
    for day, blob, quality in days:
        values = decode_values(blob)
        first = int((local_midnight_utc(day) - base) / PERIOD)
        lo, hi = max(first, 0), min(first + len(values), len(starts))
        if lo < hi:
            kwh[lo:hi] = values[lo - first:hi - first]
            est[lo:hi] = np.frombuffer(quality.encode(), dtype="S1")[lo - first:hi - first] == b"E"
    return pd.DataFrame({"kwh": kwh, "estimated": est}, index=starts)


def aggregate(frame: pd.DataFrame, granularity: Granularity) -> list[Interval]:
    if granularity == "hh":
        return [
            Interval(ts.to_pydatetime(), (ts + PERIOD).to_pydatetime(), None if np.isnan(v) else float(v), 0.0 if np.isnan(v) else 1.0, bool(e))
            for ts, v, e in zip(frame.index, frame["kwh"].to_numpy(), frame["estimated"].to_numpy())
        ]
    # Hours align in UTC and local time (whole-hour offsets); days and longer are local.
    local = frame if granularity == "hour" else frame.tz_convert(LONDON)
    grouped = local.groupby(pd.Grouper(freq=_FREQ[granularity], label="left", closed="left"))
    out: list[Interval] = []
    first, last = frame.index[0], frame.index[-1] + PERIOD
    for label, part in grouped:
        if part.empty:
            continue
        present = part["kwh"].notna()
        n_present = int(present.sum())
        # Intervals are clipped to the queried range, so coverage is of what was asked.
        start = max(label, first).tz_convert(timezone.utc).to_pydatetime()
        end = min(_next_boundary(label, granularity), last).tz_convert(timezone.utc).to_pydatetime()
        expected = max(int(round((end - start) / PERIOD)), 1)
        out.append(Interval(
            start, end,
            float(part["kwh"].sum()) if n_present else None,
            round(n_present / expected, 4),
            bool(part["estimated"].any()),
        ))
    return out


def _next_boundary(label: pd.Timestamp, granularity: Granularity) -> pd.Timestamp:
    if granularity == "hour":
        return label + pd.Timedelta(hours=1)
    step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}[granularity]
    # Local midnights never fall in a clock change, so localising is unambiguous.
    return (label.tz_localize(None) + step).tz_localize(LONDON)


def day_range(start: datetime, end: datetime) -> tuple[date, date]:
    """Settlement days that can hold periods in [start, end)."""
    return (start.astimezone(LONDON).date() - timedelta(days=1), (end - timedelta(microseconds=1)).astimezone(LONDON).date())
