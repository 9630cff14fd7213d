"""The AQ formula: hand-computed examples, eligibility table, properties and the vectorised run."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.aq.domain.calculation import (
    NO_DAY,
    FailureReason,
    PointFacts,
    ReadPeriod,
    calculate_aq,
    calculate_winter_consumption,
    hh_energy_kwh,
    monthly_run,
    plain_numpy_baseline,
    reason_of,
    register_energy_kwh,
    soq_kwh,
)
from services.aq.domain.dates import add_months, add_months_array, date_range
from services.aq.domain.synthetic import synthetic_points
from shared.hh import periods_in_day

POINT = PointFacts(ldz="EA", euc="01B", meter_class=4, registered_on=date(2015, 1, 1))


def test_worked_example_weather_correction(flat) -> None:
    """ALP 1, DAF -0.02, weather 2 degrees colder than normal: each day weighs 1 x (1 + 0.04) = 1.04."""
    reference = flat(alp=1.0, daf=-0.02, actual=8.0, normal=10.0)
    period = ReadPeriod(date(2022, 4, 1), date(2023, 4, 1), 100_000.0)  # 365 gas days
    outcome = calculate_aq(POINT, period, reference, date(2023, 4, 10), previous_aq_kwh=1.0)
    assert outcome.calculated
    assert outcome.aq_kwh == pytest.approx(100_000 * 365 / (365 * 1.04))  # 96,153.85
    assert outcome.euc == "02B"


def test_worked_example_leap_year(flat) -> None:
    """1 Mar 2023 - 1 Mar 2024 holds 29 Feb: 366 gas days, so 36,600 kWh is an AQ of 36,500."""
    reference = flat()
    period = ReadPeriod(date(2023, 3, 1), date(2024, 3, 1), 36_600.0)
    outcome = calculate_aq(POINT, period, reference, date(2024, 3, 10), previous_aq_kwh=1.0)
    assert outcome.aq_kwh == pytest.approx(36_500.0)


def test_worked_example_seasonal_profile_soq_and_euc(flat) -> None:
    """Jan-Mar 2024 (91 days) ALP 1.2, DAF -0.1, 1 degree warmer; Apr-Sep (183 days) ALP 0.9, normal weather.

    Denominator = 91 x 1.2 x (1 - 0.1) + 183 x 0.9 = 98.28 + 164.7 = 262.98;
    E = 262,980 kWh gives AQ = 365,000 (EUC 03B), SOQ = 365,000 / (365 x 0.39) = 2,564.10.
    """
    reference = flat(alp=0.9)
    row = reference.day_index(date(2024, 1, 1)), reference.day_index(date(2024, 4, 1))
    reference.alp[:, :, row[0] : row[1]] = 1.2
    reference.daf[:, :, row[0] : row[1]] = -0.1
    reference.cwv_actual[:, row[0] : row[1]] = 11.0
    point = PointFacts(ldz="EA", euc="03B", meter_class=4, registered_on=date(2015, 1, 1))
    period = ReadPeriod(date(2024, 1, 1), date(2024, 10, 1), 262_980.0)  # exactly 9 months
    outcome = calculate_aq(point, period, reference, date(2024, 10, 10), previous_aq_kwh=1.0)
    assert outcome.aq_kwh == pytest.approx(365_000.0)
    assert outcome.euc == "03B"
    assert outcome.soq_kwh == pytest.approx(1000 / 0.39)


def test_worked_example_hh_data_across_both_clock_changes(flat) -> None:
    """1 Mar - 1 Dec 2024 spans 31 Mar (46 periods) and 27 Oct (50): 275 gas days whatever the clock.

    0.5 kWh every half hour is 24 kWh a day, 23 and 25 on the change days, so
    E = 275 x 24 = 6,600 kWh and the AQ is 24 x 365 = 8,760 kWh.
    """
    days = date_range(date(2024, 3, 1), date(2024, 12, 1))
    assert {periods_in_day(d) for d in days} == {46, 48, 50}
    energy = hh_energy_kwh([[0.5] * periods_in_day(d) for d in days])
    assert energy == pytest.approx(6_600.0)
    outcome = calculate_aq(POINT, ReadPeriod(days[0], days[-1] + timedelta(days=1), energy), flat(), date(2024, 12, 10), 1.0)
    assert outcome.aq_kwh == pytest.approx(8_760.0)


def test_hh_gap_is_missing_not_zero() -> None:
    assert hh_energy_kwh([[1.0] * 48, [1.0] * 47 + [None]]) is None


def test_register_energy_conversion(flat) -> None:
    reference = flat()
    assert register_energy_kwh(1_000.0, 1_100.0, "m3", 39.5, reference) == pytest.approx(100 * 1.02264 * 39.5 / 3.6)
    assert register_energy_kwh(10.0, 25.0, "kWh", 39.5, reference) == 15.0
    assert register_energy_kwh(1_100.0, 1_000.0, "m3", 39.5, reference) < 0
    with pytest.raises(ValueError):
        register_energy_kwh(0.0, 1.0, "ft3", 39.5, reference)


END = date(2024, 6, 15)
AS_OF = date(2024, 7, 10)
GOOD = ReadPeriod(date(2023, 6, 15), END, 10_000.0)


def _point(**changes) -> PointFacts:
    return PointFacts(**{**POINT.__dict__, **changes})


@pytest.mark.parametrize(
    ("point", "period", "expected"),
    [
        (POINT, GOOD, None),
        (POINT, ReadPeriod(date(2023, 9, 15), END, 1.0), None),  # exactly 9 months
        (POINT, ReadPeriod(date(2023, 9, 16), END, 1.0), FailureReason.PERIOD_TOO_SHORT),
        (POINT, ReadPeriod(date(2021, 6, 15), END, 1.0), None),  # exactly 36 months
        (POINT, ReadPeriod(date(2021, 6, 14), END, 1.0), FailureReason.PERIOD_TOO_LONG),
        (POINT, ReadPeriod(date(2023, 5, 31), date(2024, 2, 29), 1.0), None),  # 31 May + 9 months = 29 Feb
        (_point(registered_on=date(2023, 10, 10)), GOOD, None),  # registered exactly 9 months before
        (_point(registered_on=date(2023, 10, 11)), GOOD, FailureReason.NEW_POINT),
        (_point(isolated=True), GOOD, FailureReason.ISOLATED),
        (_point(backstop_date=date(2023, 6, 15)), GOOD, None),
        (_point(backstop_date=date(2023, 6, 16)), GOOD, FailureReason.READ_BEFORE_BACKSTOP),
        (_point(reconnected_on=date(2023, 6, 15)), GOOD, None),  # reconnection read starts the period
        (_point(reconnected_on=date(2023, 6, 16)), GOOD, FailureReason.RECONNECTION_IN_PERIOD),
        (_point(reconnected_on=END), GOOD, FailureReason.RECONNECTION_IN_PERIOD),
        (_point(reconnected_on=END + timedelta(days=1)), GOOD, None),
        # A gap that voided the reads before the start read: any long-enough period would span it.
        (_point(consumption_gap=date(2023, 12, 1)), ReadPeriod(date(2023, 12, 2), END, 1.0),
         FailureReason.CONSUMPTION_GAP),
        (_point(consumption_gap=date(2023, 12, 2)), ReadPeriod(date(2023, 12, 2), END, 1.0),
         FailureReason.PERIOD_TOO_SHORT),  # not before the start read: the gap did not shorten it
        (_point(consumption_gap=date(2021, 6, 14)), ReadPeriod(date(2023, 12, 2), END, 1.0),
         FailureReason.PERIOD_TOO_SHORT),  # older than the longest period: not why it is short
        (_point(consumption_gap=date(2023, 6, 1)), GOOD, None),  # long enough after the gap: calculates
        (POINT, ReadPeriod(GOOD.start, END, -1.0), FailureReason.NEGATIVE_CONSUMPTION),
        (POINT, ReadPeriod(GOOD.start, END, 0.0), None),
        (POINT, ReadPeriod(None, END, 1.0), FailureReason.MISSING_READ),
        (POINT, ReadPeriod(GOOD.start, END, None), FailureReason.MISSING_READ),
        (POINT, ReadPeriod(date(2020, 6, 1), date(2021, 6, 1), 1.0), FailureReason.MISSING_REFERENCE_DATA),
        (_point(isolated=True, registered_on=AS_OF), ReadPeriod(None, END, -1.0), FailureReason.ISOLATED),  # priority
    ],
)
def test_eligibility_rules(flat, point: PointFacts, period: ReadPeriod, expected: Optional[FailureReason]) -> None:
    outcome = calculate_aq(point, period, flat(), AS_OF, previous_aq_kwh=123.0)
    assert outcome.reason == expected
    if expected is not None:
        assert outcome.aq_kwh == 123.0  # a failure keeps the previous AQ


@pytest.mark.parametrize(
    ("gap_day", "expected"),
    [(GOOD.start, FailureReason.MISSING_REFERENCE_DATA), (END - timedelta(days=1), FailureReason.MISSING_REFERENCE_DATA), (END, None)],
)
def test_missing_reference_day_inside_the_period_fails(flat, gap_day: date, expected) -> None:
    reference = flat()
    reference.cwv_actual[0, reference.day_index(gap_day)] = np.nan
    assert calculate_aq(POINT, GOOD, reference, AS_OF, 1.0).reason == expected


def test_non_positive_profile_fails(flat) -> None:
    reference = flat(alp=1.0, daf=0.5, actual=0.0, normal=10.0)  # each day weighs 1 x (1 + 0.5 x -10) = -4
    assert calculate_aq(POINT, GOOD, reference, AS_OF, 1.0).reason == FailureReason.NON_POSITIVE_PROFILE


@pytest.mark.parametrize(
    ("aq", "meter_class", "expected"),
    [
        (73_200, 3, 73_200 / (365 * 0.33)),
        (73_201, 4, 73_201 / (365 * 0.36)),
        (1_000_000, 4, 1_000_000 / (365 * 0.42)),
        (1_000_000, 1, None),  # class 1 and 2 SOQs are nominated, not derived
        (1_000_000, 2, None),
    ],
)
def test_soq_from_aq_and_euc_load_factor(flat, aq: float, meter_class: int, expected: Optional[float]) -> None:
    assert soq_kwh(aq, meter_class, flat()) == (pytest.approx(expected) if expected else None)


def test_winter_consumption_scales_by_winter_share(flat) -> None:
    """ALP 2 in Dec-Mar (122 days in 2023/24), 1 otherwise, normal weather, reads 1 Nov - 1 May.

    Period share = 30 + 122 x 2 + 30 = 304, winter share = 244: 304,000 kWh gives 244,000.
    """
    reference = flat()
    winter = reference.day_index(date(2023, 12, 1)), reference.day_index(date(2024, 4, 1))
    reference.alp[:, :, winter[0] : winter[1]] = 2.0
    period = ReadPeriod(date(2023, 11, 1), date(2024, 5, 1), 304_000.0)
    value, failure = calculate_winter_consumption(POINT, period, reference, date(2023, 12, 1), date(2024, 4, 1))
    assert failure is None and value == pytest.approx(244_000.0)
    short = ReadPeriod(date(2023, 12, 2), date(2024, 5, 1), 1.0)
    assert calculate_winter_consumption(POINT, short, reference, date(2023, 12, 1), date(2024, 4, 1)) == (
        None,
        FailureReason.PERIOD_TOO_SHORT,
    )


# --------------------------------------------------------------------------- properties

PERIOD_STARTS = st.dates(date(2020, 1, 1), date(2023, 9, 1))


@settings(max_examples=60, deadline=None)
@given(start=PERIOD_STARTS, days=st.integers(280, 1000), energy=st.floats(1.0, 1e8), k=st.floats(1e-3, 1e3))
def test_scaling_consumption_scales_aq(synthetic, start: date, days: int, energy: float, k: float) -> None:
    period = ReadPeriod(start, start + timedelta(days=days), energy)
    scaled = ReadPeriod(period.start, period.end, energy * k)
    base = calculate_aq(POINT, period, synthetic, date(2025, 1, 1), 1.0)
    assert base.calculated
    assert calculate_aq(POINT, scaled, synthetic, date(2025, 1, 1), 1.0).aq_kwh == pytest.approx(k * base.aq_kwh, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(start=PERIOD_STARTS, days=st.integers(280, 1000), energy=st.floats(1.0, 1e8), ldz=st.sampled_from(["SC", "EA", "SW"]))
def test_seasonal_normal_weather_reduces_to_simple_form(synthetic, start: date, days: int, energy: float, ldz: str) -> None:
    normal = synthetic.with_seasonal_normal_weather()
    end = start + timedelta(days=days)
    point = _point(ldz=ldz, euc="04B")
    aq = calculate_aq(point, ReadPeriod(start, end, energy), normal, date(2025, 1, 1), 1.0).aq_kwh
    alp = synthetic.alp[synthetic.ldzs.index(ldz), 3, synthetic.day_index(start) : synthetic.day_index(end)]
    assert aq == pytest.approx(energy * 365 / alp.sum(), rel=1e-9)


@given(day=st.dates(date(1990, 1, 1), date(2060, 12, 31)), months=st.integers(-48, 48))
def test_scalar_and_array_month_arithmetic_agree(day: date, months: int) -> None:
    shifted = add_months_array(np.array([np.datetime64(day)]), months)[0]
    assert shifted == np.datetime64(add_months(day, months))


# ----------------------------------------------------------------------- vectorised run


def _scalar_row(points, i: int, reference):
    def day(index: int) -> Optional[date]:
        return None if index == NO_DAY else reference.origin + timedelta(days=int(index))

    ldz_i, euc_i = divmod(int(points.profile[i]), len(reference.eucs.bands))
    facts = PointFacts(
        ldz=reference.ldzs[ldz_i],
        euc=reference.eucs.codes[euc_i],
        meter_class=int(points.meter_class[i]),
        registered_on=day(points.registered_day[i]),
        isolated=bool(points.isolated[i]),
        backstop_date=day(points.backstop_day[i]),
        reconnected_on=day(points.reconnection_day[i]),
    )
    energy = None if np.isnan(points.energy_kwh[i]) else float(points.energy_kwh[i])
    return facts, ReadPeriod(day(points.start_day[i]), day(points.end_day[i]), energy)


@pytest.mark.parametrize(("as_of", "with_gap"), [(date(2024, 3, 10), False), (date(2021, 6, 10), True)])
def test_monthly_run_equals_scalar_calculation(synthetic, as_of: date, with_gap: bool) -> None:
    """10,000 points, every failure reason represented; the second case has starts before the data and a gap."""
    reference = synthetic_reference_with_gap(synthetic) if with_gap else synthetic
    points = synthetic_points(10_000, reference, as_of, seed=3)
    result = monthly_run(points, reference, as_of)
    seen = set()
    for i in range(len(points)):
        facts, period = _scalar_row(points, i, reference)
        outcome = calculate_aq(facts, period, reference, as_of, float(points.previous_aq[i]))
        assert reason_of(int(result.reason[i])) == outcome.reason, i
        assert result.aq[i] == pytest.approx(outcome.aq_kwh, rel=1e-9)
        assert reference.eucs.codes[result.euc[i]] == outcome.euc
        if outcome.soq_kwh is None:
            assert np.isnan(result.soq[i])
        else:
            assert result.soq[i] == pytest.approx(outcome.soq_kwh, rel=1e-9)
        seen.add(outcome.reason)
    # The arrays carry read periods as given, so no consumption gap.
    expected = set(FailureReason) - {FailureReason.NON_POSITIVE_PROFILE, FailureReason.CONSUMPTION_GAP} | {None}
    if not with_gap:
        expected -= {FailureReason.MISSING_REFERENCE_DATA}
    assert expected <= seen


def synthetic_reference_with_gap(synthetic):
    from dataclasses import replace

    actual = synthetic.cwv_actual.copy()
    actual[synthetic.ldzs.index("NW"), synthetic.day_index(date(2020, 12, 1))] = np.nan
    return replace(synthetic, cwv_actual=actual)


def test_monthly_run_blocks_and_baseline_agree(synthetic) -> None:
    """More points than one block, and the bare formula matches wherever the rules pass."""
    points = synthetic_points(70_000, synthetic, date(2024, 3, 10), seed=9)
    result = monthly_run(points, synthetic, date(2024, 3, 10))
    ok = result.reason == 0
    assert 0.9 < ok.mean() < 1.0
    np.testing.assert_allclose(result.aq[ok], plain_numpy_baseline(points, synthetic)[ok], rtol=1e-12)
    np.testing.assert_array_equal(result.aq[~ok], points.previous_aq[~ok])
