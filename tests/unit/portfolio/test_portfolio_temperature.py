"""Temperature providers: the embedded reference dataset and the Open-Meteo
adapter against a recorded response (no network)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from services.portfolio.adapters.temperature import (
    OpenMeteoProvider, ProviderError, ReferenceProvider, UnknownLocation, provider_for,
)

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "portfolio" / "open_meteo_forecast_london_2024-01-15.json"
UTC = timezone.utc


def replay(requests: list[httpx.Request], status: int = 200, body: bytes | None = None) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, content=RECORDED.read_bytes() if body is None else body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_open_meteo_parses_recorded_response_and_splits_observed_from_forecast():
    requests: list[httpx.Request] = []
    provider = OpenMeteoProvider(replay(requests))
    start, end = datetime(2024, 1, 15, 6, tzinfo=UTC), datetime(2024, 1, 16, 6, tzinfo=UTC)
    hours = provider.hourly("london", start, end, now=datetime(2024, 1, 15, 12, 30, tzinfo=UTC))
    recorded = json.loads(RECORDED.read_text())["hourly"]
    assert len(hours) == 24 and hours[0].instant == start
    assert hours[0].celsius == recorded["temperature_2m"][6]
    assert [h.kind for h in hours].count("observed") == 6  # 06:00 .. 11:00
    params = requests[0].url.params
    assert params["hourly"] == "temperature_2m" and params["timezone"] == "UTC"
    assert (params["start_date"], params["end_date"]) == ("2024-01-15", "2024-01-16")
    assert float(params["latitude"]) == pytest.approx(51.5074)


@pytest.mark.parametrize("status,body", [(500, b"oops"), (200, b'{"error": true, "reason": "bad"}'), (200, b"not json")])
def test_open_meteo_failures_are_provider_errors(status, body):
    provider = OpenMeteoProvider(replay([], status, body))
    with pytest.raises(ProviderError):
        provider.hourly("London", datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 1, 16, tzinfo=UTC),
                        now=datetime(2024, 1, 15, tzinfo=UTC))


def test_reference_provider_observed_then_a_week_of_forecast():
    now = datetime(2024, 3, 10, 9, 20, tzinfo=UTC)
    hours = ReferenceProvider().hourly("Leeds", now - timedelta(days=1), now + timedelta(days=10), now)
    kinds = [h.kind for h in hours]
    assert kinds.count("forecast") == 7 * 24 and kinds.index("forecast") == kinds.count("observed")
    assert hours[kinds.index("forecast")].instant == datetime(2024, 3, 10, 9, tzinfo=UTC)
    assert all(-20 < h.celsius < 35 for h in hours)
    with pytest.raises(UnknownLocation):
        ReferenceProvider().hourly("Atlantis", now, now + timedelta(hours=2), now)


def test_provider_chosen_by_name():
    assert provider_for("reference").name == "reference"
    assert provider_for("open-meteo").name == "open-meteo"
    with pytest.raises(ValueError):
        provider_for("nope")
