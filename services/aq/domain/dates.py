"""Calendar-month arithmetic shared by the scalar and the vectorised rules.

The eligibility rules are phrased in months ("9 to 36 months"), so both the
scalar and the NumPy paths must use one definition of "n months after a day"
or they would disagree on month-end days. The definition here: same day of
the month n months later, clamped to the last day of a shorter month
(31 May + 9 months = 28/29 February).
"""
from __future__ import annotations

import calendar as _cal
from datetime import date, timedelta

import numpy as np

DAY = np.timedelta64(1, "D")


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the month end."""
    total = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(total, 12)
    last = _cal.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def add_months_array(days: np.ndarray, months: int) -> np.ndarray:
    """Vectorised :func:`add_months` over a ``datetime64[D]`` array."""
    month_start = days.astype("datetime64[M]")
    offset = (days - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + np.timedelta64(months, "M")
    month_len = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    return target.astype("datetime64[D]") + np.minimum(offset, month_len - 1) * DAY


def first_of_next_month(day: date) -> date:
    """The go-live day of anything decided on ``day`` ("the 1st of the following month")."""
    return add_months(day.replace(day=1), 1)


def gas_year_start(day: date) -> date:
    """1 October that opens the gas year containing ``day``."""
    year = day.year if day.month >= 10 else day.year - 1
    return date(year, 10, 1)


def date_range(start: date, end: date) -> list[date]:
    """Days in ``[start, end)``."""
    return [start + timedelta(days=i) for i in range((end - start).days)]
