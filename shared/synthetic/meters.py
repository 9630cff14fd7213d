"""Realistic half-hourly consumption for synthetic business meters.

Each meter-day is a pure function of (spec, day): the random generator is
seeded from the MPxN and the date, so a replay, a test and the demo all see
the same numbers and any single day can be regenerated without its history.

Electricity follows an opening-hours shape (weekday / Saturday / Sunday) on
top of a base load; gas follows heating degree-days from the synthetic
weather, spent mostly in the morning warm-up and working hours. Data quality
problems are part of the product (the portal shows gaps, never fills them),
so meters also produce missing periods, missing days and estimated values.
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal, Optional

import numpy as np

from shared.hh import LONDON, periods_in_day, period_starts_utc
from shared.synthetic import weather
from shared.synthetic._seed import stable_seed
from shared.synthetic.identifiers import DISTRIBUTOR_IDS, random_mpan_core, random_mprn

Fuel = Literal["electricity", "gas"]
Profile = Literal["office", "retail", "warehouse", "factory", "heating"]

ELECTRICITY_PROFILES = ("office", "retail", "warehouse", "factory")
GAS_PROFILES = ("heating",)

ACTUAL, ESTIMATED, MISSING = "A", "E", "-"


@dataclass(frozen=True)
class MeterSpec:
    """What a synthetic meter is: identity, load shape, size, weather and data quality."""

    mpxn: str
    fuel: Fuel
    profile: Profile
    annual_kwh: float
    weather_location: str = "London"
    gap_rate: float = 0.005
    estimate_rate: float = 0.01

    def __post_init__(self) -> None:
        if self.fuel not in ("electricity", "gas"):
            raise ValueError(f"unknown fuel {self.fuel!r}")
        allowed = ELECTRICITY_PROFILES if self.fuel == "electricity" else GAS_PROFILES
        if self.profile not in allowed:
            raise ValueError(f"{self.fuel} meters take profiles {allowed}, not {self.profile!r}")
        if self.annual_kwh <= 0:
            raise ValueError("annual_kwh must be positive")
        for name in ("gap_rate", "estimate_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be within [0, 1]")
        weather.canonical_location(self.weather_location)


@dataclass(frozen=True)
class SyntheticDay:
    """kWh per local settlement period (None = missing) and one quality char per period."""

    values: list[Optional[float]]
    quality: str

    @property
    def total_kwh(self) -> float:
        """Sum of the periods that are present; gaps count as nothing, never as estimates."""
        return sum(v for v in self.values if v is not None)

    @property
    def fully_missing(self) -> bool:
        return all(q == MISSING for q in self.quality)


# --- shapes -----------------------------------------------------------------

DayType = Literal["weekday", "saturday", "sunday"]

FIXED_HOLIDAYS = {(1, 1), (12, 25), (12, 26)}
"""Closed like a Sunday. Moveable bank holidays are left out: they add realism nobody tests."""


def day_type(day: date) -> DayType:
    if (day.month, day.day) in FIXED_HOLIDAYS or day.weekday() == 6:
        return "sunday"
    return "saturday" if day.weekday() == 5 else "weekday"


@dataclass(frozen=True)
class Opening:
    """Open between ``open_h`` and ``close_h`` local time at ``level`` of full load, with 1 h ramps."""

    open_h: float
    close_h: float
    level: float


@dataclass(frozen=True)
class ElectricityProfile:
    base: float
    """Share of full load drawn when closed (servers, refrigeration, security lighting)."""
    week: dict[str, Optional[Opening]]
    winter_uplift: float
    """Extra share in mid-winter (lighting, electric heating), the same share less in summer."""


ELECTRICITY: dict[str, ElectricityProfile] = {
    "office": ElectricityProfile(
        0.25, {"weekday": Opening(8, 18, 1.0), "saturday": Opening(9, 13, 0.3), "sunday": None}, 0.12
    ),
    "retail": ElectricityProfile(
        0.30,
        {"weekday": Opening(8.5, 18.5, 1.0), "saturday": Opening(8.5, 18.5, 1.1), "sunday": Opening(10, 16, 0.8)},
        0.08,
    ),
    "warehouse": ElectricityProfile(
        0.35, {"weekday": Opening(6, 22, 1.0), "saturday": Opening(7, 15, 0.6), "sunday": None}, 0.10
    ),
    "factory": ElectricityProfile(
        0.45, {"weekday": Opening(6, 22, 1.0), "saturday": Opening(6, 14, 0.7), "sunday": None}, 0.05
    ),
}


@lru_cache(maxsize=1024)
def _local_hours(day: date) -> np.ndarray:
    """Local clock time (hours) at the middle of each settlement period of ``day``.

    On clock-change days the local clock skips or repeats 01:00-02:00, so the
    shape follows the wall clock the business works to.
    """
    if periods_in_day(day) == 48:
        hours = np.arange(48) * 0.5 + 0.25
    else:
        starts = [s.astimezone(LONDON) for s in period_starts_utc(day)]
        hours = np.array([s.hour + s.minute / 60 for s in starts]) + 0.25
    hours.flags.writeable = False
    return hours


def _occupancy(hours: np.ndarray, opening: Optional[Opening]) -> np.ndarray:
    if opening is None:
        return np.zeros_like(hours)
    ramp = np.minimum(hours - opening.open_h + 1, opening.close_h + 1 - hours)
    return opening.level * np.clip(ramp, 0.0, 1.0)


def _electricity_shape(profile: ElectricityProfile, hours: np.ndarray, kind: DayType) -> np.ndarray:
    return profile.base + (1 - profile.base) * _occupancy(hours, profile.week[kind])


@lru_cache(maxsize=None)
def _electricity_scale(profile_name: str) -> float:
    """Shape units per year, so ``annual_kwh / scale`` converts a shape into kWh."""
    profile = ELECTRICITY[profile_name]
    hours = np.arange(48) * 0.5 + 0.25
    daily = {kind: _electricity_shape(profile, hours, kind).sum() for kind in ("weekday", "saturday", "sunday")}
    return weather.TROPICAL_YEAR_DAYS * (5 * daily["weekday"] + daily["saturday"] + daily["sunday"]) / 7


def _electricity_expected(spec: MeterSpec, day: date, hours: np.ndarray) -> np.ndarray:
    profile = ELECTRICITY[spec.profile]
    shape = _electricity_shape(profile, hours, day_type(day))
    seasonal = 1 + profile.winter_uplift * weather.winter_index(day)
    return shape * seasonal * spec.annual_kwh / _electricity_scale(spec.profile)


HEATING_BASE_TEMPERATURE_C = 15.5
GAS_BASE_SHARE = 0.15
"""Share of annual gas that is not space heating (hot water, catering, process)."""
WEEKEND_HEATING = 0.5
"""Heating on a setback schedule at weekends uses about half a working day's gas."""

_HEATING_WEEKDAY = ((0, 5, 0.15), (5, 7, 2.5), (7, 9, 2.0), (9, 17, 1.0), (17, 19, 0.5), (19, 24, 0.15))
_HEATING_WEEKEND = ((0, 7, 0.2), (7, 12, 1.0), (12, 24, 0.4))
"""(from hour, to hour, relative rate): frost protection overnight, morning warm-up boost."""


def _heating_shape(hours: np.ndarray, kind: DayType) -> np.ndarray:
    table = _HEATING_WEEKDAY if kind == "weekday" else _HEATING_WEEKEND
    rate = np.zeros_like(hours)
    for lo, hi, level in table:
        rate[(hours >= lo) & (hours < hi)] = level
    return rate / rate.sum()


def _heating_day_weight(day: date) -> float:
    return 1.0 if day_type(day) == "weekday" else WEEKEND_HEATING


REFERENCE_YEARS = (date(2010, 1, 1), date(2020, 1, 1))


@lru_cache(maxsize=64)
def _annual_weighted_degree_days(location: str) -> float:
    """Expected weighted heating degree-days per year at ``location`` over the reference decade.

    Normalising by this makes a meter's annual_kwh its consumption in a
    typical year, which is what an AQ means for gas.
    """
    start, end = REFERENCE_YEARS
    means = weather.daily_mean_temperatures(location, start, end)
    hdd = np.maximum(0.0, HEATING_BASE_TEMPERATURE_C - means)
    weights = np.array([_heating_day_weight(start + timedelta(days=i)) for i in range(len(means))])
    years = (end - start).days / weather.TROPICAL_YEAR_DAYS
    return float((hdd * weights).sum() / years)


def _gas_expected(spec: MeterSpec, day: date, hours: np.ndarray) -> np.ndarray:
    location = weather.canonical_location(spec.weather_location)
    hdd = max(0.0, HEATING_BASE_TEMPERATURE_C - weather.daily_mean_temperature(location, day))
    heating_kwh = (
        spec.annual_kwh * (1 - GAS_BASE_SHARE) * hdd * _heating_day_weight(day)
        / _annual_weighted_degree_days(location)
    )
    base_kwh = spec.annual_kwh * GAS_BASE_SHARE / weather.TROPICAL_YEAR_DAYS
    n = len(hours)
    return base_kwh * np.full(n, 1.0 / n) + heating_kwh * _heating_shape(hours, day_type(day))


# --- noise and data quality -------------------------------------------------

DAY_NOISE = {"electricity": 0.05, "gas": 0.08}
PERIOD_NOISE = {"electricity": 0.05, "gas": 0.10}
WHOLE_DAY_GAP_SHARE = 0.3
"""Share of missing periods that come as whole missing days (comms down all day)."""
GAP_RUN = (1, 6)
ESTIMATE_RUN = (1, 8)
"""Gaps and estimates come in runs of consecutive periods, like real comms outages."""


def _runs(rng: np.random.Generator, n: int, rate: float, run: tuple[int, int]) -> np.ndarray:
    """Boolean mask covering about ``rate`` of ``n`` periods with runs of lengths in ``run``."""
    mask = np.zeros(n, dtype=bool)
    mean_run = (run[0] + run[1]) / 2
    starts = np.flatnonzero(rng.random(n) < rate / mean_run)
    for start, length in zip(starts, rng.integers(run[0], run[1] + 1, size=len(starts))):
        mask[start : start + length] = True
    return mask


def meter_day(spec: MeterSpec, day: date) -> SyntheticDay:
    """The synthetic reads of one meter for one local settlement day (46/48/50 periods)."""
    hours = _local_hours(day)
    n = len(hours)
    rng = np.random.default_rng([stable_seed(spec.mpxn), day.toordinal()])
    # Draw every random number up front in a fixed order, so changing one
    # rate does not reshuffle the consumption values.
    whole_day_gap = rng.random() < spec.gap_rate * WHOLE_DAY_GAP_SHARE
    day_factor = 1 + DAY_NOISE[spec.fuel] * rng.standard_normal()
    period_factor = 1 + PERIOD_NOISE[spec.fuel] * rng.standard_normal(n)
    missing = _runs(rng, n, spec.gap_rate * (1 - WHOLE_DAY_GAP_SHARE), GAP_RUN)
    estimated = _runs(rng, n, spec.estimate_rate, ESTIMATE_RUN) & ~missing

    if whole_day_gap:
        return SyntheticDay([None] * n, MISSING * n)
    build = _electricity_expected if spec.fuel == "electricity" else _gas_expected
    expected = build(spec, day, hours) * max(day_factor, 0.0)
    # Estimates are profile-shaped and smooth: that is how a data collector fills in.
    kwh = np.where(estimated, expected, expected * np.clip(period_factor, 0.0, None)).round(3)
    values: list[Optional[float]] = [None if m else v for m, v in zip(missing.tolist(), kwh.tolist())]
    quality = "".join(MISSING if m else ESTIMATED if e else ACTUAL for m, e in zip(missing, estimated))
    return SyntheticDay(values, quality)


def meter_days(spec: MeterSpec, start: date, end: date) -> Iterator[tuple[date, SyntheticDay]]:
    """(day, reads) for every day in [start, end), oldest first."""
    for offset in range((end - start).days):
        day = start + timedelta(days=offset)
        yield day, meter_day(spec, day)


# --- fleets -----------------------------------------------------------------

ELECTRICITY_SHARE = 0.6
ANNUAL_KWH_RANGE: dict[str, tuple[float, float]] = {
    "office": (20_000, 250_000),
    "retail": (30_000, 300_000),
    "warehouse": (50_000, 400_000),
    "factory": (100_000, 500_000),
    "heating": (50_000, 1_000_000),
}
"""Typical business ranges; sizes are drawn log-uniformly because small sites are commoner."""


def random_fleet(n: int, seed: int) -> list[MeterSpec]:
    """``n`` distinct meters, a mix of fuels, profiles, sizes and locations, fixed by ``seed``."""
    rng = random.Random(seed)
    seen: set[str] = set()
    fleet: list[MeterSpec] = []
    locations = list(weather.LOCATIONS)
    while len(fleet) < n:
        location = rng.choice(locations)
        if rng.random() < ELECTRICITY_SHARE:
            fuel: Fuel = "electricity"
            profile: Profile = rng.choice(ELECTRICITY_PROFILES)
            mpxn = random_mpan_core(rng, DISTRIBUTOR_IDS[location])
        else:
            fuel, profile, mpxn = "gas", "heating", random_mprn(rng)
        low, high = ANNUAL_KWH_RANGE[profile]
        annual = round(math.exp(rng.uniform(math.log(low), math.log(high))), -2)
        if mpxn in seen:
            continue
        seen.add(mpxn)
        fleet.append(MeterSpec(mpxn, fuel, profile, annual, location))
    return fleet
