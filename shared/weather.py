"""Air temperature for a weather location, observed and forecast, behind a
provider interface shared by the services.

``reference`` (the default) is the embedded offline dataset of
``shared.synthetic.weather``; ``open-meteo`` calls the Open-Meteo forecast API.
Hours before ``now`` are observations, later ones forecast.

:func:`daily_means` turns hours into daily means for a location or for
:data:`UK_COMPOSITE` (the mean of representative locations, for callers that
do not know a site's location), filling days beyond the forecast horizon with
the seasonal normal so a month-long projection can still be weather-adjusted.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Literal, Protocol

import httpx

from shared.synthetic import weather

log = logging.getLogger(__name__)

Kind = Literal["observed", "forecast"]
DailyKind = Literal["observed", "forecast", "normal"]
FORECAST_HOURS = 7 * 24

UK_COMPOSITE = "UK"
UK_COMPOSITE_LOCATIONS = ("London", "Bristol", "Birmingham", "Manchester", "Leeds", "Glasgow")
"""Spread north-south and east-west, roughly where the UK's heating demand is."""


@dataclass(frozen=True)
class HourlyTemperature:
    instant: datetime
    celsius: float
    kind: Kind


@dataclass(frozen=True)
class DailyTemperature:
    """Mean of a UTC day's 24 hours; ``forecast`` when any hour is forecast."""

    day: date
    celsius: float
    kind: DailyKind


class ProviderError(RuntimeError):
    """The provider could not answer (network, unexpected response)."""


class UnknownLocation(ValueError):
    pass


class TemperatureProvider(Protocol):
    name: str

    def hourly(self, location: str, start: datetime, end: datetime, now: datetime) -> list[HourlyTemperature]:
        """Whole UTC hours in [start, end): observed before ``now``, forecast up to a week after."""


def _hour_floor(instant: datetime) -> datetime:
    return instant.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


class ReferenceProvider:
    """The embedded reference dataset (deterministic, offline)."""

    name = "reference"

    def hourly(self, location: str, start: datetime, end: datetime, now: datetime) -> list[HourlyTemperature]:
        try:
            place = weather.canonical_location(location)
        except ValueError as exc:
            raise UnknownLocation(str(exc)) from exc
        issued = _hour_floor(now)
        horizon = min(end, issued + timedelta(hours=FORECAST_HOURS))
        out = [HourlyTemperature(t, round(c, 2), "observed")
               for t, c in weather.hourly_temperature(place, start, min(end, issued))]
        if horizon > max(start, issued):
            out += [HourlyTemperature(t, round(c, 2), "forecast")
                    for t, c in weather.forecast(place, issued, int((horizon - issued) / timedelta(hours=1)))
                    if t >= start]
        return out


# Coordinates of the weather locations the directory uses (city centres).
COORDINATES: dict[str, tuple[float, float]] = {
    "London": (51.5074, -0.1278), "Southampton": (50.9097, -1.4044), "Bristol": (51.4545, -2.5879),
    "Cardiff": (51.4816, -3.1791), "Norwich": (52.6309, 1.2974), "Birmingham": (52.4862, -1.8904),
    "Nottingham": (52.9548, -1.1581), "Manchester": (53.4808, -2.2426), "Leeds": (53.8008, -1.5491),
    "Newcastle": (54.9783, -1.6178), "Glasgow": (55.8642, -4.2518), "Edinburgh": (55.9533, -3.1883),
}


OPEN_METEO_FORECAST = timedelta(days=15)
"""The API forecasts 16 days, today included."""


class OpenMeteoProvider:
    """Open-Meteo's forecast API (``hourly=temperature_2m``, UTC times)."""

    name = "open-meteo"

    def __init__(self, client: httpx.Client | None = None, base_url: str = "https://api.open-meteo.com"):
        self._client = client or httpx.Client(timeout=10.0)
        self._base = base_url.rstrip("/")

    def hourly(self, location: str, start: datetime, end: datetime, now: datetime) -> list[HourlyTemperature]:
        try:
            lat, lon = COORDINATES[weather.canonical_location(location)]
        except (ValueError, KeyError) as exc:
            raise UnknownLocation(f"no coordinates for weather location {location!r}") from exc
        # The API refuses end dates past its forecast range; later hours are simply not returned.
        end = min(end, _hour_floor(now) + OPEN_METEO_FORECAST)
        params = {
            "latitude": lat, "longitude": lon, "hourly": "temperature_2m", "timezone": "UTC",
            "start_date": start.astimezone(timezone.utc).date().isoformat(),
            "end_date": (end - timedelta(microseconds=1)).astimezone(timezone.utc).date().isoformat(),
        }
        try:
            response = self._client.get(f"{self._base}/v1/forecast", params=params)
            response.raise_for_status()
            hourly = response.json()["hourly"]
            pairs = zip(hourly["time"], hourly["temperature_2m"], strict=True)
            parsed = [(datetime.fromisoformat(t).replace(tzinfo=timezone.utc), c) for t, c in pairs]
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            log.warning("open-meteo failed for %s: %s", location, exc)
            raise ProviderError(f"temperature provider open-meteo failed: {exc.__class__.__name__}") from exc
        issued = _hour_floor(now)
        return [HourlyTemperature(t, float(c), "observed" if t < issued else "forecast")
                for t, c in parsed if start <= t < end and c is not None]


@lru_cache(maxsize=4)
def provider_for(name: str) -> TemperatureProvider:
    providers = {"reference": ReferenceProvider, "open-meteo": OpenMeteoProvider}
    try:
        return providers[name]()
    except KeyError:
        raise ValueError(f"unknown temperature provider {name!r}; choose one of {', '.join(providers)}") from None


def seasonal_normal(location: str, day: date) -> float:
    """The location's climatological daily mean for the time of year (reference climate)."""
    try:
        climate = weather.LOCATIONS[weather.canonical_location(location)]
    except ValueError as exc:
        raise UnknownLocation(str(exc)) from exc
    return (weather.UK_MEAN_C + climate.offset_c
            - weather.SEASONAL_AMPLITUDE_C * climate.amplitude_scale * weather.winter_index(day))


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def _location_daily_means(provider: TemperatureProvider, location: str, start: date, end: date,
                          now: datetime) -> dict[date, DailyTemperature]:
    by_day: dict[date, list[HourlyTemperature]] = defaultdict(list)
    for hour in provider.hourly(location, _utc_midnight(start), _utc_midnight(end), now):
        by_day[hour.instant.astimezone(timezone.utc).date()].append(hour)
    out = {
        day: DailyTemperature(day, sum(h.celsius for h in hours) / 24,
                              "observed" if all(h.kind == "observed" for h in hours) else "forecast")
        for day, hours in by_day.items() if len(hours) == 24  # a partial day's mean is biased
    }
    # Past the provider's horizon the best estimate is the time of year's normal; gaps before it stay gaps.
    first_unknown = max(start, max(out, default=now.astimezone(timezone.utc).date() - timedelta(days=1))
                        + timedelta(days=1))
    for offset in range((end - first_unknown).days):
        day = first_unknown + timedelta(days=offset)
        out[day] = DailyTemperature(day, seasonal_normal(location, day), "normal")
    return out


def daily_means(provider: TemperatureProvider, location: str, start: date, end: date,
                now: datetime) -> dict[date, DailyTemperature]:
    """Daily mean temperature for UTC days in [start, end) at ``location`` or :data:`UK_COMPOSITE`.

    Days with fewer than 24 hours of data are left out; days after the last one
    the provider covers get the seasonal normal. A composite day is the mean of
    its locations and is present only when every location has it.
    Raises :class:`ProviderError` or :class:`UnknownLocation`.
    """
    if location.strip().upper() != UK_COMPOSITE:
        return _location_daily_means(provider, location, start, end, now)
    parts = [_location_daily_means(provider, place, start, end, now) for place in UK_COMPOSITE_LOCATIONS]
    kind_rank: dict[DailyKind, int] = {"observed": 0, "forecast": 1, "normal": 2}
    out = {}
    for day in set.intersection(*(set(p) for p in parts)):
        days = [p[day] for p in parts]
        out[day] = DailyTemperature(day, sum(d.celsius for d in days) / len(days),
                                    max((d.kind for d in days), key=kind_rank.__getitem__))
    return dict(sorted(out.items()))
