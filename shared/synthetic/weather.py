"""Deterministic synthetic hourly UK air temperature, observed and forecast.

The portal draws a temperature line next to consumption, and the gas
generator needs weather for heating demand, but the demo must run offline.
So temperature is a model: seasonal cycle + diurnal cycle + day-to-day
weather that persists (AR(1)), correlated across locations because UK
weather systems are national. The weather of each day is fixed once per
location (seeded by its name), so any two calls over overlapping ranges agree
and a year costs a handful of vectorised numpy operations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import numpy as np

from shared.synthetic._seed import stable_seed

SPAN_START = date(1990, 1, 1)
SPAN_END = date(2060, 12, 31)
"""Modelled weather exists for these days (inclusive); outside them we refuse rather than invent."""

_EPOCH_HOURS = int(
    datetime.combine(SPAN_START, datetime.min.time(), tzinfo=timezone.utc).timestamp() // 3600
)
_SPAN_DAYS = (SPAN_END - SPAN_START).days + 1
_COLDEST_DAY_OFFSET = (date(2000, 1, 20) - SPAN_START).days
TROPICAL_YEAR_DAYS = 365.2425

UK_MEAN_C = 10.5
SEASONAL_AMPLITUDE_C = 6.5
"""Mid-January ~4 C, mid-July ~17 C before location offsets."""

PERSISTENCE = 0.8
"""Day-to-day AR(1) coefficient: a cold spell typically lasts several days."""
ANOMALY_SD_C = 2.4
NATIONAL_SHARE = 0.8
"""Weight of the shared UK anomaly; the rest is local, so nearby sites look alike."""


@dataclass(frozen=True)
class Climate:
    """How a location differs from the UK average."""

    offset_c: float
    amplitude_scale: float


LOCATIONS: dict[str, Climate] = {
    "London": Climate(1.0, 1.05),
    "Southampton": Climate(0.7, 0.95),
    "Bristol": Climate(0.4, 0.95),
    "Cardiff": Climate(0.4, 0.9),
    "Norwich": Climate(-0.1, 1.05),
    "Birmingham": Climate(-0.2, 1.0),
    "Nottingham": Climate(-0.2, 1.0),
    "Manchester": Climate(-0.1, 0.95),
    "Leeds": Climate(-0.4, 1.0),
    "Newcastle": Climate(-1.0, 0.95),
    "Glasgow": Climate(-1.3, 0.85),
    "Edinburgh": Climate(-1.2, 0.85),
}

_CANONICAL = {name.lower(): name for name in LOCATIONS}


def winter_index(day: date) -> float:
    """Seasonal phase shared by weather and consumption: 1 in mid-January, -1 in mid-July."""
    days = (day - SPAN_START).days - _COLDEST_DAY_OFFSET
    return math.cos(2 * math.pi * days / TROPICAL_YEAR_DAYS)


def canonical_location(location: str) -> str:
    """The table spelling of ``location`` (case-insensitive); unknown names are an error, not a guess."""
    try:
        return _CANONICAL[location.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown weather location {location!r}; known: {', '.join(LOCATIONS)}") from None


def _ar1(seed: int) -> np.ndarray:
    """Unit-variance AR(1) series over the whole span, one value per day."""
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal(_SPAN_DAYS) * math.sqrt(1 - PERSISTENCE**2)
    out = np.empty(_SPAN_DAYS)
    value = rng.standard_normal()
    for i, shock in enumerate(shocks.tolist()):
        value = PERSISTENCE * value + shock
        out[i] = value
    return out


@lru_cache(maxsize=1)
def _national_anomaly() -> np.ndarray:
    return _ar1(stable_seed("weather", "UK"))


@lru_cache(maxsize=64)
def _daily_state(location: str) -> tuple[np.ndarray, np.ndarray]:
    """(anomaly in C, diurnal-range factor) per span day; computed once per location."""
    local = _ar1(stable_seed("weather", location))
    anomaly = ANOMALY_SD_C * (
        NATIONAL_SHARE * _national_anomaly() + math.sqrt(1 - NATIONAL_SHARE**2) * local
    )
    # Cloudy days have a small diurnal range, clear days a large one.
    sky = np.random.default_rng(stable_seed("sky", location)).uniform(0.4, 1.4, _SPAN_DAYS)
    anomaly.flags.writeable = False
    sky.flags.writeable = False
    return anomaly, sky


def _utc_hour_index(instant: datetime) -> int:
    """Whole hours since SPAN_START (UTC), rounding up so a range starts on an hour."""
    if instant.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (store instants in UTC)")
    return math.ceil(instant.timestamp() / 3600) - _EPOCH_HOURS


def _temperatures(location: str, hours: np.ndarray) -> np.ndarray:
    """Temperature at each hour index (hours since SPAN_START, UTC)."""
    if hours.size and (hours[0] < 0 or hours[-1] >= _SPAN_DAYS * 24):
        raise ValueError(f"weather is modelled from {SPAN_START} to {SPAN_END} only")
    climate = LOCATIONS[location]
    anomaly, sky = _daily_state(location)
    days = hours / 24.0
    season = np.cos(2 * np.pi * (days - _COLDEST_DAY_OFFSET) / TROPICAL_YEAR_DAYS)  # 1 in Jan, -1 in Jul
    span = np.arange(_SPAN_DAYS)
    # Interpolating day values centred on noon avoids steps at midnight.
    weather = np.interp(days - 0.5, span, anomaly)
    half_range = (3.25 - 1.25 * season) * np.interp(days - 0.5, span, sky)
    hour_of_day = hours % 24
    diurnal = half_range * np.cos(2 * np.pi * (hour_of_day - 14.5) / 24)  # warmest mid-afternoon
    seasonal = UK_MEAN_C + climate.offset_c - SEASONAL_AMPLITUDE_C * climate.amplitude_scale * season
    return seasonal + weather + diurnal


def hourly_temperature_array(location: str, start: datetime, end: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Fast variant: (UTC hour starts as ``datetime64[h]``, Celsius) for whole hours in [start, end)."""
    name = canonical_location(location)
    first, stop = _utc_hour_index(start), _utc_hour_index(end)
    hours = np.arange(first, max(first, stop), dtype=np.int64)
    instants = (hours + _EPOCH_HOURS).astype("datetime64[h]")
    return instants, _temperatures(name, hours)


def hourly_temperature(location: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """(UTC-aware hour start, Celsius) for every whole hour in [start, end)."""
    instants, celsius = hourly_temperature_array(location, start, end)
    return [
        (datetime.fromtimestamp(int(h) * 3600, tz=timezone.utc), t)
        for h, t in zip(instants.astype(np.int64).tolist(), celsius.tolist())
    ]


def daily_mean_temperatures(location: str, start: date, end: date) -> np.ndarray:
    """Mean of the 24 UTC hourly values for each day in [start, end).

    UTC days (not local) keep this a reshape; the one-hour shift in summer
    moves a daily mean by hundredths of a degree.
    """
    name = canonical_location(location)
    first = (start - SPAN_START).days * 24
    n_days = max(0, (end - start).days)
    hours = np.arange(first, first + n_days * 24, dtype=np.int64)
    return _temperatures(name, hours).reshape(n_days, 24).mean(axis=1)


def daily_mean_temperature(location: str, day: date) -> float:
    """Mean temperature of one day (see :func:`daily_mean_temperatures`)."""
    return float(daily_mean_temperatures(location, day, day + timedelta(days=1))[0])


FORECAST_INITIAL_SD_C = 0.4
FORECAST_DRIFT_SD_C = 0.2
"""Per-hour random-walk step: error sd grows to ~2.6 C at seven days, like real forecasts."""


def forecast(location: str, issued_at: datetime, hours: int = 168) -> list[tuple[datetime, float]]:
    """Forecast issued at ``issued_at``: the true series for the next ``hours`` hours plus an error.

    The error is a smooth random walk (forecasts are wrong in runs, not
    hour by hour) seeded by location and issue hour, so re-issuing the
    same forecast gives the same numbers and later issues are more accurate
    for a given target hour.
    """
    name = canonical_location(location)
    first = _utc_hour_index(issued_at)
    truth = hourly_temperature(name, issued_at, issued_at + timedelta(hours=hours))
    rng = np.random.default_rng(stable_seed("forecast", name, first))
    steps = rng.standard_normal(len(truth)) * FORECAST_DRIFT_SD_C
    error = FORECAST_INITIAL_SD_C * rng.standard_normal() + np.cumsum(steps)
    return [(instant, celsius + e) for (instant, celsius), e in zip(truth, error.tolist())]
