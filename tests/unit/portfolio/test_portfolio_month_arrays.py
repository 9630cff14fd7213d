"""The month-array layout: patching meter-days in, summing month blocks onto a
grid exactly as summing the meter-days themselves, and vectorised local labels."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np

from services.portfolio.domain.consumption import (
    Block, accumulate, accumulate_blocks, aggregate, empty_month, local_labels, month_length, month_of, patch_month,
)
from shared.hh import PERIOD, encode_values, local_label, local_midnight_utc, periods_in_day


def _random_days(rng, first: date, n_days: int):
    out = []
    for d in (first + timedelta(days=i) for i in range(n_days)):
        if rng.random() < 0.1:
            continue  # a day never received
        n = periods_in_day(d)
        values = rng.gamma(2, 0.5, n)
        values[rng.random(n) < 0.05] = np.nan
        out.append((d, values, "".join(rng.choice(list("AAAE"), n))))
    return out


def _months(days) -> list[Block]:
    by_month: dict[date, list] = {}
    for d, v, q in days:
        by_month.setdefault(month_of(d), []).append((d, v, q))
    blocks = []
    for month, month_days in by_month.items():
        values, quality = patch_month(*empty_month(month), month, month_days)
        blocks.append(Block.decode(month, values.tobytes(), quality))
    return blocks


def test_month_lengths_follow_clock_changes():
    assert month_length(date(2024, 3, 1)) == 31 * 48 - 2
    assert month_length(date(2024, 10, 1)) == 31 * 48 + 2
    assert month_length(date(2024, 2, 1)) == 29 * 48


def test_patching_places_each_day_at_its_periods_and_cuts_malformed_days():
    month = date(2024, 10, 1)
    values, quality = patch_month(*empty_month(month), month, [(date(2024, 10, 27), np.ones(50), "E" * 50)])
    offset = (local_midnight_utc(date(2024, 10, 27)) - local_midnight_utc(month)) // PERIOD
    assert np.all(values[offset:offset + 50] == 1) and np.isnan(values[:offset]).all() and np.isnan(values[offset + 50:]).all()
    assert quality[offset:offset + 50] == "E" * 50 and set(quality[:offset]) == {"-"}
    # A day of the wrong length never spills into the next one.
    values, _ = patch_month(values, quality, month, [(date(2024, 10, 26), np.full(60, 2.0), "A" * 60)])
    assert np.all(values[offset:offset + 50] == 1)


def test_month_blocks_sum_exactly_like_meter_days():
    rng = np.random.default_rng(3)
    points = [_random_days(rng, date(2023, 12, 20), 420) for _ in range(4)]
    day_rows = [(d, encode_values([None if np.isnan(x) else x for x in v]), q) for days in points for d, v, q in days]
    blocks = [b for days in points for b in _months(days)]
    for start, end in [(local_midnight_utc(date(2024, 1, 1)), local_midnight_utc(date(2025, 1, 1))),
                       (local_midnight_utc(date(2024, 3, 30)) + 3 * PERIOD, local_midnight_utc(date(2024, 10, 28)) + PERIOD)]:
        expected, got = accumulate(day_rows, start, end), accumulate_blocks(blocks, start, end)
        assert np.allclose(expected.kwh, got.kwh)
        assert np.array_equal(expected.present, got.present) and np.array_equal(expected.estimated, got.estimated)
        for granularity in ("hh", "hour", "day", "week", "month"):
            assert aggregate(expected, 4, granularity) == aggregate(got, 4, granularity) or all(
                (a.interval_start, a.interval_end, a.coverage, a.estimated) == (b.interval_start, b.interval_end, b.coverage, b.estimated)
                and (a.consumption is None) == (b.consumption is None)
                and (a.consumption is None or abs(a.consumption - b.consumption) < 1e-9)
                for a, b in zip(aggregate(expected, 4, granularity), aggregate(got, 4, granularity), strict=True))


def test_hours_from_a_half_hour_start_open_with_the_half_hour():
    start = local_midnight_utc(date(2024, 6, 1)) + PERIOD
    s = accumulate_blocks(_months([(date(2024, 6, 1), np.ones(48), "A" * 48)]), start, start + 5 * PERIOD)
    hours = aggregate(s, 1, "hour")
    assert [h.consumption for h in hours] == [1.0, 2.0, 2.0]
    assert hours[0].interval_start == start and hours[0].interval_end == start + PERIOD


def test_local_labels_match_the_scalar_label_across_clock_changes():
    instants = [datetime(2024, 10, 26, 23, tzinfo=timezone.utc) + i * PERIOD for i in range(8)]
    instants += [datetime(2024, 3, 31, 0, tzinfo=timezone.utc) + i * PERIOD for i in range(4)]
    as64 = np.array([np.datetime64(i.replace(tzinfo=None), "s") for i in instants])
    assert local_labels(as64) == [local_label(i) for i in instants]
