"""Summing meter-days onto the half-hour grid, with coverage instead of silent partial sums."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from services.portfolio.domain.consumption import accumulate, aggregate, shift_year, totals
from services.portfolio.domain.portfolio import FuelChoiceError, choose_fuel
from shared.hh import encode_values, local_midnight_utc, periods_in_day

AUTUMN, SPRING = date(2024, 10, 27), date(2024, 3, 31)


def day(d: date, value: float | None, quality: str = "A"):
    n = periods_in_day(d)
    return d, encode_values([value] * n), quality * n


def test_two_points_sum_with_coverage_over_clock_change():
    start, end = local_midnight_utc(AUTUMN), local_midnight_utc(date(2024, 10, 28))
    s = accumulate([day(AUTUMN, 1.0), day(AUTUMN, None, "-")], start, end)
    assert len(s.kwh) == 50
    days = aggregate(s, 2, "day")
    assert len(days) == 1 and days[0].consumption == 50.0 and days[0].coverage == 0.5
    assert totals(s, 2) == (50.0, 0.5)
    hours = aggregate(s, 2, "hour")
    assert len(hours) == 25 and all(h.consumption == 2.0 for h in hours)


def test_gaps_are_none_never_zero():
    start, end = local_midnight_utc(SPRING), local_midnight_utc(date(2024, 4, 2))
    s = accumulate([day(SPRING, 0.5, "E")], start, end)
    hh = aggregate(s, 1, "hh")
    assert len(hh) == 46 + 48
    assert hh[0].estimated and hh[0].consumption == 0.5 and hh[0].coverage == 1.0
    assert all(i.consumption is None and i.coverage == 0 for i in hh[46:])
    assert [d.consumption for d in aggregate(s, 1, "day")] == [23.0, None]
    assert totals(accumulate([], start, end), 3) == (None, 0.0)


def test_rows_outside_the_range_are_clipped():
    start = local_midnight_utc(date(2024, 1, 2)) + (local_midnight_utc(date(2024, 1, 3)) - local_midnight_utc(date(2024, 1, 2))) / 2
    end = local_midnight_utc(date(2024, 1, 3))
    s = accumulate([day(date(2024, 1, 1), 9.0), day(date(2024, 1, 2), 1.0)], start, end)
    assert s.kwh.sum() == 24.0 and np.all(s.present == 1)


def test_month_intervals_and_last_year_shift():
    start, end = local_midnight_utc(date(2024, 2, 15)), local_midnight_utc(date(2024, 4, 1))
    months = aggregate(accumulate([], start, end), 1, "month")
    assert [(m.interval_start, m.interval_end) for m in months] == [
        (start, local_midnight_utc(date(2024, 3, 1))), (local_midnight_utc(date(2024, 3, 1)), end)]
    assert shift_year(local_midnight_utc(date(2024, 2, 29))) == local_midnight_utc(date(2023, 2, 28))


def test_fuel_needed_only_with_both():
    assert choose_fuel(["gas"], None) == "gas"
    assert choose_fuel(["electricity", "gas"], "gas") == "gas"
    with pytest.raises(FuelChoiceError, match="both"):
        choose_fuel(["electricity", "gas"], None)
    with pytest.raises(FuelChoiceError, match="no gas"):
        choose_fuel(["electricity"], "gas")
