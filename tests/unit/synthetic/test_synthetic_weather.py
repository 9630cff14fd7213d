"""Synthetic weather: deterministic, seasonal, diurnal, persistent, forecasts that degrade with lead time."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from shared.synthetic import weather

UTC = timezone.utc


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _monthly_means(location: str) -> dict[int, float]:
    start, end = date(2000, 1, 1), date(2030, 1, 1)
    daily = weather.daily_mean_temperatures(location, start, end)
    months = np.array([(start + timedelta(days=i)).month for i in range(len(daily))])
    return {m: float(daily[months == m].mean()) for m in range(1, 13)}


def test_repeated_and_overlapping_calls_agree() -> None:
    a = weather.hourly_temperature("London", _utc(2024, 1, 1), _utc(2024, 3, 1))
    b = weather.hourly_temperature("London", _utc(2024, 1, 1), _utc(2024, 3, 1))
    c = weather.hourly_temperature("london", _utc(2024, 2, 1), _utc(2024, 2, 2))
    assert a == b
    assert c == [pair for pair in a if _utc(2024, 2, 1) <= pair[0] < _utc(2024, 2, 2)]


def test_list_and_numpy_variants_agree() -> None:
    instants, celsius = weather.hourly_temperature_array("Leeds", _utc(2024, 5, 1), _utc(2024, 5, 3))
    pairs = weather.hourly_temperature("Leeds", _utc(2024, 5, 1), _utc(2024, 5, 3))
    assert [p[0] for p in pairs] == [i.astype(datetime).replace(tzinfo=UTC) for i in instants]
    assert [p[1] for p in pairs] == celsius.tolist()


@pytest.mark.parametrize(
    ("start", "end", "count", "first"),
    [
        (_utc(2024, 1, 1), _utc(2025, 1, 1), 8784, _utc(2024, 1, 1)),  # leap year, every hour
        (_utc(2023, 1, 1), _utc(2024, 1, 1), 8760, _utc(2023, 1, 1)),
        (_utc(2024, 1, 1, 0, 30), _utc(2024, 1, 1, 3), 2, _utc(2024, 1, 1, 1)),  # starts on the next whole hour
        (_utc(2024, 1, 2), _utc(2024, 1, 1), 0, None),
    ],
)
def test_hourly_series_covers_whole_hours_in_half_open_range(start, end, count, first) -> None:
    series = weather.hourly_temperature("Bristol", start, end)
    assert len(series) == count
    assert (series[0][0] if series else None) == first
    assert all(b[0] - a[0] == timedelta(hours=1) for a, b in zip(series, series[1:]))


@pytest.mark.parametrize("location", ["London", "Manchester", "Glasgow", "Birmingham", "Bristol", "Leeds"])
def test_seasonal_cycle_cold_january_warm_july(location: str) -> None:
    means = _monthly_means(location)
    assert 2.0 <= means[1] <= 6.5
    assert 14.0 <= means[7] <= 19.5
    assert min(means, key=means.get) in (1, 2, 12)
    assert max(means, key=means.get) in (7, 8)


def test_location_offsets_make_glasgow_colder_than_london() -> None:
    london, glasgow = _monthly_means("London"), _monthly_means("Glasgow")
    assert sum(london.values()) / 12 > sum(glasgow.values()) / 12 + 1.0


def test_afternoons_are_warmer_than_dawn() -> None:
    instants, celsius = weather.hourly_temperature_array("Birmingham", _utc(2024, 1, 1), _utc(2025, 1, 1))
    hours = instants.astype("datetime64[h]").astype(np.int64) % 24
    assert celsius[hours == 14].mean() > celsius[hours == 4].mean() + 3.0


def test_day_to_day_weather_persists() -> None:
    daily = weather.daily_mean_temperatures("Manchester", date(2000, 1, 1), date(2020, 1, 1))
    deseasonalised = daily - np.convolve(daily, np.ones(31) / 31, mode="same")
    trimmed = deseasonalised[31:-31]
    lag1 = np.corrcoef(trimmed[:-1], trimmed[1:])[0, 1]
    assert lag1 > 0.5
    assert trimmed.std() > 1.0  # there is weather, not just a climate curve


def test_daily_mean_is_the_mean_of_the_utc_day() -> None:
    hourly = weather.hourly_temperature("Glasgow", _utc(2024, 2, 3), _utc(2024, 2, 4))
    expected = sum(t for _, t in hourly) / 24
    assert weather.daily_mean_temperature("Glasgow", date(2024, 2, 3)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: weather.hourly_temperature("Atlantis", _utc(2024, 1, 1), _utc(2024, 1, 2)), "unknown weather location"),
        (lambda: weather.hourly_temperature("London", datetime(2024, 1, 1), _utc(2024, 1, 2)), "timezone-aware"),
        (lambda: weather.hourly_temperature("London", _utc(1980, 1, 1), _utc(1980, 1, 2)), "modelled"),
        (lambda: weather.daily_mean_temperature("London", date(2061, 1, 1)), "modelled"),
    ],
)
def test_bad_requests_are_refused_not_guessed(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_forecast_is_hourly_from_issue_time_and_deterministic() -> None:
    issued = _utc(2024, 6, 1, 9, 30)
    first = weather.forecast("London", issued)
    assert len(first) == 168
    assert first[0][0] == _utc(2024, 6, 1, 10)
    assert first == weather.forecast("London", issued)
    assert len(weather.forecast("London", issued, hours=24)) == 24


def test_forecast_error_grows_with_lead_time() -> None:
    early, late = [], []
    for offset in range(0, 720, 7):
        issued = _utc(2023, 1, 1) + timedelta(days=offset)
        truth = [t for _, t in weather.hourly_temperature("Leeds", issued, issued + timedelta(hours=168))]
        predicted = [t for _, t in weather.forecast("Leeds", issued)]
        errors = np.abs(np.array(predicted) - np.array(truth))
        early.append(errors[:12].mean())
        late.append(errors[-24:].mean())
    assert np.mean(early) < 1.0
    assert np.mean(late) > 2 * np.mean(early)
