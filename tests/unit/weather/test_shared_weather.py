"""Daily means from the shared temperature providers: whole days only,
observed then forecast then seasonal normal, and the UK composite."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from shared.weather import (
    UK_COMPOSITE_LOCATIONS, HourlyTemperature, OpenMeteoProvider, ProviderError, ReferenceProvider,
    UnknownLocation, daily_means, seasonal_normal,
)

UTC = timezone.utc
NOW = datetime(2024, 1, 20, 9, 30, tzinfo=UTC)


class Fixed:
    """Hours at a constant temperature per location, up to a horizon."""

    name = "fixed"

    def __init__(self, celsius: dict[str, float], horizon: datetime):
        self.celsius, self.horizon, self.calls = celsius, horizon, []

    def hourly(self, location, start, end, now):
        self.calls.append(location)
        if location not in self.celsius:
            raise UnknownLocation(location)
        hours = int((min(end, self.horizon) - start) / timedelta(hours=1))
        return [HourlyTemperature(start + timedelta(hours=h), self.celsius[location],
                                  "observed" if start + timedelta(hours=h) < now else "forecast")
                for h in range(hours)]


def test_days_are_observed_then_forecast_then_normal():
    means = daily_means(ReferenceProvider(), "Leeds", date(2024, 1, 10), date(2024, 2, 20), NOW)
    assert list(means) == [date(2024, 1, 10) + timedelta(days=i) for i in range(41)]
    kinds = [m.kind for m in means.values()]
    # 20 Jan mixes observed and forecast hours; the forecast ends part-way through the 27th.
    assert kinds.index("forecast") == 10 and kinds.index("normal") == 17 and kinds.count("forecast") == 7
    assert means[date(2024, 2, 19)].celsius == pytest.approx(seasonal_normal("Leeds", date(2024, 2, 19)))
    assert all(-15 < m.celsius < 15 for m in means.values())


def test_uk_composite_is_the_mean_of_its_locations():
    provider = Fixed({place: float(i) for i, place in enumerate(UK_COMPOSITE_LOCATIONS)}, NOW + timedelta(days=3))
    means = daily_means(provider, "uk", date(2024, 1, 18), date(2024, 1, 22), NOW)
    assert sorted(provider.calls) == sorted(UK_COMPOSITE_LOCATIONS)
    assert [m.celsius for m in means.values()] == [pytest.approx((len(UK_COMPOSITE_LOCATIONS) - 1) / 2)] * 4
    assert [m.kind for m in means.values()] == ["observed", "observed", "forecast", "forecast"]


def test_partial_days_before_the_horizon_are_gaps_not_guesses():
    class Gappy(Fixed):
        def hourly(self, location, start, end, now):
            return [h for h in super().hourly(location, start, end, now) if h.instant.hour != 3]

    means = daily_means(Gappy({"London": 5.0}, NOW), "London", date(2024, 1, 18), date(2024, 1, 22), NOW)
    # Every day is missing an hour: nothing is observed, so the normal only starts from today.
    assert {d: m.kind for d, m in means.items()} == {date(2024, 1, 20): "normal", date(2024, 1, 21): "normal"}


def test_unknown_locations_and_provider_errors_propagate():
    with pytest.raises(UnknownLocation):
        daily_means(ReferenceProvider(), "Atlantis", date(2024, 1, 1), date(2024, 1, 2), NOW)
    failing = OpenMeteoProvider(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))))
    with pytest.raises(ProviderError):
        daily_means(failing, "UK", date(2024, 1, 1), date(2024, 1, 2), NOW)


def test_open_meteo_is_not_asked_beyond_its_forecast_range():
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"hourly": {"time": [], "temperature_2m": []}})

    provider = OpenMeteoProvider(httpx.Client(transport=httpx.MockTransport(handler)))
    provider.hourly("London", datetime(2024, 1, 6, tzinfo=UTC), datetime(2024, 2, 21, tzinfo=UTC), NOW)
    assert requests[0].url.params["end_date"] == "2024-02-04"  # today + 15: the 16th forecast day
