"""Hourly temperature for a site's weather location, observed and forecast,
behind a provider interface.

``reference`` (the default) is the embedded offline dataset of
``shared.synthetic.weather``; ``open-meteo`` calls the Open-Meteo forecast API.
Hours before ``now`` are observations, later ones forecast.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, Protocol

import httpx

from shared.synthetic import weather

log = logging.getLogger(__name__)

Kind = Literal["observed", "forecast"]
FORECAST_HOURS = 7 * 24


@dataclass(frozen=True)
class HourlyTemperature:
    instant: datetime
    celsius: float
    kind: Kind


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
