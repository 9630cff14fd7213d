"""Turning stored meter-days into consumption intervals (pure, numpy).

Values are summed per interval in local time (Europe/London) for day and
coarser granularities (hours align in UTC and local time). Missing periods are
never filled: an interval with no value at all is ``None``, and every
aggregate carries its coverage - the share of the expected supply-point
periods that had a value - so partial sums are visible, for one site as for
a portfolio of hundreds.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal

import numpy as np
import pandas as pd

from shared.hh import LONDON, PERIOD, local_midnight_utc, periods_in_day

Granularity = Literal["hh", "hour", "day", "week", "month"]
GRANULARITIES: tuple[str, ...] = ("hh", "hour", "day", "week", "month")

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


# --- Month arrays: the read-optimised layout -------------------------------
#
# A supply point's month is one float64 array of every period of its local
# settlement days, in order (NaN = not received) with one quality character
# per period ("-" where nothing was received). Settlement days are contiguous
# in UTC, so a month is a contiguous run of the UTC half-hour grid starting at
# the local midnight of its first day: a year of a site is 12 rows, not 365.

MISSING_QUALITY = "-"


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> tuple[date, date]:
    """The first days of the months holding ``first`` and ``last``."""
    return month_of(first), month_of(last)


def month_length(month: date) -> int:
    return grid_length(local_midnight_utc(month), local_midnight_utc(next_month(month)))


def empty_month(month: date) -> tuple[np.ndarray, str]:
    n = month_length(month)
    return np.full(n, np.nan), MISSING_QUALITY * n


def patch_month(values: np.ndarray, quality: str, month: date, days: Sequence[tuple[date, np.ndarray, str]]) -> tuple[np.ndarray, str]:
    """The month with each (day, values, quality) written over its slot. A day
    of the wrong length (malformed upstream) is cut or padded with gaps so it
    can never spill into its neighbours."""
    values = values.copy()
    chars = list(quality)
    month_start = local_midnight_utc(month)
    for day, day_values, day_quality in days:
        offset = grid_length(month_start, local_midnight_utc(day))
        n = periods_in_day(day)
        fitted = np.full(n, np.nan)
        fitted[:min(n, len(day_values))] = day_values[:n]
        values[offset:offset + n] = fitted
        chars[offset:offset + n] = day_quality[:n].ljust(n, "A")
    return values, "".join(chars)


@dataclass(frozen=True)
class Block:
    """A month of one supply point ready to add onto a grid: values with gaps as
    0, and the present/estimated masks only when they are not trivial (most
    months are complete and unestimated, so adding them is one vector add)."""

    first: datetime
    kwh: np.ndarray
    present: np.ndarray | None
    estimated: np.ndarray | None

    @classmethod
    def decode(cls, month: date, blob: bytes, quality: str) -> "Block":
        values = np.frombuffer(blob, dtype="<f8")
        missing = np.isnan(values)
        gaps = bool(missing.any())
        flags = np.frombuffer(quality.encode(), dtype="S1")
        estimated = flags == b"E" if len(flags) == len(values) else np.zeros(len(values), dtype=bool)
        estimated &= ~missing
        return cls(local_midnight_utc(month), np.where(missing, 0.0, values) if gaps else values,
                   ~missing if gaps else None, estimated if estimated.any() else None)

    @property
    def nbytes(self) -> int:
        return self.kwh.nbytes + sum(m.nbytes for m in (self.present, self.estimated) if m is not None)


def accumulate_blocks(blocks: Iterable[Block], start: datetime, end: datetime) -> Series:
    """Sum month blocks (of any number of supply points) onto the grid of [start, end)."""
    n = grid_length(start, end)
    kwh, present, estimated = np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    complete: dict[tuple[int, int], int] = {}  # slice -> how many complete blocks cover it
    offsets: dict[datetime, int] = {}
    for b in blocks:
        offset = offsets.get(b.first)
        if offset is None:
            offset = offsets[b.first] = grid_length(start, b.first)
        lo, hi = max(offset, 0), min(offset + len(b.kwh), n)
        if lo >= hi:
            continue
        kwh[lo:hi] += b.kwh[lo - offset:hi - offset]
        if b.present is None:
            complete[lo, hi] = complete.get((lo, hi), 0) + 1
        else:
            present[lo:hi] += b.present[lo - offset:hi - offset]
        if b.estimated is not None:
            estimated[lo:hi] += b.estimated[lo - offset:hi - offset]
    for (lo, hi), count in complete.items():
        present[lo:hi] += count
    return Series(start, kwh, present, estimated)


# --- Aggregation -----------------------------------------------------------


@dataclass(frozen=True)
class Intervals:
    """Aggregated intervals as columns (UTC instants as datetime64[s]); cheap to
    encode even for a year of half-hours."""

    starts: np.ndarray
    ends: np.ndarray
    kwh: np.ndarray
    present: np.ndarray
    coverage: np.ndarray
    estimated: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def rows(self) -> list[Interval]:
        as_utc = lambda a: [d.replace(tzinfo=timezone.utc) for d in a.astype("datetime64[us]").tolist()]  # noqa: E731
        return [Interval(s, e, v if p else None, c, bool(est)) for s, e, v, p, c, est in zip(
            as_utc(self.starts), as_utc(self.ends), self.kwh.tolist(), self.present.tolist(),
            self.coverage.tolist(), self.estimated.tolist())]


_STEP: dict[str, Callable[[date], date]] = {
    "day": lambda d: d + timedelta(days=1), "week": lambda d: d + timedelta(days=7), "month": lambda d: next_month(d),
}


def _utc64(instant: datetime) -> np.datetime64:
    return np.datetime64(instant.astimezone(timezone.utc).replace(tzinfo=None), "s")


def _boundaries(start: datetime, end: datetime, granularity: Granularity) -> np.ndarray:
    """Grid indices where intervals start, for granularities coarser than hh."""
    n = grid_length(start, end)
    if granularity == "hour":
        # Whole hours align in UTC and local time; a range starting at :30 opens with a half hour.
        whole = np.arange(1 if start.minute == 30 else 0, n, 2)
        return np.concatenate(([0], whole)) if start.minute == 30 else whole
    step = _STEP[granularity]
    day = start.astimezone(LONDON).date()
    day = day - timedelta(days=day.weekday()) if granularity == "week" else day.replace(day=1) if granularity == "month" else day
    marks = [0]
    while (index := grid_length(start, local_midnight_utc(day := step(day)))) < n:
        if index > 0:
            marks.append(index)
    return np.array(marks, dtype=np.int64)


def aggregate_columns(series: Series, expected_points: int, granularity: Granularity) -> Intervals:
    """Intervals of ``granularity``, clipped to the queried range; coverage =
    site-periods with data / site-periods expected."""
    expected_points = max(expected_points, 1)
    n = len(series.kwh)
    grid = _utc64(series.start) + np.arange(n + 1) * np.timedelta64(1800, "s")
    if granularity == "hh":
        idx = np.arange(n)
        kwh, present, estimated, slots = series.kwh, series.present, series.estimated, np.ones(n, dtype=np.int64)
    elif n == 0:
        idx = np.zeros(0, dtype=np.int64)
        kwh = present = estimated = slots = idx
    else:
        idx = _boundaries(series.start, series.start + n * PERIOD, granularity)
        kwh = np.add.reduceat(series.kwh, idx)
        present = np.add.reduceat(series.present, idx)
        estimated = np.add.reduceat(series.estimated, idx)
        slots = np.diff(np.append(idx, n))
    return Intervals(grid[idx], grid[np.append(idx[1:], n)] if len(idx) else grid[:0], kwh, present,
                     np.round(present / (slots * expected_points), 4), estimated > 0)


def local_labels(instants: np.ndarray) -> list[str]:
    """ISO 8601 Europe/London labels with offset (as ``shared.hh.local_label``) of
    UTC datetime64 instants, vectorised: one time-zone conversion for the lot."""
    utc = instants.astype("datetime64[s]")
    offsets = (pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(LONDON).tz_localize(None).to_numpy()
               - utc).astype("timedelta64[s]").astype(np.int64)
    local = np.datetime_as_string(utc + offsets.astype("timedelta64[s]"), unit="s")
    suffixes = {int(o): f"{'+' if o >= 0 else '-'}{abs(int(o)) // 3600:02d}:{abs(int(o)) % 3600 // 60:02d}"
                for o in np.unique(offsets)}
    return [f"{label}{suffixes[o]}" for label, o in zip(local.tolist(), offsets.tolist())]


def aggregate(series: Series, expected_points: int, granularity: Granularity) -> list[Interval]:
    return aggregate_columns(series, expected_points, granularity).rows()


def totals(series: Series, expected_points: int) -> tuple[float | None, float]:
    """(total kWh or None when nothing was received, overall coverage)."""
    slots = len(series.kwh) * max(expected_points, 1)
    present = int(series.present.sum())
    return (float(series.kwh.sum()) if present else None), (round(present / slots, 4) if slots else 0.0)


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
