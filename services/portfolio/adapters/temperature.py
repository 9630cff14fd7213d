"""Hourly temperature for a site's weather location: the shared providers
(``shared.weather``), re-exported under portfolio's adapter name."""
from __future__ import annotations

from shared.weather import (
    COORDINATES, FORECAST_HOURS, HourlyTemperature, Kind, OpenMeteoProvider, ProviderError, ReferenceProvider,
    TemperatureProvider, UnknownLocation, provider_for,
)

__all__ = [
    "COORDINATES", "FORECAST_HOURS", "HourlyTemperature", "Kind", "OpenMeteoProvider", "ProviderError",
    "ReferenceProvider", "TemperatureProvider", "UnknownLocation", "provider_for",
]
