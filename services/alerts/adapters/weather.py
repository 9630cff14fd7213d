"""Daily mean temperatures for High Bill projections, from the shared providers.

Projections use the UK composite location: a site's weather location lives in
portfolio's directory, the supply-point read model does not carry it, and
reading portfolio's tables would cross a service boundary.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime

from shared.weather import UK_COMPOSITE, ProviderError, TemperatureProvider, daily_means

log = logging.getLogger(__name__)

DailyTemperatures = Callable[[date, date, datetime], Mapping[date, float]]
"""Daily means (Celsius) for days in [start, end) as known at ``now``; raises :class:`LookupError` when unavailable."""


class WeatherUnavailable(LookupError):
    pass


class CompositeTemperatures:
    """UK composite daily means: observed, then forecast, then seasonal normal."""

    def __init__(self, provider: TemperatureProvider):
        self._provider = provider

    def __call__(self, start: date, end: date, now: datetime) -> dict[date, float]:
        try:
            means = daily_means(self._provider, UK_COMPOSITE, start, end, now)
        except (ProviderError, ValueError) as exc:  # ValueError: unknown location or outside the modelled span
            raise WeatherUnavailable(str(exc)) from exc
        return {day: t.celsius for day, t in means.items()}


def fetch(source: DailyTemperatures | None, start: date, end: date, now: datetime) -> Mapping[date, float] | None:
    """The source's temperatures, or ``None`` (projections go unadjusted) when it has none."""
    if source is None:
        return None
    try:
        return source(start, end, now)
    except LookupError as exc:
        log.warning("no temperatures for %s..%s, projecting without weather adjustment: %s", start, end, exc)
        return None
