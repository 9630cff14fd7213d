"""Synthetic HH meters: shapes, weather-driven gas, clock changes, data-quality defects, fleets."""
from __future__ import annotations

import statistics
from datetime import date, timedelta

import numpy as np
import pytest

from shared.synthetic import weather
from shared.synthetic.identifiers import is_valid_mpan_core, mpan_check_digit
from shared.synthetic.meters import MeterSpec, SyntheticDay, day_type, meter_day, meter_days, random_fleet

OFFICE = MeterSpec("1200023305967", "electricity", "office", 150_000, "London")
GAS = MeterSpec("7512009834", "gas", "heating", 400_000, "Manchester")
CLEAN_OFFICE = MeterSpec("1200023305967", "electricity", "office", 150_000, "London", gap_rate=0, estimate_rate=0)
CLEAN_GAS = MeterSpec("7512009834", "gas", "heating", 400_000, "Manchester", gap_rate=0, estimate_rate=0)


def _days(spec: MeterSpec, start: date, end: date) -> list[tuple[date, SyntheticDay]]:
    return list(meter_days(spec, start, end))


def test_same_meter_and_day_give_identical_reads() -> None:
    assert meter_day(OFFICE, date(2024, 2, 7)) == meter_day(OFFICE, date(2024, 2, 7))
    other = MeterSpec("1000000000009", "electricity", "office", 150_000, "London")
    assert meter_day(other, date(2024, 2, 7)).values != meter_day(OFFICE, date(2024, 2, 7)).values


@pytest.mark.parametrize(
    ("day", "periods"),
    [(date(2024, 3, 31), 46), (date(2024, 10, 27), 50), (date(2024, 6, 1), 48), (date(2025, 3, 30), 46)],
)
@pytest.mark.parametrize("spec", [OFFICE, GAS], ids=["electricity", "gas"])
def test_one_value_and_one_quality_char_per_local_settlement_period(spec: MeterSpec, day: date, periods: int) -> None:
    reads = meter_day(spec, day)
    assert len(reads.values) == periods
    assert len(reads.quality) == periods


def test_clock_change_days_carry_a_full_days_consumption() -> None:
    # Office shape follows the wall clock: the skipped/repeated night hour moves base load only.
    normal = meter_day(CLEAN_OFFICE, date(2024, 3, 24)).total_kwh  # the Sunday before
    short = meter_day(CLEAN_OFFICE, date(2024, 3, 31)).total_kwh
    assert short == pytest.approx(normal * 46 / 48, rel=0.15)


def test_a_year_of_days_is_counted_exactly() -> None:
    year = _days(CLEAN_OFFICE, date(2024, 1, 1), date(2025, 1, 1))
    assert len(year) == 366
    assert [d for d, _ in year] == [date(2024, 1, 1) + timedelta(days=i) for i in range(366)]
    assert sum(len(r.values) for _, r in year) == 366 * 48  # one 46 and one 50 cancel out


@pytest.mark.parametrize(("spec", "tolerance"), [(CLEAN_OFFICE, 0.05), (CLEAN_GAS, 0.2)], ids=["electricity", "gas"])
def test_annual_total_is_close_to_the_specified_annual_kwh(spec: MeterSpec, tolerance: float) -> None:
    # Gas varies with each year's weather; annual_kwh is its typical (normal-weather) year.
    total = sum(r.total_kwh for _, r in _days(spec, date(2023, 1, 1), date(2024, 1, 1)))
    assert total == pytest.approx(spec.annual_kwh, rel=tolerance)


def test_values_are_never_negative_and_quality_matches_missing_values() -> None:
    for _, reads in _days(MeterSpec("5120066391", "gas", "heating", 90_000, "Norwich", 0.05, 0.05),
                          date(2024, 1, 1), date(2024, 4, 1)):
        for value, quality in zip(reads.values, reads.quality):
            assert (value is None) == (quality == "-")
            assert value is None or value >= 0
        assert set(reads.quality) <= {"A", "E", "-"}


def test_gas_winter_month_far_exceeds_summer_month() -> None:
    january = sum(r.total_kwh for _, r in _days(GAS, date(2024, 1, 1), date(2024, 2, 1)))
    july = sum(r.total_kwh for _, r in _days(GAS, date(2024, 7, 1), date(2024, 8, 1)))
    assert january > 4 * july


def test_gas_consumption_follows_temperature_inversely() -> None:
    days = _days(CLEAN_GAS, date(2023, 10, 1), date(2024, 4, 1))
    weekdays = [(d, r) for d, r in days if day_type(d) == "weekday"]
    totals = [r.total_kwh for _, r in weekdays]
    temperatures = [weather.daily_mean_temperature("Manchester", d) for d, _ in weekdays]
    assert np.corrcoef(totals, temperatures)[0, 1] < -0.8


def test_gas_heating_is_concentrated_in_the_morning_and_working_hours() -> None:
    reads = meter_day(CLEAN_GAS, date(2024, 1, 17))  # a January Wednesday
    values = reads.values
    morning = sum(values[10:18])  # 05:00-09:00
    night = sum(values[40:48]) + sum(values[0:8])  # 20:00-04:00
    assert morning > 3 * night


def test_office_weekdays_use_more_than_weekends() -> None:
    days = _days(CLEAN_OFFICE, date(2024, 4, 1), date(2024, 7, 1))
    weekday = statistics.mean(r.total_kwh for d, r in days if d.weekday() < 5)
    weekend = statistics.mean(r.total_kwh for d, r in days if d.weekday() >= 5)
    assert weekday > 1.5 * weekend


def test_office_working_hours_peak_above_base_load() -> None:
    values = meter_day(CLEAN_OFFICE, date(2024, 5, 15)).values
    assert min(values[22:34]) > 2.5 * max(values[0:10])  # 11:00-17:00 vs 00:00-05:00


@pytest.mark.parametrize(
    ("day", "kind"),
    [(date(2024, 5, 15), "weekday"), (date(2024, 5, 18), "saturday"), (date(2024, 5, 19), "sunday"),
     (date(2024, 12, 25), "sunday"), (date(2025, 1, 1), "sunday")],
)
def test_day_types_treat_fixed_holidays_as_sundays(day: date, kind: str) -> None:
    assert day_type(day) == kind


@pytest.mark.parametrize(("gap_rate", "estimate_rate"), [(0.005, 0.01), (0.03, 0.05)])
def test_gap_and_estimate_rates_are_roughly_as_configured(gap_rate: float, estimate_rate: float) -> None:
    quality = ""
    missing_days = 0
    for spec in random_fleet(20, seed=7):
        tuned = MeterSpec(spec.mpxn, spec.fuel, spec.profile, spec.annual_kwh, spec.weather_location,
                          gap_rate, estimate_rate)
        for _, reads in meter_days(tuned, date(2023, 1, 1), date(2024, 1, 1)):
            quality += reads.quality
            missing_days += reads.fully_missing
    assert quality.count("-") / len(quality) == pytest.approx(gap_rate, rel=0.4)
    assert quality.count("E") / len(quality) == pytest.approx(estimate_rate, rel=0.4)
    assert missing_days > 0


def test_zero_rates_give_clean_data() -> None:
    quality = "".join(r.quality for _, r in _days(CLEAN_OFFICE, date(2024, 1, 1), date(2024, 3, 1)))
    assert set(quality) == {"A"}


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(fuel="gas", profile="office"),
        dict(fuel="electricity", profile="heating"),
        dict(fuel="water", profile="office"),
        dict(annual_kwh=0),
        dict(gap_rate=1.5),
        dict(estimate_rate=-0.1),
        dict(weather_location="Atlantis"),
    ],
)
def test_meter_spec_rejects_inconsistent_definitions(kwargs: dict) -> None:
    base = dict(mpxn="1200023305967", fuel="electricity", profile="office", annual_kwh=1000.0)
    with pytest.raises(ValueError):
        MeterSpec(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("core", "valid"),
    [
        ("1200023305967", True),  # the published example MPAN core
        ("1200023305968", False),
        ("2100023305967", False),  # transposed digits
        ("1200023305867", False),  # one digit mistyped
        ("120002330596", False),
        ("12000233059ab", False),
    ],
)
def test_mpan_check_digit(core: str, valid: bool) -> None:
    assert is_valid_mpan_core(core) is valid


def test_check_digit_needs_twelve_digits() -> None:
    with pytest.raises(ValueError):
        mpan_check_digit("12345")


def test_random_fleet_is_deterministic_distinct_and_valid() -> None:
    fleet = random_fleet(200, seed=42)
    assert fleet == random_fleet(200, seed=42)
    assert fleet != random_fleet(200, seed=43)
    assert len({s.mpxn for s in fleet}) == 200
    fuels = [s.fuel for s in fleet]
    assert 0.4 < fuels.count("electricity") / len(fleet) < 0.8
    assert {s.profile for s in fleet} == {"office", "retail", "warehouse", "factory", "heating"}
    for spec in fleet:
        if spec.fuel == "electricity":
            assert is_valid_mpan_core(spec.mpxn)
            assert 20_000 <= spec.annual_kwh <= 500_000
        else:
            assert spec.mpxn.isdigit() and 6 <= len(spec.mpxn) <= 10
            assert 50_000 <= spec.annual_kwh <= 1_000_000
