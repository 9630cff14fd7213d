"""High Bill projections adjusted for weather through an injected temperature
source: a colder rest of the period raises the projection into an alert, and
missing temperatures fall back to an unadjusted projection with a recorded note."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from services.alerts import evaluation
from services.alerts.adapters import highbill as store
from services.alerts.adapters.weather import CompositeTemperatures, WeatherUnavailable
from services.alerts.highbill import run_day, threshold_settings
from shared.weather import ReferenceProvider
from tests.integration.test_alerts_high_bill import ALEX, POWER, api, build
from tests.integration.test_alerts_trackers import days, read

pytestmark = pytest.mark.integration

AS_OF = date(2024, 10, 21)
NOW = datetime(2024, 10, 21, 6, tzinfo=timezone.utc)


def colder_ahead(start: date, end: date, now: datetime) -> dict[date, float]:
    """5 heating degree-days a day so far, 10 from today: twice the heating ahead."""
    return {d: 10.5 if d < AS_OF else 5.5 for d in days(start, end)}


def unavailable(start: date, end: date, now: datetime) -> dict[date, float]:
    raise WeatherUnavailable("provider down")


def gappy(start: date, end: date, now: datetime) -> dict[date, float]:
    return {d: t for d, t in colder_ahead(start, end, now).items() if d != date(2024, 10, 25)}


@pytest.fixture
def world(settings):
    # A year at 0.25 kWh per half hour, then October 20% up: within the 30% default unadjusted.
    ctx, app = build(settings)
    with ctx.engine.begin() as conn:
        evaluation.on_reads(conn, [read(POWER, d, 0.25) for d in days(date(2023, 9, 1), date(2024, 10, 1))]
                            + [read(POWER, d, 0.3) for d in days(date(2024, 10, 1), AS_OF)], AS_OF, NOW)
    yield ctx, app
    ctx.engine.dispose()


def decide(ctx, weather):
    summary = run_day(ctx.engine, AS_OF, threshold_settings(ctx.settings), NOW, weather)
    with ctx.engine.connect() as conn:
        return summary, store.latest_decision(conn, "A1")


def test_colder_rest_of_period_raises_the_projection_into_an_alert(world, settings):
    ctx, app = world
    _, plain = decide(ctx, None)
    assert (plain.reason, plain.weather_factor, plain.weather_note) == ("below_threshold", 1.0, "no_temperatures")

    summary, colder = decide(ctx, colder_ahead)
    assert colder.reason == "alert" and summary["notifications"] == 1
    assert (colder.weather_factor, colder.weather_note) == (pytest.approx(2.0), "adjusted")
    # 20 days at 0.3 so far, then 11 days (530 reads, clocks go back on the 27th) at twice 0.3.
    assert colder.projected_usage == pytest.approx(0.3 * 48 * 20 + 0.3 * 530 * 2)
    assert plain.projected_usage == pytest.approx(0.3 * (48 * 31 + 2))
    shown = api(app, ALEX, settings).get("/api/v1/high-bill/accounts/A1").json()
    assert (shown["weather_factor"], shown["weather_note"]) == (pytest.approx(2.0), "adjusted")


@pytest.mark.parametrize(("source", "note"), [(unavailable, "no_temperatures"), (gappy, "missing_temperatures")])
def test_missing_temperatures_project_unadjusted_with_a_note(world, source, note):
    ctx, _ = world
    summary, decision = decide(ctx, source)
    assert (decision.reason, decision.weather_factor, decision.weather_note) == ("below_threshold", 1.0, note)
    assert decision.projected_usage == pytest.approx(0.3 * (48 * 31 + 2)) and summary["notifications"] == 0


def test_the_service_default_uk_composite_source_is_used_end_to_end(world):
    ctx, _ = world
    _, decision = decide(ctx, CompositeTemperatures(ReferenceProvider()))
    # Late October: the reference climate needs heating, so the factor comes from the temperatures.
    assert decision.weather_note == "adjusted" and 0.5 <= decision.weather_factor <= 2.0
